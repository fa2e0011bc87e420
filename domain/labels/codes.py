"""Label codes: one per labelled package, unique, unguessable, with a check digit that catches typing errors.

Format (modelled on China's organic product code, 17 digits = certifier + year + random, with more randomness):

    canonical, stored and put in the QR code:   CCCC YY RRRRRRRRRRRRR K      20 digits, no separators
    printed under the QR code:                   BS-CCCC-YY-RRRRRRRRRRRRR-K

- ``CCCC``: the certifier's 4-digit label number, assigned at accreditation (0001-9999).
- ``YY``: the last two digits of the year the batch was issued.
- ``R...``: 13 digits drawn from ``secrets`` (log2(10**13) = 43.2 bits), so guessing a valid code of a certifier that
  has issued a million codes this year succeeds about once in ten million tries; public verification is rate-limited.
- ``K``: Damm check digit over the 19 digits before it. Damm detects every single-digit substitution and every
  transposition of two adjacent digits (ISO 7064 MOD 11-10 misses transpositions that involve the check digit).

Everything is digits so that the check digit covers the whole code and the code survives being read aloud or typed
on a phone keypad. ``check_code`` accepts either form, with or without separators and the ``BS`` prefix.

Uniqueness: codes of different certifiers or years can never collide; within one certifier and year a batch never
repeats a code, and a collision with an earlier batch (about 5 % chance per million-code batch against another
million) is caught by the store's unique key, which asks ``generate_batch`` for replacements via ``taken``.
"""

from __future__ import annotations

import secrets
from collections.abc import Container
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from domain.errors import RuleViolation

PRINTED_PREFIX = "BS"
CERTIFIER_DIGITS = 4
YEAR_DIGITS = 2
RANDOM_DIGITS = 13
CODE_DIGITS = CERTIFIER_DIGITS + YEAR_DIGITS + RANDOM_DIGITS + 1
RANDOM_SPACE = 10**RANDOM_DIGITS
MAX_INPUT_LENGTH = 64

# Damm's totally anti-symmetric quasigroup of order 10 (H. M. Damm, 2004). Its two properties, which give the error
# detection, are proven exhaustively in tests/unit/labels/test_codes.py rather than trusted.
DAMM_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

