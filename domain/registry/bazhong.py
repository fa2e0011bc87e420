"""A synthetic sub-compartment inventory shaped like Bazhong, whose totals hit the published figures.

Published (DOMAIN.md, source paper): 11.626 million mu of forest at 2.94 t C per mu on average, so
11,626,000 x 2.94 = 34,180,440 t C (t C, not CO2; t CO2e = t C x 44/12). The generator makes the area sum exactly
1,162,600,000 centi-mu and the carbon sum equal to 34,180,440 t C within 0.5 kg (the exact total, rounded half up to
the kilogram, is 34,180,440.000 t C; the average is 2.94 t C per mu to 7 decimals).

How: district forest areas by plausible shares; rows per district in proportion; row areas from a skewed integer
draw with a floor of 0.6 mu, allotted by cumulative rounding so each district's sum is exact; species by a
district mix (pine and cypress in the low hills of Bazhou, Enyang and Pingchang, fir and oak in the Daba mountains of
Tongjiang and Nanjiang); ages from a triangular draw; volume per mu from a growth curve by species and age with
+-40 % noise. Then every volume is scaled so the carbon total is right to the rounding of each volume (0.001 m3/mu),
and the remaining difference is closed greedily, largest rows first, moving each volume by at most 2 % (and at least
one unit), down to a ladder of small sub-compartments at the head of each district (0.6, 1.5, 3.75 ... mu); the
0.6 mu one moves by less than 0.4 kg C per unit.

Deterministic for a seed on any platform: only ``random.Random`` integer draws, ``triangular`` (IEEE arithmetic and
a square root, both exactly specified), and a growth table computed with ``Decimal.exp`` (correctly rounded).
District shares, township names and village names are plausible stand-ins, not survey data.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Context, Decimal

from domain.errors import RuleViolation
from domain.registry.inventory import (
    AREA_PLACES,
    DISTRICTS,
    VOLUME_PLACES,
    CarbonFactors,
    InventoryColumns,
)

FOREST_AREA_MU = 11_626_000
CARBON_T_C_PER_MU = Decimal("2.94")
CARBON_T_C = 34_180_440  # FOREST_AREA_MU x 2.94
MIN_ROWS, MAX_ROWS = 200, 5_000_000
MIN_AREA_CENTI_MU = 60  # 0.6 mu = 400 m2, the smallest eligible parcel

# Per mille of the city's forest area, in DISTRICTS order (BZ, EY, TJ, NJ, PC).
FOREST_SHARE_PER_MILLE = (120, 90, 340, 290, 160)
# Species weights per district, in the methodology's species order (chinese_fir, cypress, masson_pine, oak).
SPECIES_MIX = {
    "BZ": {"masson_pine": 40, "chinese_fir": 15, "cypress": 35, "oak": 10},
    "EY": {"masson_pine": 40, "chinese_fir": 10, "cypress": 40, "oak": 10},
    "TJ": {"masson_pine": 35, "chinese_fir": 25, "cypress": 15, "oak": 25},
    "NJ": {"masson_pine": 25, "chinese_fir": 30, "cypress": 10, "oak": 35},
    "PC": {"masson_pine": 40, "chinese_fir": 15, "cypress": 35, "oak": 10},
}
# Growth curve V(age) = top x (1 - exp(-rate x age))**3 in m3 per mu, and (youngest, oldest, most common) ages.
GROWTH = {
    "masson_pine": (Decimal(14), Decimal("0.06"), (3, 60, 22)),
    "chinese_fir": (Decimal(16), Decimal("0.08"), (3, 45, 18)),
    "cypress": (Decimal(10), Decimal("0.05"), (5, 70, 28)),
    "oak": (Decimal(11), Decimal("0.05"), (5, 80, 30)),
}
TOWNSHIPS = {
    "BZ": ("曾口镇", "化成镇", "清江镇", "梁永镇", "大茅坪镇", "水宁寺镇", "三江镇", "光辉镇"),
    "EY": ("柳林镇", "玉山镇", "渔溪镇", "下八庙镇", "三河场镇", "群乐镇", "茶坝镇", "观音井镇"),
    "TJ": ("诺江镇", "沙溪镇", "至诚镇", "铁佛镇", "毛浴镇", "涪阳镇", "洪口镇", "陈河镇", "广纳镇", "民胜镇"),
    "NJ": ("南江镇", "光雾山镇", "长赤镇", "下两镇", "赶场镇", "八庙镇", "沙河镇", "关坝镇", "桥亭镇", "正直镇"),
    "PC": ("江口镇", "驷马镇", "白衣镇", "岳家镇", "得胜镇", "佛楼镇", "云台镇", "土兴镇"),
}
VILLAGES_PER_TOWNSHIP = 12
_VILLAGE_FIRST = "青白石龙金桃柏松红清双高马凤黄新"
_VILLAGE_SECOND = "林山溪坪岩河湾坝岭垭"
SUBCOMPARTMENTS_PER_COMPARTMENT = 40  # 小班 per 林班 in the generated ids


def village_name(township: int, village: int) -> str:
    """Unique within a township: 3 is coprime to 16, so the first character differs for villages 1-12."""
    first = _VILLAGE_FIRST[(township * 5 + village * 3) % len(_VILLAGE_FIRST)]
    return f"{first}{_VILLAGE_SECOND[(township + village * 7) % len(_VILLAGE_SECOND)]}村"


def _growth_table(top: Decimal, rate: Decimal, oldest: int) -> list[int]:
    context = Context(prec=30)
    scale = 10**VOLUME_PLACES
    return [
        int(context.multiply(top * scale, context.power(1 - context.exp(-rate * age), 3))) for age in range(oldest + 1)
    ]


@dataclass
class SyntheticInventory:
    factors: CarbonFactors
    columns: InventoryColumns
    age: array[int]
    township: array[int]  # index into TOWNSHIPS[district code]
    village: array[int]  # 1..VILLAGES_PER_TOWNSHIP
    residual_units: int  # target carbon minus the total, in carbon units (|residual| < 0.5 kg)

    def csv_rows(self) -> Iterator[tuple[str, ...]]:
        """Rows in ``inventory.COLUMNS`` order, as strings; ids unique (township, compartment, sub-compartment)."""
        counters: dict[tuple[int, int], int] = {}
        columns = self.columns
        area_scale, volume_scale = 10**AREA_PLACES, 10**VOLUME_PLACES
        for row in range(len(columns)):
            district = DISTRICTS[columns.district[row]]
            township = self.township[row]
            number = counters.get((columns.district[row], township), 0)
            counters[(columns.district[row], township)] = number + 1
            compartment, sub = divmod(number, SUBCOMPARTMENTS_PER_COMPARTMENT)
            area, volume = columns.area[row], columns.volume[row]
            yield (
                f"{district.code}-{township + 1:02d}-{compartment + 1:03d}-{sub + 1:02d}",
                district.code,
                district.name_zh,
                TOWNSHIPS[district.code][township],
                village_name(township, self.village[row]),
                self.factors.species[columns.species[row]],
                str(self.age[row]),
                f"{area // area_scale}.{area % area_scale:0{AREA_PLACES}d}",
                f"{volume // volume_scale}.{volume % volume_scale:0{VOLUME_PLACES}d}",
            )


def _ladder(typical: int, count: int) -> list[int]:
    """Areas (centi-mu) 0.6 mu, 1.5 mu, 3.75 mu, ... (x 2.5) up to half a typical row, at most half the rows.

    The carbon fix-up moves a row's volume by 0.001 m3/mu at a time; sizes without big gaps between them let it
    close the total from tonnes down to grams, whatever the row count.
    """
    ladder = [MIN_AREA_CENTI_MU]
    while ladder[-1] * 5 // 2 <= typical // 2 and len(ladder) < count // 2:
        ladder.append(ladder[-1] * 5 // 2)
    return ladder


def _split(total: int, weights: list[int]) -> list[int]:
    """Integer parts of ``total`` in proportion to ``weights``, summing exactly to ``total`` (cumulative rounding)."""
    whole, running, previous, parts = sum(weights), 0, 0, []
    for weight in weights:
        running += weight
        boundary = total * running // whole
        parts.append(boundary - previous)
        previous = boundary
    return parts


def synthesize(
    factors: CarbonFactors,
    rows: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> SyntheticInventory:
    """Generate ``rows`` sub-compartments; ``progress(n)`` is told of every 50,000 rows drawn."""
    if not MIN_ROWS <= rows <= MAX_ROWS:
        raise RuleViolation(f"rows must be {MIN_ROWS}-{MAX_ROWS:,}, not {rows:,}", code="invalid_input")
    if set(SPECIES_MIX["BZ"]) != set(factors.species):
        raise RuleViolation("the Bazhong synthesis needs exactly the four default species", code="unknown_species")
    rng = random.Random(seed)
    areas_by_district = _split(FOREST_AREA_MU * 10**AREA_PLACES, list(FOREST_SHARE_PER_MILLE))
    # Every district gets at least two rows; the rest follow the area shares.
    rows_by_district = [2 + part for part in _split(rows - 2 * len(DISTRICTS), list(FOREST_SHARE_PER_MILLE))]
    tables = {code: _growth_table(top, rate, GROWTH[code][2][1]) for code, (top, rate, _) in GROWTH.items()}
    columns, ages = InventoryColumns(), array("h")
    townships, villages = array("b"), array("b")
    raw_volume: list[int] = []
    done = 0
    for district_index, (district, count) in enumerate(zip(DISTRICTS, rows_by_district, strict=True)):
        mix = SPECIES_MIX[district.code]
        species_draw = rng.choices(range(len(factors.species)), [mix[code] for code in factors.species], k=count)
        ladder = _ladder(areas_by_district[district_index] // count, count)
        weights = [0] * len(ladder) + [
            rng.randint(1, 60) * rng.randint(1, 30) + rng.randint(0, 40) for _ in range(count - len(ladder))
        ]
        spare = areas_by_district[district_index] - sum(ladder) - MIN_AREA_CENTI_MU * (count - len(ladder))
        if spare < 0:
            raise RuleViolation(f"{rows:,} rows leave less than 0.6 mu per sub-compartment", code="invalid_input")
        floors = ladder + [MIN_AREA_CENTI_MU] * (count - len(ladder))
        extras = _split(spare, weights)
        for position, (floor, area_extra, species) in enumerate(zip(floors, extras, species_draw, strict=True)):
            code = factors.species[species]
            youngest, oldest, common = GROWTH[code][2]
            age = round(rng.triangular(youngest, oldest, common))
            if position < len(ladder):
                age = max(age, 10)  # ladder rows need some volume to move in both directions
            columns.append(district_index, species, floor + area_extra, 0)
            ages.append(age)
            townships.append(rng.randrange(len(TOWNSHIPS[district.code])))
            villages.append(rng.randint(1, VILLAGES_PER_TOWNSHIP))
            raw_volume.append(max(1, tables[code][age] * rng.randint(60, 140) // 100))
            done += 1
            if progress is not None and done % 50_000 == 0:
                progress(done)
    residual = _hit_carbon_target(columns, raw_volume, factors)
    return SyntheticInventory(factors, columns, ages, townships, villages, residual)


def _hit_carbon_target(columns: InventoryColumns, raw_volume: list[int], factors: CarbonFactors) -> int:
    table = factors.factors
    target = CARBON_T_C * int(10**factors.unit_places)
    steps = [area * table[species] for area, species in zip(columns.area, columns.species, strict=True)]
    raw_total = sum(step * volume for step, volume in zip(steps, raw_volume, strict=True))
    volumes = [(2 * volume * target + raw_total) // (2 * raw_total) for volume in raw_volume]
    residual = target - sum(step * volume for step, volume in zip(steps, volumes, strict=True))
    for row in sorted(range(len(steps)), key=steps.__getitem__, reverse=True):
        step = steps[row]
        wanted = (2 * residual + step) // (2 * step)
        if wanted == 0:
            continue
        volume = volumes[row]
        up, down = max(volume // 50, 1), max(volume // 50, 1 if volume > 0 else 0)
        change = min(max(wanted, -down), up)
        volumes[row] = volume + change
        residual -= change * step
    columns.volume = array("q", volumes)
    half_kilogram = 5 * int(10 ** (factors.unit_places - 4))
    if abs(residual) >= half_kilogram:
        raise ArithmeticError(f"could not close the carbon total to the kilogram (left {residual} units)")
    return residual
