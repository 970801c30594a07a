"""Scenarios of Torc's published Python client, by area, and the helpers they share (see `driver.py`).

Imported by `driver.py` inside `.venv-torc-client`, where `torc-client` is installed: never by pytest.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable
from typing import Any

from torc.openapi_client import ComputeNodeModel, WorkflowModel
from torc.openapi_client.exceptions import ApiException

SCENARIOS: dict[str, Callable[..., dict[str, Any]]] = {}
#: Workflows a scenario made and did not delete (it stopped early): deleted when it ends.
MADE: list[int] = []


def scenario(func: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    SCENARIOS[func.__name__] = func
    return func


def dump(model: Any) -> Any:
    """A model (or list of models) as the client holds it; None stays None, which is what a 201 gives."""
    if model is None:
        return None
    if isinstance(model, list):
        return [dump(m) for m in model]
    return model.to_dict()


def new_workflow(api: Any, name: str, *, keep: bool = False, **fields: Any) -> Any:
    user = os.environ.get("TORC_USER") or getpass.getuser()
    workflow = api.create_workflow(WorkflowModel(user=user, name=name, **fields))
    if workflow is not None and not keep:
        MADE.append(workflow.id)
    return workflow


def new_node(api: Any, workflow_id: int, **fields: Any) -> Any:
    """A compute node on host `node-a`, as a Torc runner registers itself."""
    return api.create_compute_node(ComputeNodeModel(workflow_id=workflow_id, hostname="node-a", start_time="now",
                                                    num_gpus=0, num_nodes=1, compute_node_type="local", **fields))


def refusal(call: Callable[[], Any]) -> dict[str, Any] | None:
    """What the client raised for a call the server refused (None if it was answered)."""
    try:
        call()
    except ApiException as error:
        return {"status": error.status, "body": json.loads(error.body)}
    return None
