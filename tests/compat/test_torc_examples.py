"""Torc's Python examples and its `pytorc` job commands, run against this server.

The examples are kept, unchanged, under tests/data/upstream/examples/python (Torc's license is
there). They were written for the client of Torc's repository at v0.12.0; `torc-client` 0.35.0
imports `DefaultApi` from `torc.api` and its `create_jobs` takes no workflow id, so they run here
with those two spellings updated and nothing else changed.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.compat.conftest import TORC_VENV, torc_env
from tests.conftest import BIN

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "upstream" / "examples" / "python"
#: The two spellings of the v0.12.0 client that `torc-client` 0.35.0 changed.
UPDATES = (("from torc import create_jobs, make_api, setup_logging\n",
            "from torc import create_jobs, make_api, setup_logging\nfrom torc.api import DefaultApi\n"),
           ("from torc import make_api, map_function_to_jobs, setup_logging\n",
            "from torc import make_api, map_function_to_jobs, setup_logging\nfrom torc.api import DefaultApi\n"),
           ("    DefaultApi,\n", ""),
           ("create_jobs(api, workflow.id, jobs)", "create_jobs(api, jobs)"))  # fmt: skip


def run_example(name: str, server, torc_python: Path, where: Path) -> subprocess.CompletedProcess:
    text = (EXAMPLES / name).read_text()
    for old, new in UPDATES:
        text = text.replace(old, new)
    (where / name).write_text(text)
    (where / "simulation.py").write_text((EXAMPLES / "simulation.py").read_text())
    return subprocess.run([str(torc_python), name], cwd=where, env=torc_env(server.url), capture_output=True,
                          text=True, timeout=300)  # fmt: skip


@pytest.mark.parametrize(("example", "workflow_name", "job_names"), [
    ("diamond_workflow.py", "diamond_workflow", ["preprocess", "work1", "work2", "postprocess"]),
    ("map_function_across_workers.py", "map_function_workflow", ["1", "2", "3", "postprocess"]),
])  # fmt: skip
def test_example_creates_its_workflow(server, torc_python, tmp_path, client, example: str, workflow_name: str,
                                      job_names: list[str]) -> None:  # fmt: skip
    done = run_example(example, server, torc_python, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    (workflow,) = [w for w in client.list_workflows() if w.name == workflow_name]
    assert [j.name for j in client.list_jobs(workflow.id)] == job_names
    client.delete_workflow(workflow.id)


def test_pytorc_commands_run_a_mapped_workflow(drive, cli, server) -> None:
    """`pytorc run-function` and `run-postprocess` (Torc's job commands) read their inputs and store their results
    through this server, with this project's runner running them."""
    wid = drive("mapped", str(EXAMPLES))["workflow_id"]
    cli("run", str(wid), env={"PATH": f"{BIN}:{TORC_VENV / 'bin'}:{os.environ['PATH']}"}, timeout=240)
    found = drive("finished_run", str(wid))
    assert found["statuses"] == {"1": "completed", "2": "completed", "postprocess": "completed"}
    assert found["user_data"]["output_1"] == {"inputs": {"input1": 1}, "result": 5,
                                              "output_data_path": "/projects/my-project/1"}
    assert found["user_data"]["postprocess_result"] == {
        "total": 10, "output_data_paths": ["/projects/my-project/1", "/projects/my-project/2"]}
    # Torc's models of what the run left: its results, its runner and the workflow's summary
    assert sorted((r["job_name"], r["return_code"], r["status"]) for r in found["results"]) == [
        ("1", 0, "completed"), ("2", 0, "completed"), ("postprocess", 0, "completed")]
    assert found["first_result"] == found["results"][0]
    assert [n["is_active"] for n in found["compute_nodes"]] == [False]
    assert {r["compute_node_id"] for r in found["results"]} == {found["compute_nodes"][0]["id"]}
    assert found["status"]["is_complete"] is True and found["status"]["jobs_by_status"]["completed"] == 3
    assert found["status"]["total_exec_time_minutes"] == sum(r["exec_time_minutes"] for r in found["results"])
