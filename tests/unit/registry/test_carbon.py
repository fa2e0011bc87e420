from __future__ import annotations

import dataclasses
import hashlib
import json
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import RuleViolation
from domain.registry.carbon import (
    MonitoringInputs,
    ParcelMeasurement,
    allocate_issuance,
    calculate_monitoring_period,
    calculate_parcel_stock,
    co2e_from_carbon,
    recompute,
    uncertainty_share,
)
from domain.registry.methodology import DEFAULT_METHODOLOGY, Methodology, MethodologyStatus, UncertaintyMode
from domain.registry.records import CalculationRecord, canonical_bytes, canonical_decimal

D = Decimal


def worked_example(**changes: Any) -> MonitoringInputs:
    parcel = ParcelMeasurement("BZ-NJ-0001", "masson_pine", D(1000), D(0), D("3.0"))
    return dataclasses.replace(MonitoringInputs(parcels=(parcel,)), **changes)


def test_domain_worked_example_exactly() -> None:
    # DOMAIN.md: 1,000 mu Masson pine from 0 to 3.0 m3/mu: V = 3,000 m3, C = 3,359.6 t CO2e, buffer 336, issued 3,023.
    stock = calculate_parcel_stock(DEFAULT_METHODOLOGY, "masson_pine", D(1000), D("3.0"))
    assert stock.output("volume_m3") == D(3000)
    assert stock.output("biomass_t") == D("1991.88096")  # 3000 x 0.380 x 1.472 x 1.187
    assert stock.output("carbon_t") == D("916.2652416")  # x 0.460
    assert stock.output("co2e_t") == D("3359.639219")  # x 44 / 12 = 3359.6392192 exactly, to the gram
    record = calculate_monitoring_period(DEFAULT_METHODOLOGY, worked_example())
    assert record.output("net_removals") == D("3359.639219")
    assert record.output("net_removals").quantize(D("0.1")) == D("3359.6")
    assert record.outputs["buffer"] == 336
    assert record.outputs["issued"] == 3023
    assert record.output("carried_out") == D("0.639219")
    assert record.methodology == {"code": "CCER-14-001-V01", "version": 1}
    assert record.parameters["species"][0]["wood_density"] == "0.38"
    assert recompute(record)


def test_the_remainder_is_carried_into_the_next_period() -> None:
    first = calculate_monitoring_period(DEFAULT_METHODOLOGY, worked_example())
    second = calculate_monitoring_period(
        DEFAULT_METHODOLOGY,
        worked_example(
            parcels=(ParcelMeasurement("BZ-NJ-0001", "masson_pine", D(1000), D("3.0"), D("3.1")),),
            carried_in=first.output("carried_out"),
        ),
    )
    # 100 m3 more: 111.987974 t; with 0.639219 carried: eligible 112.627193, buffer round(11.26) = 11, issued 101.
    assert second.output("net_removals") == D("111.987974")
    assert second.output("eligible") == D("112.627193")
    assert (second.outputs["buffer"], second.outputs["issued"]) == (11, 101)
    assert second.output("carried_out") == D("0.627193")


def test_net_removals_subtract_burning_baseline_and_leakage_and_add_shrubs() -> None:
    record = calculate_monitoring_period(
        DEFAULT_METHODOLOGY,
        worked_example(
            shrub_change=D("12.5"), burning_emissions=D("2.25"), baseline_change=D("100"), leakage=D("0.000001")
        ),
    )
    assert record.output("project_change") == D("3369.889219")
    assert record.output("net_removals") == D("3269.889218")


