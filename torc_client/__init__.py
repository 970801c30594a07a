"""Torc for Python: the client, the wire contract, the workflow builder and the `torc` CLI."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

#: The Python API a user writes against: the client, and the builder with its helpers.
_BUILDER = ("WorkflowBuilder", "run_workflow", "results", "user_data")

__all__ = ["Client", "__version__", *_BUILDER]


def __getattr__(name: str) -> Any:
    # Imported lazily so the API can use the contract without loading the HTTP client.
    if name == "Client":
        from torc_client.client import Client

        return Client
    if name in _BUILDER:
        from torc_client.operations import builder

        return getattr(builder, name)
    raise AttributeError(name)
