from __future__ import annotations

import itertools
import math

import pytest

from domain.errors import RuleViolation
from domain.labels.codes import (
    CODE_DIGITS,
    DAMM_TABLE,
    RANDOM_DIGITS,
    CodeVerdict,
    batch_allowance,
    check_batch_size,
    check_code,
    damm_check_digit,
    damm_is_valid,
    generate_batch,
    new_code,
    parse_code,
)


def test_the_damm_table_is_a_weakly_totally_anti_symmetric_quasigroup() -> None:
    # Latin square: every single-digit substitution changes the interim value.
    for row in DAMM_TABLE:
        assert sorted(row) == list(range(10))
    for column in range(10):
        assert sorted(row[column] for row in DAMM_TABLE) == list(range(10))
    assert all(DAMM_TABLE[i][i] == 0 for i in range(10))
    # Anti-symmetry: (c*x)*y == (c*y)*x only when x == y, so every adjacent transposition is caught.
    for c, x, y in itertools.product(range(10), repeat=3):
        if x != y:
            assert DAMM_TABLE[DAMM_TABLE[c][x]][y] != DAMM_TABLE[DAMM_TABLE[c][y]][x]


def test_known_check_digits() -> None:
    # Worked example from Damm's paper: 572 -> check digit 4.
    assert damm_check_digit("572") == 4
    assert damm_is_valid("5724")
    assert not damm_is_valid("5723")
    with pytest.raises(ValueError, match="ASCII digits"):
        damm_check_digit("57a")


def test_every_single_digit_error_and_adjacent_transposition_is_caught_on_real_codes() -> None:
    codes = generate_batch(421, 2026, 200)
    missed = 0
    checked = 0
    for code in codes:
        for position in range(CODE_DIGITS):
            for digit in "0123456789":
                if digit != code[position]:
                    checked += 1
                    missed += damm_is_valid(code[:position] + digit + code[position + 1 :])
        for position in range(CODE_DIGITS - 1):
            a, b = code[position], code[position + 1]
            if a != b:
                checked += 1
                missed += damm_is_valid(code[:position] + b + a + code[position + 2 :])
    assert checked > 200 * CODE_DIGITS * 9
    assert missed == 0


def test_a_fresh_code_has_the_documented_shape_and_enough_randomness() -> None:
    code = new_code(421, 2026)
    assert code.digits.startswith("042126")
    assert len(code.digits) == CODE_DIGITS == 20
    assert code.printed == f"BS-0421-26-{code.random_part}-{code.check_digit}"
    assert len(code.random_part) == RANDOM_DIGITS
    assert math.log2(10**RANDOM_DIGITS) >= 40
    assert damm_is_valid(code.digits)
    assert parse_code(code.printed) == code
    assert parse_code(code.digits) == code


def test_a_batch_is_distinct_valid_and_avoids_taken_codes() -> None:
    first = generate_batch(421, 2026, 5_000)
    assert len(first) == len(set(first)) == 5_000
    assert all(damm_is_valid(code) and code.startswith("042126") for code in first)
    taken = set(first)
    second = generate_batch(421, 2026, 5_000, taken=taken)
    assert taken.isdisjoint(second)
    assert generate_batch(421, 2026, 0) == []


def test_the_random_parts_spread_over_all_digits() -> None:
    batch = generate_batch(7, 26, 20_000)
    # Each of the 13 random positions should hold every digit about 2,000 times; a stuck digit would show at once.
    for position in range(6, 6 + RANDOM_DIGITS):
        counts = [sum(1 for code in batch if code[position] == digit) for digit in "0123456789"]
        assert min(counts) > 1_700, (position, counts)
        assert max(counts) < 2_300, (position, counts)


def test_wrong_certifier_numbers_and_sizes_are_refused() -> None:
    with pytest.raises(RuleViolation, match="1-9999"):
        generate_batch(0, 2026, 1)
    with pytest.raises(RuleViolation, match="1-9999"):
        new_code(10_000, 2026)
    with pytest.raises(RuleViolation, match="negative"):
        generate_batch(1, 2026, -1)


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("", CodeVerdict.MALFORMED),
        ("BS-0421-26-123", CodeVerdict.MALFORMED),
        ("BS-0421-26-123456789012X-7", CodeVerdict.MALFORMED),
        ("0000260000000000000" + "0", CodeVerdict.MALFORMED),
        ("1" * 21, CodeVerdict.MALFORMED),
        ("٠" * 20, CodeVerdict.MALFORMED),  # Arabic-Indic digits pass str.isdigit but are no code
        ("9" * 500, CodeVerdict.MALFORMED),
    ],
)
def test_malformed_texts(text: str, verdict: CodeVerdict) -> None:
    result = check_code(text)
    assert result.verdict is verdict
    assert result.code is None
    with pytest.raises(RuleViolation) as raised:
        parse_code(text)
    assert raised.value.code == "label_code_malformed"


def test_a_typo_is_told_apart_from_a_malformed_code() -> None:
    code = new_code(421, 2026)
    wrong = str((int(code.digits[10]) + 3) % 10)
    typo = code.digits[:10] + wrong + code.digits[11:]
    result = check_code(typo)
    assert result.verdict is CodeVerdict.TYPO
    assert "check digit" in result.reason
    with pytest.raises(RuleViolation) as raised:
        parse_code(typo)
    assert raised.value.code == "label_code_typo"


def test_separators_case_and_spaces_are_forgiven() -> None:
    code = new_code(12, 2031)
    spaced = f" bs {code.digits[:4]} {code.digits[4:6]} {code.digits[6:12]}-{code.digits[12:]} "
    result = check_code(spaced)
    assert result.verdict is CodeVerdict.WELL_FORMED
    assert result.code == code
    assert code.year == 31
    assert code.certifier_code == 12


def test_batches_are_bounded_by_the_certified_annual_volume() -> None:
    assert batch_allowance(10_000, 9_000) == 1_000
    assert batch_allowance(10_000, 12_000) == 0
    check_batch_size(1_000, annual_volume=10_000, issued_this_year=9_000)
    with pytest.raises(RuleViolation, match="only 1000 remain") as raised:
        check_batch_size(1_001, annual_volume=10_000, issued_this_year=9_000)
    assert raised.value.code == "label_batch_exceeds_volume"
    with pytest.raises(RuleViolation, match="at least one"):
        check_batch_size(0, annual_volume=10_000, issued_this_year=0)