def test_uncertainty_deducts_the_excess_over_ten_percent() -> None:
    assert uncertainty_share(D("0.08"), D("0.10"), UncertaintyMode.DEDUCT_EXCESS) == 0
    assert uncertainty_share(D("0.10"), D("0.10"), UncertaintyMode.DEDUCT_EXCESS) == 0
    assert uncertainty_share(D("0.125"), D("0.10"), UncertaintyMode.DEDUCT_EXCESS) == D("0.025")
    assert uncertainty_share(D("0.125"), D("0.10"), UncertaintyMode.DEDUCT_ALL) == D("0.125")
    record = calculate_monitoring_period(DEFAULT_METHODOLOGY, worked_example(sampling_precision=D("0.125")))
    # 3359.639219 x 0.025 = 83.990980475 -> 83.990980 (half up to the gram)
    assert record.output("uncertainty_deduction") == D("83.990980")
    assert record.output("net_after_uncertainty") == D("3275.648239")
    assert (record.outputs["buffer"], record.outputs["issued"]) == (328, 2947)


def test_the_deduct_all_mode_is_configured_in_the_methodology() -> None:
    data = DEFAULT_METHODOLOGY.as_dict()
    data["rules"] = data["rules"] | {"uncertainty_mode": "deduct_all"}
    strict = Methodology.from_dict(data)
    record = calculate_monitoring_period(strict, worked_example(sampling_precision=D("0.125")))
    assert record.output("uncertainty_deduction") == D("419.954902")  # 3359.639219 x 0.125 = 419.954902375


def test_project_risk_rating_sets_the_buffer_share() -> None:
    record = calculate_monitoring_period(DEFAULT_METHODOLOGY, worked_example(buffer_share=D("0.15")))
    # 3359.639219 x 0.15 = 503.94588 -> 504; floor(2855.639219) = 2855
    assert (record.outputs["buffer"], record.outputs["issued"]) == (504, 2855)


@pytest.mark.parametrize(
    ("eligible", "share", "buffer", "issued", "carried"),
    [
        ("3359.639219", "0.10", 336, 3023, "0.639219"),
        ("5", "0.10", 1, 4, "0"),  # 0.5 rounds half up
        ("4.99", "0.10", 0, 4, "0.99"),  # 0.499 rounds down
        ("0.95", "0.60", 0, 0, "0.95"),  # round(0.57) = 1 would exceed floor(0.95) = 0: capped
        ("0.6", "0.10", 0, 0, "0.6"),
        ("0", "0.10", 0, 0, "0"),
    ],
)
def test_whole_tonne_allocation(eligible: str, share: str, buffer: int, issued: int, carried: str) -> None:
    result = allocate_issuance(D(eligible), D(share))
    assert (result.buffer, result.issued, result.carried_out) == (buffer, issued, D(carried))
    assert result.buffer + result.issued + result.carried_out == D(eligible)


def test_a_loss_period_issues_nothing_and_reports_the_reversal() -> None:
    record = calculate_monitoring_period(
        DEFAULT_METHODOLOGY,
        worked_example(parcels=(ParcelMeasurement("p", "oak", D(10), D("5"), D("4")),), carried_in=D("0.5")),
    )
    # 10 m3 of oak lost: 10 x 0.59172308 x 44 / 12 = 21.696513 t CO2e; 0.5 carried in offsets part of it.
    assert record.output("net_removals") == D("-21.696513")
    assert (record.outputs["buffer"], record.outputs["issued"]) == (0, 0)
    assert record.output("reversal") == D("21.196513")
    assert record.output("carried_out") == 0


def test_co2e_conversion_rounds_half_up_to_the_gram() -> None:
    assert co2e_from_carbon(D("0.0000015")) == D("0.000006")  # 0.0000055 -> up
    assert co2e_from_carbon(D(3)) == D(11)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"parcels": ()}, "at least one parcel"),
        ({"carried_in": D(1)}, r"\[0, 1\)"),
        ({"leakage": D(-1)}, "leakage cannot be negative"),
        ({"sampling_precision": D(1)}, "100 %"),
        ({"sampling_precision": D("-0.1")}, "cannot be negative"),
        ({"buffer_share": D(1)}, r"buffer share must be in \[0, 1\)"),
        (
            {
                "parcels": (
                    ParcelMeasurement("a", "oak", D(1), D(0), D(1)),
                    ParcelMeasurement("a", "oak", D(1), D(0), D(1)),
                )
            },
            "measured twice",
        ),
        ({"parcels": (ParcelMeasurement("a", "teak", D(1), D(0), D(1)),)}, "teak"),
        ({"parcels": (ParcelMeasurement("a", "oak", D(-1), D(0), D(1)),)}, "negative"),
    ],
)
def test_bad_inputs_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleViolation, match=message):
        calculate_monitoring_period(DEFAULT_METHODOLOGY, worked_example(**changes))


