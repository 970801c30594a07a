"""Job priority: jobs with a higher `priority` are claimed before the others queued with them."""

from __future__ import annotations

from tests.claims.test_http_claims import claim, finish, register
from torc_client import Client
from torc_client.operations.spec_export import export_spec

#: Spec order mixes the priorities, so a claim order by priority cannot be the spec order by chance.
FLAT = {"name": "prio", "jobs": [
    {"name": "low_0", "command": "true"}, {"name": "high_0", "command": "true", "priority": 10},
    {"name": "neg", "command": "true", "priority": -5}, {"name": "low_1", "command": "true"},
    {"name": "high_1", "command": "true", "priority": 10}, {"name": "mid", "command": "true", "priority": 3}]}  # fmt: skip
BY_PRIORITY = ["high_0", "high_1", "mid", "low_0", "low_1", "neg"]


def claim_order(client: Client, wid: int, node: int, n: int) -> list[str]:
    """Claim one job at a time, completing each, and return their names in claim order."""
    names = []
    for _ in range(n):
        jobs = claim(client, wid, node, limit=1)
        assert len(jobs) == 1
        names.append(jobs[0].name)
        finish(client, wid, node, jobs)
    return names


def test_priority_changes_the_order_of_claims(client: Client, make_workflow) -> None:
    wf = make_workflow(FLAT, initialize=True)
    assert {j.name: j.priority for j in client.list_jobs(wf.id)} == {
        "low_0": 0, "high_0": 10, "neg": -5, "low_1": 0, "high_1": 10, "mid": 3}
    node = register(client, wf.id)
    assert claim_order(client, wf.id, node, 6) == BY_PRIORITY


def test_priority_orders_a_rerun_and_a_rebuilt_run(client: Client, make_workflow) -> None:
    wf = make_workflow(FLAT, initialize=True)
    node = register(client, wf.id)
    claim_order(client, wf.id, node, 6)
    client.reset_workflow_status(wf.id)
    client.reinitialize_workflow(wf.id)
    assert claim_order(client, wf.id, node, 6) == BY_PRIORITY
    client.initialize_workflow(wf.id, force=True)  # every job rebuilt from its relationships
    assert claim_order(client, wf.id, node, 6) == BY_PRIORITY


def test_priority_orders_the_dependents_one_completion_releases(client: Client, make_workflow) -> None:
    spec = {"name": "prio_fan", "jobs": [
        {"name": "root", "command": "true"},
        *({"name": f"child_{i}", "command": "true", "depends_on": ["root"], "priority": p}
          for i, p in enumerate([0, 7, 1, 7]))]}  # fmt: skip
    wf = make_workflow(spec, initialize=True)
    node = register(client, wf.id)
    assert claim_order(client, wf.id, node, 5) == ["root", "child_1", "child_3", "child_2", "child_0"]


def test_export_keeps_priority(client: Client, make_workflow) -> None:
    wf = make_workflow(FLAT)
    exported = export_spec(client, wf.id)
    priorities = {job["name"]: job.get("priority", 0) for job in exported["jobs"]}
    assert priorities == {"low_0": 0, "high_0": 10, "neg": -5, "low_1": 0, "high_1": 10, "mid": 3}
