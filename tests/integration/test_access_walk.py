"""Every operation of the API, tried by a second user against the first user's records, in every spelling.

`alice` owns a workflow with a record of every kind; `bob` is another user with a
workflow of his own. For each operation of the served OpenAPI document, bob names alice's
records: ids in plain digits and in every other spelling the router or a JSON reader could
take for them (`+7`, `07`, `0_7`, ` 7`, `"7"`, `7.0`), a repeated or mismatched
`workflow_id`, and a body of his own workflow that refers to her records. Every attempt
must be refused (403 or 404), and alice's workflow must read the same afterwards.
"""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import start_server, stop_server
from tests.integration.test_auth import PASSWORDS, users_file  # noqa: F401 - the users file fixture

#: List paths that read one workflow's records, for the before-and-after comparison.
LISTS = ["/jobs", "/files", "/user_data", "/resource_requirements", "/failure_handlers", "/results",
         "/compute_nodes", "/slurm_schedulers", "/workflow_actions", "/scheduled_compute_nodes",
         "/local_schedulers"]  # fmt: skip
#: Operations that are about no workflow of anybody's (the caller's own lists and creations).
CALLERS_OWN = {("get", "/ping"), ("get", "/version"), ("get", "/workflow_spec_schema"), ("get", "/workflows"),
               ("post", "/workflows"), ("post", "/workflows/specs"), ("get", "/access_groups"),
               ("post", "/access_groups")}  # fmt: skip

SPEC = {
    "name": "alices",
    "resource_requirements": [{"name": "small", "num_cpus": 1, "memory": "100m", "runtime": "PT1M"}],
    "failure_handlers": [{"name": "retry", "rules": [{"match_all_exit_codes": True, "max_retries": 1}]}],
    "files": [{"name": "in", "path": "in.txt"}],
    "user_data": [{"name": "secret", "data": {"key": "alice's"}}],
    "slurm_schedulers": [{"name": "stage", "account": "test", "nodes": 1, "walltime": "00:05:00"}],
    "actions": [{"trigger_type": "on_workflow_start", "action_type": "run_commands", "commands": ["true"]}],
    "jobs": [{"name": "first", "command": "echo first > in.txt", "output_files": ["in"],
              "resource_requirements": "small", "failure_handler": "retry"},
             {"name": "second", "command": "cat in.txt", "input_files": ["in"], "output_user_data": ["secret"]}],
}  # fmt: skip


@pytest.fixture(scope="module")
def walked_server(mongo_uri, users_file, tmp_path_factory):  # noqa: F811 - the imported fixture
    server = start_server(mongo_uri, f"torc_walk_{uuid.uuid4().hex[:8]}", tmp_path_factory.mktemp("walk"),
                          lease_seconds=3600, env={"TORC_ADMIN_USERS": "ada"},
                          extra_args=("--auth-file", str(users_file), "--require-auth",
                                      "--enforce-access-control"))  # fmt: skip
    yield server
    stop_server(server)


def http_as(server, user: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, auth=(user, PASSWORDS[user]), timeout=10)


def ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, (response.request.method, response.request.url, response.text)
    return response.json()


def populate(http: httpx.Client, tmp_path, name: str) -> dict[str, Any]:
    """A workflow with a record of every kind; the ids by path parameter name."""
    spec = {**SPEC, "name": name}
    wf = ok(http.post("/workflows/specs", json=spec, params={"working_dir": str(tmp_path),
                                                             "request_id": f"{name}-creation"}))  # fmt: skip
    wid = wf["id"]
    task = http.post(f"/workflows/{wid}/initialize_jobs", params={"async": "true"})  # initialises, as a task
    assert task.status_code == 202 and task.json()["status"] == "succeeded", task.text
    node = ok(http.post("/compute_nodes", json={"workflow_id": wid, "hostname": "h", "pid": 1, "num_cpus": 4,
                                                "memory_gb": 8}))  # fmt: skip
    claimed = ok(http.post(f"/workflows/{wid}/claim", json={"compute_node_id": node["id"], "limit": 1,
                                                            "num_cpus": 4, "memory_gb": 8, "start": True}))  # fmt: skip
    job = claimed["jobs"][0]
    ok(http.post(f"/workflows/{wid}/complete", json={"compute_node_id": node["id"], "outcomes": [
        {"job_id": job["id"], "claim_token": job["claim_token"], "status": "completed", "return_code": 0,
        "exec_time_minutes": 0.01, "completion_time": "2026-01-01T00:00:00Z"}]}))  # fmt: skip
    event = ok(http.post(f"/workflows/{wid}/events", json={"category": "user", "message": "mine"}))
    first = lambda path: ok(http.get(path, params={"workflow_id": wid}))["items"][0]["id"]  # noqa: E731
    scheduler = first("/slurm_schedulers")
    scheduled = ok(http.post("/scheduled_compute_nodes", json={"workflow_id": wid, "scheduler_id": 123,
                                                               "scheduler_config_id": scheduler}))  # fmt: skip
    actions = ok(http.get("/workflow_actions", params={"workflow_id": wid}))
    local = ok(http.post("/local_schedulers", json={"workflow_id": wid, "memory": "1g", "num_cpus": 2}))
    entity = ok(http.post("/ro_crate_entities", json={"workflow_id": wid, "entity_id": "#e", "entity_type": "Thing",
                                                      "metadata": {}}))  # fmt: skip
    ok(http.post(f"/workflows/{wid}/remote_workers", json=[f"{name}@host"]))
    return {"workflow_id": wid, "job_id": job["id"], "file_id": first("/files"), "user_data_id": first("/user_data"),
            "rr_id": first("/resource_requirements"), "handler_id": first("/failure_handlers"),
            "result_id": first("/results"), "event_id": event["id"], "compute_node": node["id"],
            "scheduler_id": scheduler, "action_id": actions[0]["id"], "scheduled_node": scheduled["id"],
            "local_scheduler": local["id"], "worker": f"{name}@host", "entity_id": entity["id"],
            "task_id": task.json()["id"]}  # fmt: skip


