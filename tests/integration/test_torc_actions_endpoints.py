"""Torc's workflow actions and failure handlers over plain HTTP."""

from __future__ import annotations

import json

from tests.integration.torc_http import bulk, http, new_workflow, node, ok, refused

__all__ = ["http"]  # the fixture


def test_an_action_created_in_torcs_body_fires_and_is_claimed_once(http) -> None:
    wid = new_workflow(http)
    [job] = bulk(http, wid, [{"name": "a", "command": "true"}])
    action = ok(http.post(f"/workflows/{wid}/actions", json={
        "workflow_id": wid, "trigger_type": "on_workflow_start", "action_type": "run_commands",
        "action_config": {"commands": ["echo started"]}, "job_ids": [job["id"]]}))  # fmt: skip
    assert (action["trigger_type"], action["action_config"]["commands"]) == ("on_workflow_start", ["echo started"])
    assert [a["id"] for a in ok(http.get(f"/workflows/{wid}/actions"))] == [action["id"]]
    assert ok(http.get(f"/workflows/{wid}/actions/pending")) == []
    ok(http.post(f"/workflows/{wid}/initialize_jobs"))
    pending = ok(http.get(f"/workflows/{wid}/actions/pending", params={"trigger_type": "on_workflow_start"}))
    assert [a["id"] for a in pending] == [action["id"]]
    assert ok(http.get(f"/workflows/{wid}/actions/pending", params={"trigger_type": "on_jobs_ready"})) == []
    both = [("trigger_type", "on_jobs_ready"), ("trigger_type", "on_workflow_start")]  # Torc sends a list so
    assert [a["id"] for a in ok(http.get(f"/workflows/{wid}/actions/pending", params=both))] == [action["id"]]
    refused(http.get(f"/workflows/{wid}/actions", params=[("x", "1"), ("x", "2")]), 400, "give it once")
    node_id = node(http, wid)
    claimed = ok(http.post(f"/workflows/{wid}/actions/{action['id']}/claim", json={"compute_node_id": node_id}))
    assert claimed == {"action_id": action["id"], "success": True}
    refused(http.post(f"/workflows/{wid}/actions/{action['id']}/claim", json={"compute_node_id": node_id}), 409)
    assert ok(http.get(f"/workflows/{wid}/actions/pending")) == []


def test_actions_refuse_bad_bodies_and_other_workflows_actions(http) -> None:
    wid, other = new_workflow(http), new_workflow(http, "other")
    body = {"workflow_id": wid, "trigger_type": "on_workflow_start", "action_type": "run_commands",
            "action_config": {"commands": ["true"]}}  # fmt: skip
    refused(http.post(f"/workflows/{other}/actions", json=body), 422, "path says")
    refused(http.post(f"/workflows/{wid}/actions", json={**body, "action_config": {"commands": "true"}}), 422,
            "action_config.commands")  # fmt: skip
    refused(http.post(f"/workflows/{wid}/actions", json={**body, "action_config": {"commands": [1]}}), 422,
            "list of strings")  # fmt: skip
    refused(http.post(f"/workflows/{wid}/actions", json={**body, "trigger_type": "whenever"}), 422, "whenever")
    refused(http.post(f"/workflows/{wid}/actions", json={k: v for k, v in body.items() if k != "action_config"}),
            400, "action_config")  # fmt: skip
    action = ok(http.post(f"/workflows/{wid}/actions", json=body))
    refused(http.post(f"/workflows/{other}/actions/{action['id']}/claim", json={"compute_node_id": 1}), 404,
            "workflow_action")  # fmt: skip
    refused(http.post(f"/workflows/{wid}/actions/{10**12}/claim", json={"compute_node_id": 1}), 404)
    refused(http.get(f"/workflows/{10**12}/actions"), 404, "workflow")


def test_failure_handlers_are_created_from_torcs_text_rules_listed_and_deleted(http) -> None:
    wid = new_workflow(http)
    rules = [{"exit_codes": [3], "max_retries": 2}, {"match_all_exit_codes": True, "recovery_script": "fix.sh"}]
    made = ok(http.post("/failure_handlers", json={"workflow_id": wid, "name": "retry", "rules": json.dumps(rules)}))
    assert made["name"] == "retry" and made["rules"] == [
        {"exit_codes": [3], "match_all_exit_codes": False, "recovery_script": None, "max_retries": 2},
        {"exit_codes": [], "match_all_exit_codes": True, "recovery_script": "fix.sh", "max_retries": 3}]  # fmt: skip
    listed = ok(http.post("/failure_handlers", json={"workflow_id": wid, "name": "as-list", "rules": rules}))
    page = ok(http.get(f"/workflows/{wid}/failure_handlers"))
    assert [h["id"] for h in page["items"]] == [made["id"], listed["id"]] and page["total_count"] == 2
    assert ok(http.delete(f"/failure_handlers/{listed['id']}"))["id"] == listed["id"]
    assert [h["id"] for h in ok(http.get(f"/workflows/{wid}/failure_handlers"))["items"]] == [made["id"]]
    refused(http.delete(f"/failure_handlers/{listed['id']}"), 404, "failure_handler")


def test_failure_handlers_refuse_bad_rules_duplicates_and_handlers_in_use(http, tmp_path) -> None:
    wid = new_workflow(http)
    body = {"workflow_id": wid, "name": "h", "rules": "[]"}
    refused(http.post("/failure_handlers", json={**body, "rules": "[{"}), 422, "JSON array")
    refused(http.post("/failure_handlers", json={**body, "rules": '[{"exit_codes": [1], "retries": 2}]'}), 422,
            "retries")  # fmt: skip
    refused(http.post("/failure_handlers", json={**body, "rules": '[{"max_retries": -1}]'}), 422, "max_retries")
    refused(http.post("/failure_handlers", json={**body, "workflow_id": 10**12}), 404, "workflow")
    ok(http.post("/failure_handlers", json=body))
    refused(http.post("/failure_handlers", json=body), 409, "already has a failure handler named 'h'")
    spec = {"name": "uses", "failure_handlers": [{"name": "retry", "rules": [{"match_all_exit_codes": True}]}],
            "jobs": [{"name": "a", "command": "true", "failure_handler": "retry"}]}  # fmt: skip
    used = http.post("/workflows/specs", json=spec, params={"working_dir": str(tmp_path)}).json()["id"]
    [handler] = ok(http.get(f"/workflows/{used}/failure_handlers"))["items"]
    refused(http.delete(f"/failure_handlers/{handler['id']}"), 409, "used by 1 job")
    refused(http.get(f"/workflows/{10**12}/failure_handlers"), 404, "workflow")
