"""Torc's calls under `--enforce-access-control`: the owner's calls are answered, another user's are refused (403)."""

from __future__ import annotations

from tests.integration.test_access_walk import http_as as as_user
from tests.integration.test_access_walk import walked_server as guarded  # noqa: F401 - the guarded server fixture
from tests.integration.test_auth import users_file  # noqa: F401 - the users file the guarded server reads
from tests.integration.torc_http import ok, result


def test_another_users_torc_calls_are_refused_and_the_owners_answered(guarded) -> None:  # noqa: F811
    with as_user(guarded, "alice") as alice, as_user(guarded, "bob") as bob:
        wid = alice.post("/workflows", json={"name": "alices"}).json()["id"]
        own = bob.post("/workflows", json={"name": "bobs"}).json()["id"]
        job = {"workflow_id": wid, "name": "a", "command": "true"}
        assert bob.post("/bulk_jobs", json={"jobs": [job]}).status_code == 403
        assert bob.post("/bulk_jobs", json={"jobs": [{**job, "workflow_id": str(wid)}]}).status_code == 403
        [made] = ok(alice.post("/bulk_jobs", json={"jobs": [job]}))["jobs"]
        node = alice.post("/compute_nodes", json={"workflow_id": wid, "hostname": "h", "pid": 1}).json()["id"]
        ok(alice.post(f"/workflows/{wid}/initialize_jobs"))
        reads = ["is_complete", "is_uninitialized", "job_ids", "ready_job_requirements", "job_dependencies",
                 "job_file_relationships", "job_user_data_relationships"]  # fmt: skip
        for read in reads:
            assert bob.get(f"/workflows/{wid}/{read}").status_code == 403, read
            ok(alice.get(f"/workflows/{wid}/{read}"))
        assert bob.post(f"/workflows/{wid}/claim_next_jobs").status_code == 403
        free = {"num_cpus": 1, "memory_gb": 1.0, "num_gpus": 0, "num_nodes": 1}
        assert bob.post(f"/workflows/{wid}/claim_jobs_based_on_resources/1", json=free).status_code == 403
        assert bob.put(f"/jobs/{made['id']}/start_job/1/{node}").status_code == 403
        ok(alice.post(f"/workflows/{wid}/claim_next_jobs"))
        ok(alice.put(f"/jobs/{made['id']}/start_job/1/{node}"))
        body = result(made, 1, node)
        assert bob.post(f"/jobs/{made['id']}/complete_job/completed/1", json=body).status_code == 403
        assert bob.post("/results", json=body).status_code == 403
        assert bob.post("/results", json={**body, "workflow_id": own}).status_code == 403  # her job in his workflow
        assert ok(alice.post(f"/jobs/{made['id']}/complete_job/completed/1", json=body))["status"] == "completed"
        assert bob.post("/events", json={"workflow_id": wid, "data": {"message": "x"}}).status_code == 403
        assert bob.get("/events", params={"workflow_id": wid}).status_code == 403
        assert bob.put(f"/compute_nodes/{node}", json={"is_active": False}).status_code == 403
        assert bob.post(f"/workflows/{wid}/reset_job_status").status_code == 403
        assert bob.post(f"/jobs/{made['id']}/retry/1").status_code == 403
        assert bob.put(f"/jobs/{made['id']}/manage_status_change/disabled/1").status_code == 403
        for read in ("required_existing_files", "missing_user_data", "latest_event_timestamp", "failure_handlers",
                     "actions", "actions/pending"):  # fmt: skip
            assert bob.get(f"/workflows/{wid}/{read}").status_code == 403, read
            ok(alice.get(f"/workflows/{wid}/{read}"))
        action = {"workflow_id": wid, "trigger_type": "on_workflow_start", "action_type": "run_commands",
                  "action_config": {"commands": ["true"]}}  # fmt: skip
        assert bob.post(f"/workflows/{wid}/actions", json=action).status_code == 403
        assert bob.post(f"/workflows/{own}/actions", json=action).status_code == 403  # her workflow in his path
        handler = {"workflow_id": wid, "name": "h", "rules": "[]"}
        assert bob.post("/failure_handlers", json=handler).status_code == 403
        made_handler = ok(alice.post("/failure_handlers", json=handler))
        assert bob.delete(f"/failure_handlers/{made_handler['id']}").status_code == 403
        status = {"run_id": 1, "is_canceled": True}
        assert bob.put(f"/workflows/{wid}/status", json=status).status_code == 403
        assert bob.post(f"/workflows/{wid}/process_changed_job_inputs").status_code == 403
        assert bob.post(f"/workflows/{wid}/remote_workers", json=["h"]).status_code == 403
        assert bob.post("/local_schedulers", json={"workflow_id": wid}).status_code == 403
        for kind in ("jobs", "files", "user_data", "results", "events", "compute_nodes", "slurm_schedulers"):
            assert bob.delete(f"/{kind}", params={"workflow_id": wid}).status_code == 403, kind
        assert ok(alice.get(f"/workflows/{wid}/is_complete"))["is_complete"] is True
        assert ok(alice.get("/events", params={"workflow_id": wid}))["total_count"] > 0