def snapshot(http: httpx.Client, ids: dict[str, int]) -> dict[str, Any]:
    """Everything alice can read of her workflow."""
    wid = ids["workflow_id"]
    seen = {"workflow": ok(http.get(f"/workflows/{wid}")), "status": ok(http.get(f"/workflows/{wid}/status")),
            "events": ok(http.get(f"/workflows/{wid}/events")), "groups": ok(http.get("/access_groups")),
            "creation": ok(http.get("/workflows/creations/alices-creation")),
            "user_data": ok(http.get(f"/user_data/{ids['user_data_id']}")),
            "remote_workers": ok(http.get(f"/workflows/{wid}/remote_workers"))}  # fmt: skip
    for path in LISTS:
        seen[path] = ok(http.get(path, params={"workflow_id": wid}))
    seen["workers"] = ok(http.get(f"/workflows/{wid}/remote_workers"))
    return seen


def spellings(value: int) -> list[str]:
    """Every way a path segment or query value could be read as `value`."""
    return [str(value), f"+{value}", f"0{value}", f"0_{value}", f" {value}", f"{value} "]


def path_values(path: str, ids: dict[str, int], group: int) -> dict[str, int | str]:
    """The value of each path parameter of `path`: alice's record of that name."""
    values: dict[str, int | str] = {**ids, "group_id": group, "user": "bob", "request_id": "alices-creation",
                                    "run_id": 1, "limit": 1, "status": "completed", "user_name": "alice"}  # fmt: skip
    values["node_id"] = ids["scheduled_node"] if path.startswith("/scheduled_compute_nodes") else ids["compute_node"]
    values["compute_node_id"] = ids["compute_node"]
    if path.startswith("/local_schedulers"):
        values["scheduler_id"] = ids["local_scheduler"]
    if path.startswith("/events/"):  # Torc's event routes: ids unique across workflows
        values["event_id"] = (ids["workflow_id"] << 32) | ids["event_id"]
    return values


def example(schema: dict[str, Any], components: dict[str, Any], ids: dict[str, int]) -> Any:
    """A body that matches `schema`, naming alice's workflow and records wherever it names one."""
    if "$ref" in schema:
        return example(components[schema["$ref"].rsplit("/", 1)[1]], components, ids)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return example(options[0], components, ids) if options else None
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        body = {}
        for name, field in schema.get("properties", {}).items():
            body[name] = _field(name, field, components, ids)
        return body
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "array" and "workflow_id" in _resolved(schema.get("items", {}), components).get("properties", {}):
        return [example(schema["items"], components, ids)]  # records of a workflow (jobs created in bulk): one
    return {"integer": 1, "number": 1.0, "boolean": False, "string": "x", "array": []}.get(kind)


