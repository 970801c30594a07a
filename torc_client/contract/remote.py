"""Wire records of `torc remote`: the SSH hosts a workflow's runners are started on."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Struct

from torc_client.contract.base import Record


class RemoteWorker(Record):
    """One SSH host of a workflow, as the user wrote it (`[user@]host[:port]`)."""

    workflow_id: int
    address: str


class RemoteWorkersAdd(Struct, kw_only=True):
    """Hosts to add to a workflow's remote workers."""

    #: `[user@]host[:port]` each (an IPv6 host in brackets); checked by the server.
    workers: Annotated[list[str], msgspec.Meta(min_length=1)]
