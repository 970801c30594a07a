"""Torc for Python: the client, the wire contract, the workflow builder and the `torc` CLI."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["Client", "WorkflowBuilder", "__version__"]


def __getattr__(name: str) -> Any:
    # Imported lazily so the API can use the contract without loading the HTTP client.
    if name == "Client":
        from torc_client.client import Client

        return Client
    if name == "WorkflowBuilder":
        from torc_client.operations.builder import WorkflowBuilder

        return WorkflowBuilder
    raise AttributeError(name)
