"""Calculation records: what went in, which parameters were used, what came out, and a SHA-256 anyone can recompute.

Canonical encoding (``ENCODING`` = "bashan-calc-v1"), the bytes the SHA-256 is taken over:

- the record body is the JSON object ``{"encoding", "kind", "methodology", "parameters", "inputs", "outputs"}``;
- JSON with keys sorted at every level, no whitespace (separators ``,`` and ``:``), ASCII only (non-ASCII characters
  as ``\\uXXXX`` escapes, so no Unicode normalisation question arises), UTF-8 bytes;
- every ``Decimal`` is a JSON *string* in plain positional notation with no exponent, no trailing zeros after the
  point, no point when nothing follows it, and "0" for any zero: ``Decimal("3.0")``, ``Decimal("3")`` and
  ``Decimal("0.3E1")`` all become ``"3"``; ``Decimal("-0.50")`` becomes ``"-0.5"``. Equal numbers therefore hash
  equally, and a record read back from JSON (where they are strings already) hashes to the same value;
- ``int``, ``str``, ``bool`` and ``null`` are plain JSON; tuples are arrays; a ``float`` is refused (not exact).

To check a record by hand: ``sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True))``
after writing its decimals as above; ``recompute`` in carbon.py also re-runs the calculation itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

ENCODING = "bashan-calc-v1"


def canonical_decimal(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"not a finite decimal: {value}")
    if value.is_zero():
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _plain(value: object) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, Decimal):
        return canonical_decimal(value)
    if isinstance(value, float):
        raise TypeError("floats are not exact and have no place in a calculation record")
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"record keys must be strings, got {key!r}")
            result[key] = _plain(item)
        return result
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    raise TypeError(f"cannot encode {type(value).__name__} in a calculation record")


def canonical_bytes(value: object) -> bytes:
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


@dataclass(frozen=True)
class CalculationRecord:
    """A self-describing calculation. Values are kept in their canonical plain form (decimals as strings)."""

    kind: str
    methodology: Mapping[str, Any]  # {"code": ..., "version": ...}
    parameters: Mapping[str, Any]
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]
    sha256: str

    @classmethod
    def seal(
        cls,
        kind: str,
        methodology: Mapping[str, Any],
        parameters: Mapping[str, Any],
        inputs: Mapping[str, Any],
        outputs: Mapping[str, Any],
    ) -> CalculationRecord:
        body = _body(kind, methodology, parameters, inputs, outputs)
        return cls(
            kind=kind,
            methodology=body["methodology"],
            parameters=body["parameters"],
            inputs=body["inputs"],
            outputs=body["outputs"],
            sha256=hashlib.sha256(canonical_bytes(body)).hexdigest(),
        )

    def body(self) -> dict[str, Any]:
        return _body(self.kind, self.methodology, self.parameters, self.inputs, self.outputs)

    def hash_matches(self) -> bool:
        """Whether ``sha256`` is the hash of the record's own content (tamper check without re-running anything)."""
        return hashlib.sha256(canonical_bytes(self.body())).hexdigest() == self.sha256

    def output(self, name: str) -> Decimal:
        return Decimal(self.outputs[name])

    def as_dict(self) -> dict[str, Any]:
        return self.body() | {"sha256": self.sha256}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CalculationRecord:
        if data.get("encoding") != ENCODING:
            raise ValueError(f"unknown calculation record encoding {data.get('encoding')!r}")
        return cls(
            kind=str(data["kind"]),
            methodology=_plain(data["methodology"]),
            parameters=_plain(data["parameters"]),
            inputs=_plain(data["inputs"]),
            outputs=_plain(data["outputs"]),
            sha256=str(data["sha256"]),
        )


def _body(
    kind: str,
    methodology: Mapping[str, Any],
    parameters: Mapping[str, Any],
    inputs: Mapping[str, Any],
    outputs: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "encoding": ENCODING,
        "kind": kind,
        "methodology": _plain(methodology),
        "parameters": _plain(parameters),
        "inputs": _plain(inputs),
        "outputs": _plain(outputs),
    }
