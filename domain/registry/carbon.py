"""Forest carbon accounting by the volume method, exact, with a recomputable record of every calculation.

Arithmetic and rounding rules (the only places where a number is rounded):

1. Products of inputs and parameters are exact. ``EXACT`` traps ``Inexact``: a product that would need rounding
   raises instead of drifting (never happens with inputs of sane size; 60 significant digits).
2. t C -> t CO2e multiplies by 44 and divides by 12 last; the quotient is rounded half up to 6 decimals (1 gram),
   ``GRAM``. Carbon stocks, shrubs, burning, baseline and leakage are taken at 6 decimals too.
3. Net removals are sums and differences of such 6-decimal figures: exact.
4. Uncertainty deduction = net x deduction share, rounded half up to 6 decimals; none when net <= 0.
5. Issuance, in whole tonnes, with ``eligible = net after uncertainty + remainder carried in`` (the carried remainder
   is in [0, 1)):
   ``buffer = round half up(eligible x buffer share)`` to whole tonnes, but never more than ``floor(eligible)``;
   ``issued = floor(eligible - buffer)``; ``carried out = eligible - buffer - issued`` (in [0, 1)), kept on record
   for the next period. When ``eligible <= 0`` nothing is issued or withheld, nothing is carried, and
   ``reversal = -eligible`` tonnes are reported for the service to cancel from the buffer pool.
   Worked example (DOMAIN.md): eligible 3,359.639219 -> buffer round(335.9639219) = 336, issued
   floor(3,023.639219) = 3,023, carried out 0.639219.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import (
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    Rounded,
)
from typing import Any

from domain.errors import RuleViolation
from domain.registry.methodology import Methodology, SpeciesParameters, UncertaintyMode
from domain.registry.records import CalculationRecord, canonical_bytes

EXACT = Context(prec=60, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact, Rounded])
ROUNDING = Context(prec=60, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow])
GRAM = Decimal("0.000001")
TONNE = Decimal(1)
ZERO = Decimal(0)

PARCEL_STOCK = "parcel_stock"
MONITORING_PERIOD = "monitoring_period"


def _to_decimal(value: object, name: str) -> Decimal:
    if isinstance(value, float) or not isinstance(value, str | int | Decimal):
        raise RuleViolation(
            f"{name} must be a decimal number (str, int or Decimal), not {value!r}", code="invalid_input"
        )
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise RuleViolation(f"{name} is not a number: {value!r}", code="invalid_input") from None
    if not result.is_finite():
        raise RuleViolation(f"{name} must be finite", code="invalid_input")
    return result


def _grams(value: Decimal) -> Decimal:
    return value.quantize(GRAM, context=ROUNDING)


def co2e_from_carbon(tonnes_carbon: Decimal) -> Decimal:
    """t C x 44/12 in t CO2e, rounded half up to the gram (rule 2)."""
    return _grams(ROUNDING.divide(EXACT.multiply(tonnes_carbon, Decimal(44)), Decimal(12)))


@dataclass(frozen=True)
class ParcelStock:
    volume_m3: Decimal  # V = area x volume per mu, exact
    biomass_t: Decimal  # B = V x D x BEF x (1 + R), exact
    carbon_t: Decimal  # B x CF, exact
    co2e_t: Decimal  # carbon x 44/12, to the gram


def parcel_stock(area_mu: Decimal, volume_per_mu_m3: Decimal, parameters: SpeciesParameters) -> ParcelStock:
    if area_mu < 0 or volume_per_mu_m3 < 0:
        raise RuleViolation("area and stock volume cannot be negative", code="invalid_input")
    volume = EXACT.multiply(area_mu, volume_per_mu_m3)
    biomass = EXACT.multiply(
        EXACT.multiply(EXACT.multiply(volume, parameters.wood_density), parameters.biomass_expansion_factor),
        EXACT.add(Decimal(1), parameters.root_shoot_ratio),
    )
    carbon = EXACT.multiply(biomass, parameters.carbon_fraction)
    return ParcelStock(volume, biomass, carbon, co2e_from_carbon(carbon))


@dataclass(frozen=True)
class ParcelMeasurement:
    """One parcel's stock volume at the start and end of a monitoring period."""

    parcel_id: str
    species: str
    area_mu: Decimal
    volume_start_m3_per_mu: Decimal
    volume_end_m3_per_mu: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "parcel_id": self.parcel_id,
            "species": self.species,
            "area_mu": self.area_mu,
            "volume_start_m3_per_mu": self.volume_start_m3_per_mu,
            "volume_end_m3_per_mu": self.volume_end_m3_per_mu,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ParcelMeasurement:
        return cls(
            parcel_id=str(data["parcel_id"]),
            species=str(data["species"]),
            area_mu=_to_decimal(data["area_mu"], "area_mu"),
            volume_start_m3_per_mu=_to_decimal(data["volume_start_m3_per_mu"], "volume_start_m3_per_mu"),
            volume_end_m3_per_mu=_to_decimal(data["volume_end_m3_per_mu"], "volume_end_m3_per_mu"),
        )


