"""Cursor pagination: opaque cursors that encode the sort key of the last item seen."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from domain.errors import RuleViolation

T = TypeVar("T")
MAX_LIMIT = 200
BIGINT_MAX = 2**63 - 1
INTEGER_MAX = 2**31 - 1


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="pass as `cursor` to get the next page; null on the last page", examples=[None]
    )


class PageParams(BaseModel):
    limit: int
    after: list[Any] | None

    def after_as(self, *converters: Any) -> tuple[Any, ...] | None:
        """The cursor's values converted to the sort key's types; a cursor that does not fit is refused.

        ``int``, ``str``, ``uuid.UUID`` and ``datetime.fromisoformat`` are read strictly (``_STRICT``): a decoded
        cursor is input like any other, and its values must fit the columns they are compared with.
        """
        if self.after is None:
            return None
        if len(self.after) != len(converters):
            raise RuleViolation("the cursor is not one this API gave out", code="invalid_cursor")
        try:
            return tuple(
                _STRICT.get(convert, convert)(value) for convert, value in zip(converters, self.after, strict=True)
            )
        except (TypeError, ValueError, OverflowError) as error:
            raise RuleViolation("the cursor is not one this API gave out", code="invalid_cursor") from error


def cursor_int(value: Any, *, largest: int = BIGINT_MAX) -> int:
    """A whole number that fits a bigint column (booleans and floats are not numbers here)."""
    if type(value) is not int or not -largest - 1 <= value <= largest:
        raise ValueError("not an integer of the column's range")
    return value


def cursor_integer(value: Any) -> int:
    """A whole number that fits an integer (32-bit) column."""
    return cursor_int(value, largest=INTEGER_MAX)


def cursor_text(value: Any) -> str:
    """Text PostgreSQL can compare with: no NUL, and valid UTF-8 (a lone surrogate from JSON is not)."""
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError("not text")
    value.encode()  # UnicodeEncodeError, a ValueError, on a lone surrogate
    return value


def cursor_uuid(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise ValueError("not a UUID")
    return uuid.UUID(value)


def cursor_datetime(value: Any) -> datetime:
    """An ISO timestamp with its offset, which must still be a date once moved to UTC (year 1 to 9999)."""
    if not isinstance(value, str):
        raise ValueError("not a timestamp")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a timestamp without its offset")
    return moment.astimezone(UTC)  # OverflowError past year 9999 or before year 1


_STRICT: dict[Any, Callable[[Any], Any]] = {
    int: cursor_int,
    str: cursor_text,
    uuid.UUID: cursor_uuid,
    datetime.fromisoformat: cursor_datetime,
}


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as error:
        raise RuleViolation("the cursor is not one this API gave out", code="invalid_cursor") from error
    if not isinstance(values, list):
        raise RuleViolation("the cursor is not one this API gave out", code="invalid_cursor")
    return values


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")] = 50,
    cursor: Annotated[str | None, Query(max_length=512, description="from the previous page's next_cursor")] = None,
) -> PageParams:
    return PageParams(limit=limit, after=decode_cursor(cursor) if cursor else None)


def make_page(items: list[T], limit: int, key: Any) -> Page[T]:
    """``items`` fetched with ``limit + 1`` rows: the extra row says whether another page exists."""
    has_more = len(items) > limit
    shown = items[:limit]
    next_cursor = encode_cursor(list(key(shown[-1]))) if has_more and shown else None
    return Page[T](items=shown, next_cursor=next_cursor)