# 64-bit draws reduced modulo 10**13 would favour small values slightly; drawing again above this bound keeps
# every random part equally likely (the bound rejects about one draw in 1.4 million).
_DRAW_LIMIT = (2**64 // RANDOM_SPACE) * RANDOM_SPACE


def _interim(state: int, digits: str) -> int:
    for char in digits:
        state = DAMM_TABLE[state][ord(char) - 48]
    return state


def damm_check_digit(digits: str) -> int:
    """The digit that, appended to ``digits``, makes the Damm interim value 0."""
    if not digits.isdigit() or not digits.isascii():
        raise ValueError("damm_check_digit takes ASCII digits only")
    return _interim(0, digits)


def damm_is_valid(digits: str) -> bool:
    """Whether a digit string ending in its check digit passes."""
    return digits.isascii() and digits.isdigit() and _interim(0, digits) == 0


@cache
def _four_digit_steps() -> list[int]:
    """``steps[state * 10000 + n]``: the interim value after feeding the four digits of ``n`` from ``state``.

    The batch generator walks a 13-digit random part in three table steps and one digit instead of 13 digits.
    """
    steps = [0] * 100_000
    for state in range(10):
        for n in range(10_000):
            steps[state * 10_000 + n] = _interim(state, f"{n:04d}")
    return steps


@dataclass(frozen=True, slots=True)
class LabelCode:
    certifier_code: int
    year: int  # two digits, as in the code
    random_part: str
    check_digit: int

    @property
    def digits(self) -> str:
        """The canonical form: stored, looked up and encoded in the QR code."""
        return f"{self.certifier_code:04d}{self.year:02d}{self.random_part}{self.check_digit}"

    @property
    def printed(self) -> str:
        return f"{PRINTED_PREFIX}-{self.certifier_code:04d}-{self.year:02d}-{self.random_part}-{self.check_digit}"

    def __str__(self) -> str:
        return self.digits


def _prefix(certifier_code: int, year: int) -> str:
    if not 1 <= certifier_code <= 9999:
        raise RuleViolation(
            f"certifier label number must be 1-9999, got {certifier_code}", code="invalid_certifier_code"
        )
    if year < 0:
        raise RuleViolation(f"year must not be negative, got {year}", code="invalid_year")
    return f"{certifier_code:04d}{year % 100:02d}"


def new_code(certifier_code: int, year: int) -> LabelCode:
    """One fresh code; ``year`` may be given in full (2026) or as two digits."""
    prefix = _prefix(certifier_code, year)
    random_part = f"{secrets.randbelow(RANDOM_SPACE):0{RANDOM_DIGITS}d}"
    return LabelCode(certifier_code, year % 100, random_part, damm_check_digit(prefix + random_part))


def generate_batch(certifier_code: int, year: int, count: int, *, taken: Container[str] = frozenset()) -> list[str]:
    """``count`` distinct canonical codes not in ``taken``, fast enough for millions per call.

    The random parts come from one ``secrets.token_bytes`` call per round; a round that falls short (duplicates,
    draws rejected for uniformity, codes already ``taken``) is topped up by another.
    """
    if count < 0:
        raise RuleViolation(f"a batch cannot have a negative size ({count})", code="invalid_batch_size")
    prefix = _prefix(certifier_code, year)
    start = _interim(0, prefix) * 10_000
    steps = _four_digit_steps()
    final = [digit for row in DAMM_TABLE for digit in row]
    seen: set[str] = set()
    codes: list[str] = []
    while len(codes) < count:
        wanted = count - len(codes)
        draws = memoryview(secrets.token_bytes(8 * wanted)).cast("Q")
        for draw in draws:
            if draw >= _DRAW_LIMIT:
                continue
            random_value = draw % RANDOM_SPACE
            state = steps[start + random_value // 1_000_000_000]
            state = steps[state * 10_000 + random_value // 100_000 % 10_000]
            state = steps[state * 10_000 + random_value // 10 % 10_000]
            state = final[state * 10 + random_value % 10]
            code = f"{prefix}{random_value:013d}{state}"
            if code in seen or code in taken:
                continue
            seen.add(code)
            codes.append(code)
    return codes


class CodeVerdict(StrEnum):
    WELL_FORMED = "well_formed"
    TYPO = "check_digit_mismatch"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """What the text alone says about a code, before any lookup: a typo needs no database round trip."""

    verdict: CodeVerdict
    reason: str
    code: LabelCode | None = None

    @property
    def well_formed(self) -> bool:
        return self.verdict is CodeVerdict.WELL_FORMED


def normalise(text: str) -> str:
    """Drop separators, surrounding space and the printed prefix; leaves anything else for the checks to judge."""
    compact = "".join(text.split()).replace("-", "").upper()
    return compact.removeprefix(PRINTED_PREFIX)


def check_code(text: str) -> CodeCheck:
    """Tell a malformed code, a mistyped code (check digit fails) and a well-formed code apart."""
    if len(text) > MAX_INPUT_LENGTH:
        return CodeCheck(CodeVerdict.MALFORMED, f"a label code is {CODE_DIGITS} digits; this text is far longer")
    digits = normalise(text)
    if not digits.isascii() or not digits.isdigit():
        return CodeCheck(CodeVerdict.MALFORMED, "a label code has only digits after the BS prefix")
    if len(digits) != CODE_DIGITS:
        return CodeCheck(CodeVerdict.MALFORMED, f"a label code has {CODE_DIGITS} digits, this one has {len(digits)}")
    certifier_code = int(digits[:CERTIFIER_DIGITS])
    if certifier_code == 0:
        return CodeCheck(CodeVerdict.MALFORMED, "certifier number 0000 is never assigned")
    if not damm_is_valid(digits):
        return CodeCheck(
            CodeVerdict.TYPO, "the check digit does not match: a digit was probably mistyped or two swapped"
        )
    year_end = CERTIFIER_DIGITS + YEAR_DIGITS
    code = LabelCode(certifier_code, int(digits[CERTIFIER_DIGITS:year_end]), digits[year_end:-1], int(digits[-1]))
    return CodeCheck(CodeVerdict.WELL_FORMED, "well formed", code)


def parse_code(text: str) -> LabelCode:
    """The parsed code, or a RuleViolation whose ``code`` says malformed or mistyped."""
    result = check_code(text)
    if result.code is not None:
        return result.code
    error_code = "label_code_typo" if result.verdict is CodeVerdict.TYPO else "label_code_malformed"
    raise RuleViolation(result.reason, code=error_code)


def batch_allowance(annual_volume: int, issued_this_year: int) -> int:
    """How many more codes the certificate may have this certificate year: one code per certified unit."""
    return max(annual_volume - issued_this_year, 0)


def check_batch_size(requested: int, *, annual_volume: int, issued_this_year: int) -> None:
    if requested <= 0:
        raise RuleViolation(f"a batch needs at least one code, asked for {requested}", code="invalid_batch_size")
    allowance = batch_allowance(annual_volume, issued_this_year)
    if requested > allowance:
        raise RuleViolation(
            f"asked for {requested} codes but only {allowance} remain of the certified annual volume "
            f"of {annual_volume} ({issued_this_year} already issued this certificate year)",
            code="label_batch_exceeds_volume",
        )