@dataclass(frozen=True)
class MonitoringInputs:
    """Everything a monitoring period's calculation needs besides the methodology. All figures in t CO2e."""

    parcels: tuple[ParcelMeasurement, ...]
    shrub_change: Decimal = ZERO
    burning_emissions: Decimal = ZERO
    baseline_change: Decimal = ZERO
    leakage: Decimal = ZERO  # zero in the afforestation methodology
    sampling_precision: Decimal | None = None  # relative half-width of the CI at the methodology's confidence
    buffer_share: Decimal | None = None  # the project's risk-rated share; None takes the methodology default
    carried_in: Decimal = ZERO  # the remainder carried forward from the previous period, in [0, 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "parcels": [parcel.as_dict() for parcel in self.parcels],
            "shrub_change": self.shrub_change,
            "burning_emissions": self.burning_emissions,
            "baseline_change": self.baseline_change,
            "leakage": self.leakage,
            "sampling_precision": self.sampling_precision,
            "buffer_share": self.buffer_share,
            "carried_in": self.carried_in,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MonitoringInputs:
        def optional(name: str) -> Decimal | None:
            value = data.get(name)
            return None if value is None else _to_decimal(value, name)

        return cls(
            parcels=tuple(ParcelMeasurement.from_dict(item) for item in data["parcels"]),
            shrub_change=_to_decimal(data.get("shrub_change", "0"), "shrub_change"),
            burning_emissions=_to_decimal(data.get("burning_emissions", "0"), "burning_emissions"),
            baseline_change=_to_decimal(data.get("baseline_change", "0"), "baseline_change"),
            leakage=_to_decimal(data.get("leakage", "0"), "leakage"),
            sampling_precision=optional("sampling_precision"),
            buffer_share=optional("buffer_share"),
            carried_in=_to_decimal(data.get("carried_in", "0"), "carried_in"),
        )


def uncertainty_share(precision: Decimal | None, threshold: Decimal, mode: UncertaintyMode) -> Decimal:
    """The share of net removals deducted for sampling uncertainty (rule 4)."""
    if precision is not None and precision < 0:
        raise RuleViolation("a sampling precision cannot be negative", code="invalid_input")
    if precision is None or precision <= threshold:
        return ZERO
    if precision >= 1:
        raise RuleViolation("a sampling precision of 100 % or worse cannot support any issuance", code="invalid_input")
    return EXACT.subtract(precision, threshold) if mode is UncertaintyMode.DEDUCT_EXCESS else precision


@dataclass(frozen=True)
class Issuance:
    eligible: Decimal
    buffer: int
    issued: int
    carried_out: Decimal
    reversal: Decimal


def allocate_issuance(eligible: Decimal, buffer_share: Decimal) -> Issuance:
    """Whole-tonne split of ``eligible`` t CO2e into buffer, issued credits and the carried remainder (rule 5)."""
    if not ZERO <= buffer_share < 1:
        raise RuleViolation("buffer share must be in [0, 1)", code="invalid_input")
    if eligible <= 0:
        return Issuance(eligible, 0, 0, ZERO, -eligible if eligible < 0 else ZERO)
    whole = int(eligible.to_integral_value(rounding=ROUND_FLOOR))
    buffer = min(int(EXACT.multiply(eligible, buffer_share).to_integral_value(rounding=ROUND_HALF_UP)), whole)
    issued = int((eligible - buffer).to_integral_value(rounding=ROUND_FLOOR))
    return Issuance(eligible, buffer, issued, EXACT.subtract(EXACT.subtract(eligible, buffer), issued), ZERO)


def _species_parameters(parameters: Mapping[str, Any]) -> dict[str, SpeciesParameters]:
    return {str(item["species"]): SpeciesParameters(**item) for item in parameters["species"]}


def _used_species(methodology: Methodology, codes: Sequence[str]) -> list[dict[str, str | Decimal]]:
    return [methodology.parameters_for(code).as_dict() for code in sorted(set(codes))]


def calculate_parcel_stock(
    methodology: Methodology, species: str, area_mu: Decimal, volume_per_mu_m3: Decimal
) -> CalculationRecord:
    """The carbon stock of one parcel, as a sealed record."""
    methodology.require_usable()
    parameters = {"species": _used_species(methodology, [species])}
    inputs = {"species": species, "area_mu": area_mu, "volume_per_mu_m3": volume_per_mu_m3}
    return _parcel_stock_record(methodology.reference, parameters, inputs)


def _parcel_stock_record(
    reference: Mapping[str, Any], parameters: Mapping[str, Any], inputs: Mapping[str, Any]
) -> CalculationRecord:
    species = _species_parameters(parameters)[str(inputs["species"])]
    stock = parcel_stock(
        _to_decimal(inputs["area_mu"], "area_mu"), _to_decimal(inputs["volume_per_mu_m3"], "volume_per_mu_m3"), species
    )
    outputs = {
        "volume_m3": stock.volume_m3,
        "biomass_t": stock.biomass_t,
        "carbon_t": stock.carbon_t,
        "co2e_t": stock.co2e_t,
    }
    return CalculationRecord.seal(PARCEL_STOCK, reference, parameters, inputs, outputs)