def _resolved(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    return components[schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema


def _field(name: str, field: dict[str, Any], components: dict[str, Any], ids: dict[str, int]) -> Any:
    references = {"workflow_id": "workflow_id", "compute_node_id": "compute_node", "job_id": "job_id",
                  "resource_requirements_id": "rr_id", "failure_handler_id": "handler_id",
                  "scheduler_config_id": "scheduler_id", "action_id": "action_id"}  # fmt: skip
    if name in references:
        return ids[references[name]]
    if name.endswith("job_ids"):
        return [ids["job_id"]]
    if name.endswith("file_ids"):
        return [ids["file_id"]]
    if name.endswith("user_data_ids"):
        return [ids["user_data_id"]]
    return example(field, components, ids)


def attempts(operation: dict[str, Any], method: str, path: str, alice: dict[str, int], bob: dict[str, int],
             group: int, components: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]], bytes | None]]:  # fmt: skip
    """Bob's requests for one operation: (path, query, body), each naming alice's workflow or records."""
    names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
    queries = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    found = []
    theirs, his = path_values(path, alice, group), path_values(path, bob, group)

    def filled(values: dict[str, Any], spelled: dict[str, str] | None = None) -> str:
        out = path
        for name in names:
            out = out.replace("{" + name + "}", quote(str((spelled or {}).get(name, values[name])), safe="+"))
        return out

    wid, own = alice["workflow_id"], bob["workflow_id"]
    query_variants = [[("workflow_id", str(wid))], [("workflow_id", str(own)), ("workflow_id", str(wid))],
                      [("workflow_id", str(wid)), ("workflow_id", str(own))]] + \
        [[("workflow_id", s)] for s in spellings(wid)[1:]]  # fmt: skip
    query = query_variants if "workflow_id" in queries else [[]]
    bodies: list[bytes | None] = [None]
    if schema is not None:
        theirs_body = example(schema, components, alice)
        bodies = [json.dumps(theirs_body).encode()]
        if isinstance(theirs_body, dict) and "workflow_id" in theirs_body:
            for loose in (str(wid), float(wid), f"+{wid}"):
                bodies.append(json.dumps({**theirs_body, "workflow_id": loose}).encode())
            mixed = {**theirs_body, "workflow_id": own}  # his workflow, her records
            if mixed != {**example(schema, components, bob)}:
                bodies.append(json.dumps(mixed).encode())
    if names and any(isinstance(theirs[n], int) for n in names):
        for k in range(len(spellings(0))):
            spelled = {n: spellings(theirs[n])[k] for n in names if isinstance(theirs[n], int)}
            for q, b in itertools.product(query, bodies):
                found.append((filled(theirs, spelled), q, b))
    elif names:  # only string parameters (a creation's request id): alice's own name for it
        found += [(filled(theirs), q, b) for q, b in itertools.product(query, bodies)]
    else:
        found += [(path, q, b) for q, b in itertools.product(query, bodies)]
    if names and schema is not None and example(schema, components, alice) != example(schema, components, bob):
        found += [(filled(his), [], b) for b in bodies]  # his own record in the path, her records in the body
    if not names and "workflow_id" not in queries and schema is not None:  # a creation through his own list
        found += [(path, [("workflow_id", str(own))], b) for b in bodies]
    return found


def test_a_second_user_is_refused_every_operation_on_the_first_users_records(walked_server, tmp_path) -> None:
    with http_as(walked_server, "alice") as alice_http, http_as(walked_server, "bob") as bob_http, \
            http_as(walked_server, "ada") as admin:  # fmt: skip
        alice = populate(alice_http, tmp_path, "alices")
        bob = populate(bob_http, tmp_path, "bobs")
        group = ok(admin.post("/access_groups", json={"name": f"alices-{uuid.uuid4().hex[:6]}"}))["id"]
        ok(admin.post(f"/access_groups/{group}/members", json={"user": "alice", "role": "admin"}))
        ok(alice_http.post(f"/access_groups/{group}/workflows/{alice['workflow_id']}"))
        before = snapshot(alice_http, alice)
        schema = ok(alice_http.get("/docs/openapi.json"))
        components = schema["components"]["schemas"]
        prefix = "/torc-service/v1"
        tried, through = 0, []
        for full_path, operations in schema["paths"].items():
            path = full_path.removeprefix(prefix)
            for method, operation in operations.items():
                if (method, path) in CALLERS_OWN or method not in ("get", "post", "put", "patch", "delete"):
                    continue
                for url, query, body in attempts(operation, method, path, alice, bob, group, components):
                    headers = {"content-type": "application/json"} if body is not None else {}
                    for verb in [method.upper()] + (["HEAD"] if method == "get" else []):
                        response = bob_http.request(verb, url, params=query, content=body, headers=headers)
                        tried += 1
                        if response.status_code not in (403, 404) + ((405,) if verb == "HEAD" else ()):
                            through.append(f"{verb} {url} {query} {body!r}: {response.status_code} "
                                           f"{response.text[:200]}")  # fmt: skip
        assert tried > 500
        assert not through, f"{len(through)} of {tried} got through:\n" + "\n".join(through)
        assert snapshot(alice_http, alice) == before
        listed = ok(bob_http.get("/workflows"))["items"]
        assert alice["workflow_id"] not in [w["id"] for w in listed]
        assert ok(bob_http.get("/access_groups")) == []
