"""Transfer ids: time-ordered UUIDs (version 7, RFC 9562), as TigerBeetle recommends for its own ids.

A transfer id is the primary key of an append-only table that only grows. A random (version 4) id lands on a random
leaf of that key's index: as the table outgrows memory each insert reads a cold page, and after every checkpoint the
first change to each leaf writes the whole 8 KiB page to the WAL again. An id that starts with the time lands on the
index's right-hand edge, like a sequence, yet stays client-chosen and globally unique, so it keeps its second job as
the idempotency key. Measured on the development machine right after a checkpoint, 20,000 single transfers wrote
3.5 KiB of WAL each with random ids and 1.4 KiB with these (docs/ledger.md, "Transfer ids").

Layout (RFC 9562, section 5.7): 48 bits of Unix milliseconds, the version (7), 12 bits that count within one
millisecond (method 1 of section 6.2, so ids from one generator never go backwards), the variant, 62 random bits.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable

_COUNTER_BITS = 12
_COUNTER_LIMIT = 1 << _COUNTER_BITS
_RANDOM_BITS = 62
_VERSION = 7
_VARIANT = 0b10


class TimeOrderedIds:
    """A generator of version-7 UUIDs that increase strictly, even within a millisecond or when the clock steps back.

    Within one millisecond the 12-bit counter counts up from a random start below half its range; when it runs out,
    the generator borrows the next millisecond, so order wins over the clock by at most a few milliseconds.
    """

    def __init__(self, clock_ms: Callable[[], int] | None = None) -> None:
        self._clock_ms = clock_ms or (lambda: time.time_ns() // 1_000_000)
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0

    def __call__(self) -> uuid.UUID:
        with self._lock:
            now = self._clock_ms()
            if now > self._last_ms:
                self._last_ms = now
                self._counter = secrets.randbits(_COUNTER_BITS - 1)
            else:
                self._counter += 1
                if self._counter == _COUNTER_LIMIT:
                    self._last_ms += 1
                    self._counter = secrets.randbits(_COUNTER_BITS - 1)
            milliseconds, counter = self._last_ms, self._counter
        return compose(milliseconds, counter, secrets.randbits(_RANDOM_BITS))


def compose(milliseconds: int, counter: int, random_bits: int) -> uuid.UUID:
    """The version-7 UUID with these fields (each masked to its width)."""
    value = (milliseconds & ((1 << 48) - 1)) << 80
    value |= _VERSION << 76
    value |= (counter & (_COUNTER_LIMIT - 1)) << 64
    value |= _VARIANT << 62
    value |= random_bits & ((1 << _RANDOM_BITS) - 1)
    return uuid.UUID(int=value)


def milliseconds_of(identifier: uuid.UUID) -> int:
    """The Unix time in milliseconds that a version-7 id carries."""
    return identifier.int >> 80


new_transfer_id = TimeOrderedIds()
"""The process's generator: every transfer id the platform chooses comes from here."""