def calculate_monitoring_period(methodology: Methodology, inputs: MonitoringInputs) -> CalculationRecord:
    """Net removals, uncertainty deduction, buffer and whole-tonne issuance of one monitoring period, sealed."""
    methodology.require_usable()
    rules = methodology.rules
    parameters = {
        "species": _used_species(methodology, [parcel.species for parcel in inputs.parcels]),
        "buffer_share": rules.buffer_share,
        "uncertainty_threshold": rules.uncertainty_threshold,
        "uncertainty_confidence": rules.uncertainty_confidence,
        "uncertainty_mode": rules.uncertainty_mode.value,
    }
    return _monitoring_record(methodology.reference, parameters, inputs.as_dict())


def _monitoring_record(
    reference: Mapping[str, Any], parameters: Mapping[str, Any], raw_inputs: Mapping[str, Any]
) -> CalculationRecord:
    inputs = MonitoringInputs.from_dict(raw_inputs)
    if not inputs.parcels:
        raise RuleViolation("a monitoring period needs at least one parcel", code="invalid_input")
    if len({parcel.parcel_id for parcel in inputs.parcels}) != len(inputs.parcels):
        raise RuleViolation("a parcel is measured twice in one monitoring period", code="invalid_input")
    if not ZERO <= inputs.carried_in < 1:
        raise RuleViolation("the carried-in remainder must be in [0, 1)", code="invalid_input")
    # Shrubs may lose carbon (a negative change); emissions, baseline growth and leakage are never credits.
    for name in ("burning_emissions", "baseline_change", "leakage"):
        if getattr(inputs, name) < 0:
            raise RuleViolation(f"{name} cannot be negative", code="invalid_input")
    species = _species_parameters(parameters)
    carbon_start = carbon_end = ZERO
    for parcel in inputs.parcels:
        if parcel.species not in species:
            raise RuleViolation(
                f"parcel {parcel.parcel_id}: no parameters for {parcel.species}", code="unknown_species"
            )
        params = species[parcel.species]
        carbon_start = EXACT.add(
            carbon_start, parcel_stock(parcel.area_mu, parcel.volume_start_m3_per_mu, params).carbon_t
        )
        carbon_end = EXACT.add(carbon_end, parcel_stock(parcel.area_mu, parcel.volume_end_m3_per_mu, params).carbon_t)
    stock_start, stock_end = co2e_from_carbon(carbon_start), co2e_from_carbon(carbon_end)
    project_change = stock_end - stock_start + _grams(inputs.shrub_change) - _grams(inputs.burning_emissions)
    net = project_change - _grams(inputs.baseline_change) - _grams(inputs.leakage)
    share = uncertainty_share(
        inputs.sampling_precision,
        _to_decimal(parameters["uncertainty_threshold"], "uncertainty_threshold"),
        UncertaintyMode(parameters["uncertainty_mode"]),
    )
    deduction = _grams(EXACT.multiply(net, share)) if net > 0 else ZERO
    net_after = net - deduction
    buffer_share = (
        inputs.buffer_share
        if inputs.buffer_share is not None
        else _to_decimal(parameters["buffer_share"], "buffer_share")
    )
    issuance = allocate_issuance(net_after + inputs.carried_in, buffer_share)
    outputs = {
        "carbon_start_t_c": carbon_start,
        "carbon_end_t_c": carbon_end,
        "stock_start": stock_start,
        "stock_end": stock_end,
        "project_change": project_change,
        "net_removals": net,
        "uncertainty_share": share,
        "uncertainty_deduction": deduction,
        "net_after_uncertainty": net_after,
        "buffer_share": buffer_share,
        "eligible": issuance.eligible,
        "buffer": issuance.buffer,
        "issued": issuance.issued,
        "carried_out": issuance.carried_out,
        "reversal": issuance.reversal,
    }
    return CalculationRecord.seal(MONITORING_PERIOD, reference, parameters, raw_inputs, outputs)


_CALCULATORS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]], CalculationRecord]] = {
    PARCEL_STOCK: _parcel_stock_record,
    MONITORING_PERIOD: _monitoring_record,
}


def recompute(record: CalculationRecord) -> bool:
    """Re-run the calculation from the record's own inputs and parameters; True when outputs and hash both match.

    Uses the parameter values stored in the record (the version it was made with), never today's table.
    """
    calculator = _CALCULATORS.get(record.kind)
    if calculator is None or not record.hash_matches():
        return False
    try:
        again = calculator(record.methodology, record.parameters, record.inputs)
    except (RuleViolation, KeyError, TypeError, ValueError, ArithmeticError):
        return False
    return again.sha256 == record.sha256 and canonical_bytes(again.outputs) == canonical_bytes(record.outputs)
