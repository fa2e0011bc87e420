from __future__ import annotations

import csv
import io
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import RuleViolation
from domain.registry.bazhong import CARBON_T_C, FOREST_AREA_MU, MIN_ROWS, TOWNSHIPS, synthesize
from domain.registry.carbon import co2e_from_carbon, parcel_stock
from domain.registry.inventory import (
    COLUMNS,
    CarbonFactors,
    ColumnsBuilder,
    InventoryRowError,
    check_header,
    compute_stock,
    parse_row,
    row_carbon,
)
from domain.registry.methodology import DEFAULT_METHODOLOGY, Methodology

FACTORS = CarbonFactors.of(DEFAULT_METHODOLOGY)
GOOD_ROW = dict(
    zip(
        COLUMNS,
        ["TJ-03-012-07", "TJ", "通江县", "沙溪镇", "青林村", "masson_pine", "27", "35.40", "9.875"],
        strict=True,
    )
)


def test_factors_are_the_exact_species_products_scaled_to_integers() -> None:
    assert FACTORS.species == ("chinese_fir", "cypress", "masson_pine", "oak")
    assert FACTORS.factor_places == 12
    assert FACTORS.factors[FACTORS.index("masson_pine")] == 305_421_747_200
    assert FACTORS.unit_places == 17


@pytest.mark.parametrize(("rows", "seed"), [(MIN_ROWS, 1), (1000, 2), (20_000, 3)])
def test_synthetic_bazhong_totals_match_the_published_figures(rows: int, seed: int) -> None:
    inventory = synthesize(FACTORS, rows, seed)
    total = compute_stock(inventory.columns, FACTORS).total
    assert len(inventory.columns) == rows
    assert total.area_mu == Decimal(FOREST_AREA_MU)  # 11,626,000.00 mu exactly
    assert abs(total.carbon_t_c - CARBON_T_C) < Decimal("0.0005")  # within half a kilogram of 34,180,440 t C
    assert total.carbon_t_c.quantize(Decimal("0.001")) == Decimal("34180440.000")
    assert (total.carbon_t_c / total.area_mu).quantize(Decimal("0.0000001")) == Decimal("2.94")
    assert total.co2e_t.quantize(Decimal(1)) == 125_328_280  # 34,180,440 x 44/12


def test_the_shape_is_plausible_and_deterministic() -> None:
    inventory = synthesize(FACTORS, 5000, 11)
    rows = list(inventory.csv_rows())
    assert rows == list(synthesize(FACTORS, 5000, 11).csv_rows())
    assert rows != list(synthesize(FACTORS, 5000, 12).csv_rows())
    assert len({row[0] for row in rows}) == 5000
    totals = compute_stock(inventory.columns, FACTORS)
    districts = {line.district: line.area_mu for line in totals.by_district()}
    assert districts == {
        "BZ": Decimal(1_395_120),
        "EY": Decimal(1_046_340),
        "TJ": Decimal(3_952_840),
        "NJ": Decimal(3_371_540),
        "PC": Decimal(1_860_160),
    }
    assert {line.species for line in totals.by_species()} == set(FACTORS.species)
    for row in rows:
        assert row[3] in TOWNSHIPS[row[1]]
        assert row[4].endswith("村")
        assert 3 <= int(row[6]) <= 80
        assert Decimal("0.6") <= Decimal(row[7])
        assert Decimal(0) < Decimal(row[8]) < Decimal(60)
    # Mountain counties carry more oak than the hills of Enyang.
    by_group = {(line.district, line.species): line.area_mu for line in totals.by_district_and_species()}
    assert by_group[("NJ", "oak")] / districts["NJ"] > 2 * by_group[("EY", "oak")] / districts["EY"]


def test_the_integer_path_equals_the_decimal_path_digit_for_digit() -> None:
    inventory = synthesize(FACTORS, 3000, 5)
    exact: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    per_row: list[Decimal] = []
    for row in inventory.csv_rows():
        stock = parcel_stock(Decimal(row[7]), Decimal(row[8]), DEFAULT_METHODOLOGY.parameters_for(row[5]))
        exact[(row[1], row[5])] += stock.carbon_t
        per_row.append(stock.carbon_t)
    totals = compute_stock(inventory.columns, FACTORS)
    fast = {(line.district, line.species): line.carbon_t_c for line in totals.by_district_and_species()}
    assert fast == exact
    assert [Decimal(units).scaleb(-FACTORS.unit_places) for units in row_carbon(inventory.columns, FACTORS)] == per_row
    assert totals.total.carbon_t_c == sum(per_row, Decimal(0))
    assert totals.total.co2e_t == co2e_from_carbon(sum(per_row, Decimal(0)))


