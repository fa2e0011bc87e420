"""Small pure helpers of the API plumbing: cursors and request fingerprints."""

from __future__ import annotations

import pytest

from api.pagination import PageParams, cursor_integer, decode_cursor, encode_cursor
from domain.errors import RuleViolation
from services.idempotency import request_fingerprint


def test_cursor_round_trip() -> None:
    values = ["2026-11-24T10:00:00+00:00", "0b7e4c3e-7c1a-4d7e-9f0a-2b1c3d4e5f60", 42]
    assert decode_cursor(encode_cursor(values)) == values


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", "eyJhIjoxfQ"])
def test_foreign_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(RuleViolation) as raised:
        decode_cursor(cursor)
    assert raised.value.code == "invalid_cursor"


def test_cursor_values_must_fit_the_sort_key() -> None:
    assert PageParams(limit=5, after=[7]).after_as(int) == (7,)
    assert PageParams(limit=5, after=[2**63 - 1]).after_as(int) == (2**63 - 1,)
    assert PageParams(limit=5, after=[2**31 - 1]).after_as(cursor_integer) == (2**31 - 1,)
    for after, converter in (
        (["seven"], int),
        (["7"], int),  # this API's cursors carry numbers as JSON numbers
        ([True], int),
        ([2**63], int),
        ([-(2**63) - 1], int),
        ([2**31], cursor_integer),
        ([1, 2], int),
    ):
        with pytest.raises(RuleViolation) as raised:
            PageParams(limit=5, after=after).after_as(converter)
        assert raised.value.code == "invalid_cursor"


def test_fingerprint_ignores_json_layout_but_not_content() -> None:
    a = request_fingerprint("POST", "/v1/x", b'{"a": 1, "b": [1, 2]}')
    b = request_fingerprint("POST", "/v1/x", b'{ "b":[1,2], "a":1 }')
    c = request_fingerprint("POST", "/v1/x", b'{"a": 2, "b": [1, 2]}')
    d = request_fingerprint("POST", "/v1/y", b'{"a": 1, "b": [1, 2]}')
    assert a == b
    assert len({a, c, d}) == 3
    assert len(a) == 32
