"""The carbon stock report of the city's sub-compartment inventory (imported by services/inventory/importer.py) by
district and species, with an SVG chart.

The report sums area x volume per (district, species) in the database (exact numerics) and multiplies each sum by the
species' t C per m3 (D x BEF x (1 + R) x CF) of the methodology version asked for, so it is exact like carbon.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.registry.carbon import EXACT, co2e_from_carbon
from domain.registry.inventory import DISTRICT_CODES, DISTRICTS
from domain.registry.methodology import Methodology
from services.registry.tables import InventorySubCompartment


@dataclass(frozen=True)
class StockRow:
    district_code: str
    district: str
    species: str
    sub_compartments: int
    area_mu: Decimal
    volume_m3: Decimal
    carbon_t_c: Decimal
    co2e_t: Decimal


@dataclass(frozen=True)
class StockReport:
    methodology: dict[str, object]
    rows: list[StockRow]

    def totals_by(self, key: Callable[[StockRow], str]) -> dict[str, tuple[Decimal, Decimal]]:
        carbon: dict[str, Decimal] = {}
        for row in self.rows:
            carbon[key(row)] = carbon.get(key(row), Decimal(0)) + row.carbon_t_c
        return {name: (value, co2e_from_carbon(value)) for name, value in carbon.items()}

    @property
    def total_carbon_t_c(self) -> Decimal:
        return sum((row.carbon_t_c for row in self.rows), Decimal(0))

    @property
    def total_area_mu(self) -> Decimal:
        return sum((row.area_mu for row in self.rows), Decimal(0))


async def stock_report(session: AsyncSession, methodology: Methodology) -> StockReport:
    table = InventorySubCompartment
    grouped = await session.execute(
        select(
            table.district_code,
            table.species,
            func.count(),
            func.sum(table.area_mu),
            func.sum(table.area_mu * table.volume_m3_per_mu),
        )
        .group_by(table.district_code, table.species)
        .order_by(table.district_code, table.species)
    )
    names = {district.code: district.name_zh for district in DISTRICTS}
    rows = []
    for district, species, count, area, volume in grouped:
        carbon = EXACT.multiply(Decimal(volume), methodology.parameters_for(species).carbon_per_m3)
        rows.append(
            StockRow(
                district,
                names[district],
                species,
                int(count),
                Decimal(area),
                Decimal(volume),
                carbon,
                co2e_from_carbon(carbon),
            )
        )
    rows.sort(key=lambda row: (DISTRICT_CODES.index(row.district_code), row.species))
    return StockReport(dict(methodology.reference), rows)


PALETTE = ("#2e7d32", "#81c784", "#8d6e63", "#fbc02d", "#4fc3f7", "#ba68c8")


def stock_chart_svg(report: StockReport) -> str:
    """Horizontal stacked bars: t CO2e per district, one colour per species; written by hand, no plotting library."""
    species = sorted({row.species for row in report.rows})
    districts = [code for code in DISTRICT_CODES if any(row.district_code == code for row in report.rows)]
    by_key = {(row.district_code, row.species): row.co2e_t for row in report.rows}
    totals = {code: sum((by_key.get((code, name), Decimal(0)) for name in species), Decimal(0)) for code in districts}
    largest = max(totals.values(), default=Decimal(0)) or Decimal(1)
    width, left, bar_width, bar_height, gap, top = 900, 150, 600, 34, 16, 70
    height = top + len(districts) * (bar_height + gap) + 60
    names = {d.code: f"{d.name_zh} {d.name_en}" for d in DISTRICTS}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="sans-serif" font-size="13">',
        '<rect width="100%" height="100%" fill="white"/>',
        '<text x="20" y="30" font-size="18" font-weight="bold">'
        "巴中森林碳储量 Bazhong forest carbon stock (t CO2e)</text>",
    ]
    for index, code in enumerate(districts):
        y = top + index * (bar_height + gap)
        parts.append(
            f'<text x="{left - 10}" y="{y + bar_height / 2 + 5}" text-anchor="end">{escape(names[code])}</text>'
        )
        x = float(left)
        for colour, name in zip(PALETTE, species, strict=False):
            value = by_key.get((code, name), Decimal(0))
            span = float(value / largest) * bar_width
            if span > 0:
                parts.append(
                    f'<rect x="{x:.2f}" y="{y}" width="{span:.2f}" height="{bar_height}" fill="{colour}">'
                    f"<title>{escape(name)}: {value:,.0f} t CO2e</title></rect>"
                )
            x += span
        parts.append(f'<text x="{x + 6:.2f}" y="{y + bar_height / 2 + 5}">{totals[code]:,.0f}</text>')
    legend_y = height - 30
    for index, (colour, name) in enumerate(zip(PALETTE, species, strict=False)):
        x = left + index * 150
        parts.append(f'<rect x="{x}" y="{legend_y - 11}" width="14" height="14" fill="{colour}"/>')
        parts.append(f'<text x="{x + 20}" y="{legend_y}">{escape(name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
