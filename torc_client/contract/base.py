"""What every record of the wire contract builds on: `Record`, `Page` and `Name` (re-exported by `contract`)."""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

import msgspec
from msgspec import Struct

from torc_client.core import settings

T = TypeVar("T")


#: A name a caller gives a record: not empty, no control characters (they would garble every table and log line).
# `(?![\s\S])`, not `$`: Python's `$` also matches before a final newline.
Name = Annotated[str, msgspec.Meta(min_length=1, pattern=r"^[^\x00-\x1f\x7f]+(?![\s\S])",
                                   description="Not empty; no control characters.")]  # fmt: skip
#: A job's command: at most what Linux passes in one argument to `bash -c` (a spec's plan counts it in bytes).
Command = Annotated[str, msgspec.Meta(max_length=settings.MAX_COMMAND_BYTES,
                                      description=f"At most {settings.MAX_COMMAND_BYTES} characters.")]  # fmt: skip


#: How a runner orders the ready jobs it can fit (Torc's names).
SortMethod = Literal["gpus_runtime_memory", "gpus_memory_runtime", "none"]


class Record(Struct, kw_only=True):
    """Base of every response record."""

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON-compatible data (what `-f json` prints)."""
        return msgspec.to_builtins(self)


class Page(Record, Generic[T]):
    """One page of a listing, in Torc's envelope: `max_limit` is the largest page that was asked for."""

    items: list[T]
    offset: int
    max_limit: int
    count: int
    total_count: int
    has_more: bool
