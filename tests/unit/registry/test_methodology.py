from __future__ import annotations

from decimal import Decimal

import pytest

from domain.errors import RuleViolation
from domain.registry.methodology import (
    DEFAULT_METHODOLOGY,
    DEFAULT_METHODOLOGY_DATA,
    SPECIES_CODES,
    LandUse,
    Methodology,
    MethodologyRules,
    MethodologyStatus,
    SpeciesParameters,
)


def test_the_default_table_holds_the_domain_values_as_exact_decimals() -> None:
    methodology = DEFAULT_METHODOLOGY
    assert (methodology.code, methodology.version, methodology.status) == (
        "CCER-14-001-V01",
        1,
        MethodologyStatus.ACTIVE,
    )
    assert SPECIES_CODES == ("masson_pine", "chinese_fir", "cypress", "oak")
    pine = methodology.parameters_for("masson_pine")
    assert (pine.name_zh, pine.wood_density, pine.biomass_expansion_factor) == (
        "马尾松",
        Decimal("0.380"),
        Decimal("1.472"),
    )
    assert (pine.root_shoot_ratio, pine.carbon_fraction) == (Decimal("0.187"), Decimal("0.460"))
    assert {code: methodology.parameters_for(code).name_zh for code in SPECIES_CODES} == {
        "masson_pine": "马尾松",
        "chinese_fir": "杉木",
        "cypress": "柏木",
        "oak": "栎类",
    }


@pytest.mark.parametrize(
    ("species", "co2e_per_m3"),
    [("masson_pine", "1.1199"), ("chinese_fir", "1.1917"), ("cypress", "1.8888"), ("oak", "2.1697")],
)
def test_carbon_per_m3_matches_the_domain_table_column(species: str, co2e_per_m3: str) -> None:
    carbon = DEFAULT_METHODOLOGY.parameters_for(species).carbon_per_m3
    assert (carbon * 44 / 12).quantize(Decimal("0.0001")) == Decimal(co2e_per_m3)


def test_exact_carbon_per_m3_values() -> None:
    assert DEFAULT_METHODOLOGY.parameters_for("masson_pine").carbon_per_m3 == Decimal("0.305421747200")
    assert DEFAULT_METHODOLOGY.parameters_for("oak").carbon_per_m3 == Decimal("0.591723080000")


def test_default_rules() -> None:
    rules = DEFAULT_METHODOLOGY.rules
    assert rules.buffer_share == Decimal("0.10")
    assert (rules.uncertainty_threshold, rules.uncertainty_confidence) == (Decimal("0.10"), Decimal("0.90"))
    assert (rules.crediting_period_min_years, rules.crediting_period_max_years) == (20, 40)
    assert rules.min_parcel_area_m2 == 400
    assert rules.afforestation_non_forest_years == 3
    assert rules.excluded_land_uses == {LandUse.ECONOMIC_FOREST, LandUse.WETLAND}


def test_round_trip_through_plain_data() -> None:
    assert Methodology.from_dict(DEFAULT_METHODOLOGY.as_dict()) == DEFAULT_METHODOLOGY
    assert Methodology.from_dict(DEFAULT_METHODOLOGY_DATA) == DEFAULT_METHODOLOGY


def test_unknown_species_is_refused_with_the_known_ones() -> None:
    with pytest.raises(RuleViolation, match="known: chinese_fir, cypress, masson_pine, oak") as caught:
        DEFAULT_METHODOLOGY.parameters_for("eucalyptus")
    assert caught.value.code == "unknown_species"


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError, match="never a float"):
        SpeciesParameters("pine", "松", "pine", 0.38, Decimal(1), Decimal(0), Decimal("0.5"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [{"buffer_share": Decimal(1)}, {"crediting_period_min_years": 41}, {"uncertainty_threshold": Decimal(0)}],
)
def test_bad_rules_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(RuleViolation):
        MethodologyRules(**changes)  # type: ignore[arg-type]


def test_a_new_version_can_change_parameters_while_the_old_one_stays() -> None:
    data = DEFAULT_METHODOLOGY.as_dict() | {"version": 2, "status": "draft"}
    data["species"] = [
        item | {"wood_density": "0.400"} if item["species"] == "oak" else item for item in data["species"]
    ]
    newer = Methodology.from_dict(data)
    assert newer.parameters_for("oak").wood_density == Decimal("0.400")
    assert DEFAULT_METHODOLOGY.parameters_for("oak").wood_density == Decimal("0.676")
    with pytest.raises(RuleViolation, match="is draft, not active"):
        newer.require_usable()
    with pytest.raises(RuleViolation, match="not like"):
        Methodology.from_dict(data | {"code": "ccer 14"})
