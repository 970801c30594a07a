"""Query parameters shared by the list endpoints."""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter

from torc_client.core import settings

Offset = Annotated[int, Parameter(ge=0, description="Records to skip.")]
Limit = Annotated[
    int, Parameter(ge=1, le=settings.MAX_PAGE_LIMIT, description=f"Largest page (at most {settings.MAX_PAGE_LIMIT}).")
]
WorkflowId = Annotated[int, Parameter(description="The workflow the records belong to.")]
SortBy = Annotated[str | None, Parameter(description="A field to order the records by (default: `id`).")]
ReverseSort = Annotated[bool, Parameter(description="Order from the largest value down.")]
DEFAULT_LIMIT = settings.DEFAULT_PAGE_LIMIT