def test_factors_follow_a_methodology_with_more_decimals() -> None:
    data = DEFAULT_METHODOLOGY.as_dict() | {"version": 2}
    data["species"] = [item | {"carbon_fraction": "0.4712"} for item in data["species"]]
    factors = CarbonFactors.of(Methodology.from_dict(data))
    assert factors.factor_places == 13
    builder = ColumnsBuilder(factors)
    builder.add(GOOD_ROW, 2)
    line = compute_stock(builder.columns, factors).total
    assert line.carbon_t_c == Decimal("35.40") * Decimal("9.875") * Decimal("0.380") * Decimal("1.472") * Decimal(
        "1.187"
    ) * Decimal("0.4712")


def test_a_csv_round_trip_gives_the_same_stock() -> None:
    inventory = synthesize(FACTORS, 1000, 9)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(COLUMNS)
    writer.writerows(inventory.csv_rows())
    reader = csv.DictReader(io.StringIO(text.getvalue()))
    check_header(reader.fieldnames)
    builder = ColumnsBuilder(FACTORS)
    for line, row in enumerate(reader, start=2):
        builder.add(row, line)
    assert compute_stock(builder.columns, FACTORS) == compute_stock(inventory.columns, FACTORS)


def test_a_good_row_parses() -> None:
    item = parse_row(GOOD_ROW, 2, FACTORS.species)
    assert (item.area_centi_mu, item.volume_milli_m3_per_mu, item.age_years) == (3540, 9875, 27)
    assert (
        parse_row(GOOD_ROW | {"district": "Tongjiang", "district_code": "tj"}, 2, FACTORS.species).district == "通江县"
    )


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("subcompartment_id", "", "is empty"),
        ("subcompartment_id", "TJ 03", "may hold only"),
        ("district_code", "CD", "is not one of BZ, EY, TJ, NJ, PC"),
        ("district", "南江县", "does not match code TJ"),
        ("species", "teak", "has no parameters"),
        ("age_years", "-3", "is not a whole number"),
        ("age_years", "12.5", "is not a whole number"),
        ("area_mu", "35.401", "more than 2 decimals"),
        ("area_mu", "0", "is outside 0.01-1000000"),
        ("area_mu", "abc", "is not a number"),
        ("area_mu", "1e3", "is not a plain decimal"),
        ("area_mu", "NaN", "is not a plain decimal"),
        ("volume_m3_per_mu", "9.8755", "more than 3 decimals"),
        ("volume_m3_per_mu", "-1", "is outside 0-200"),
        ("volume_m3_per_mu", "201", "is outside 0-200"),
        ("township", " ", "is empty"),
        ("village", "村" * 65, "longer than 64"),
    ],
)
def test_a_bad_row_names_its_line_and_field(column: str, value: str, message: str) -> None:
    with pytest.raises(InventoryRowError, match=message) as caught:
        parse_row(GOOD_ROW | {column: value}, 17, FACTORS.species)
    assert (caught.value.line, caught.value.column) == (17, column)
    assert caught.value.detail.startswith(f"line 17, field {column}: ")
    assert caught.value.code == "invalid_inventory_row"


def test_extra_fields_repeated_ids_and_bad_headers_are_named() -> None:
    row: dict[Any, Any] = GOOD_ROW | {None: ["surplus"]}
    with pytest.raises(InventoryRowError, match="line 3, field row: has more fields"):
        parse_row(row, 3, FACTORS.species)
    builder = ColumnsBuilder(FACTORS)
    builder.add(GOOD_ROW, 2)
    with pytest.raises(InventoryRowError, match="line 9, field subcompartment_id: TJ-03-012-07 repeats line 2"):
        builder.add(GOOD_ROW, 9)
    assert len(builder.columns) == 1
    check_header(list(COLUMNS))
    with pytest.raises(InventoryRowError, match="line 1, field header: missing area_mu; unknown areal"):
        check_header([name if name != "area_mu" else "areal" for name in COLUMNS])
    with pytest.raises(InventoryRowError, match="repeated"):
        check_header([*COLUMNS, "species"])
    with pytest.raises(InventoryRowError, match="missing subcompartment_id"):
        check_header(None)


def test_row_counts_out_of_range_are_refused() -> None:
    with pytest.raises(RuleViolation, match="rows must be 200-5,000,000"):
        synthesize(FACTORS, 199, 1)
