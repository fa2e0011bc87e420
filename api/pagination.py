"""Cursor pagination: opaque cursors that encode the sort key of the last item seen."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from domain.errors import RuleViolation

T = TypeVar("T")
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="pass as `cursor` to get the next page; null on the last page", examples=[None]
    )


class PageParams(BaseModel):
    limit: int
    after: list[Any] | None

    def after_as(self, *converters: Any) -> tuple[Any, ...] | None:
        """The cursor's values converted to the sort key's types; a cursor that does not fit is refused."""
        if self.after is None:
            return None
        if len(self.after) != len(converters):
            raise RuleViolation("the cursor is not one this API gave out", code="invalid_cursor")
        try:
            return tuple(convert(value) for convert, value in zip(converters, self.after, strict=True))
        except (TypeError, ValueError) as error:
            raise RuleViolation("the cursor is not one this API gave out", code="invalid_cursor") from error


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