def test_the_hash_is_sha256_of_the_documented_canonical_json() -> None:
    record = calculate_monitoring_period(DEFAULT_METHODOLOGY, worked_example())
    stored = json.loads(json.dumps(record.as_dict()))
    body = {key: value for key, value in stored.items() if key != "sha256"}
    by_hand = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    assert hashlib.sha256(by_hand).hexdigest() == record.sha256
    assert canonical_bytes(record.body()) == by_hand
    assert b'"issued":3023' in by_hand
    assert b'"stock_end":"3359.639219"' in by_hand


def test_a_record_read_back_from_json_recomputes_and_a_tampered_one_does_not() -> None:
    record = calculate_monitoring_period(DEFAULT_METHODOLOGY, worked_example(sampling_precision=D("0.12")))
    loaded = CalculationRecord.from_dict(json.loads(json.dumps(record.as_dict())))
    assert loaded == record
    assert recompute(loaded)
    more_credits = dataclasses.replace(loaded, outputs=dict(loaded.outputs) | {"issued": 3024})
    assert not recompute(more_credits)
    # Even with the hash re-sealed over the forged outputs, re-running the calculation exposes it.
    resealed = CalculationRecord.seal(
        more_credits.kind, more_credits.methodology, more_credits.parameters, more_credits.inputs, more_credits.outputs
    )
    assert resealed.hash_matches()
    assert not recompute(resealed)
    denser_pine = [item | {"wood_density": "0.4"} for item in loaded.parameters["species"]]
    assert not recompute(dataclasses.replace(loaded, parameters=dict(loaded.parameters) | {"species": denser_pine}))
    assert not recompute(dataclasses.replace(loaded, kind="unknown"))


def test_recompute_uses_the_records_parameters_not_todays_table() -> None:
    data = DEFAULT_METHODOLOGY.as_dict() | {"version": 2}
    data["species"] = [item | {"carbon_fraction": "0.47"} for item in data["species"]]
    record = calculate_monitoring_period(Methodology.from_dict(data), worked_example())
    assert record.methodology == {"code": "CCER-14-001-V01", "version": 2}
    assert record.outputs["issued"] == 3089
    assert recompute(record)


@pytest.mark.parametrize(
    ("value", "text"),
    [("3.0", "3"), ("3", "3"), ("0.3E1", "3"), ("-0.50", "-0.5"), ("0E-7", "0"), ("-0", "0"), ("1E+3", "1000")],
)
def test_canonical_decimal(value: str, text: str) -> None:
    assert canonical_decimal(D(value)) == text


def test_floats_never_enter_a_record() -> None:
    with pytest.raises(TypeError, match="floats"):
        canonical_bytes({"x": 0.1})
    with pytest.raises(RuleViolation, match="decimal number"):
        calculate_parcel_stock(DEFAULT_METHODOLOGY, "oak", 1.5, D(1))  # type: ignore[arg-type]


def test_a_superseded_version_refuses_new_calculations_but_its_records_still_recompute() -> None:
    record = calculate_monitoring_period(DEFAULT_METHODOLOGY, worked_example())
    superseded = dataclasses.replace(DEFAULT_METHODOLOGY, status=MethodologyStatus.SUPERSEDED)
    with pytest.raises(RuleViolation, match="is superseded, not active") as caught:
        calculate_monitoring_period(superseded, worked_example())
    assert caught.value.code == "methodology_inactive"
    with pytest.raises(RuleViolation, match="is superseded"):
        calculate_parcel_stock(superseded, "oak", D(1), D(1))
    assert recompute(record)
