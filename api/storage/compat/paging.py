"""One page of rows already read and ordered, in Torc's listing envelope."""

from __future__ import annotations

from typing import TypeVar

from torc_client.contract import Page

T = TypeVar("T")


def page(rows: list[T], offset: int, limit: int) -> Page[T]:
    items = rows[offset : offset + limit]
    return Page(items=items, offset=offset, max_limit=limit, count=len(items), total_count=len(rows),
                has_more=offset + len(items) < len(rows))  # fmt: skip
