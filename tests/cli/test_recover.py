"""`torc recover`, `torc watch --recover` and `torc workflows correct-resources`, with real jobs that run out of
memory (`--enforce-memory`) and time, as a user would type them."""

from __future__ import annotations

import json
import uuid

import pytest

from torc_client import Client
from torc_client.core.units import parse_memory

MIB = 2**20
#: Holds 52 MiB plus Python's own ~13 (a 50m request) long enough to be sampled at 0.2 s: over its request, and under
#: the 75m recovery gives it (1.5 x at least 50m) whether the kernel stopped it at 50m (a cgroup) or a sample saw more.
HUNGRY = "python3 -c \"import time; b = bytearray(52 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(2)\""
#: Grows without end: however much memory it is given, it runs out.
INSATIABLE = ("python3 -c \"import time\nkeep = []\nwhile True:\n    keep.append(bytearray(20 * 2**20)); "
              "keep[-1][::4096] = b'x' * len(keep[-1][::4096]); time.sleep(0.05)\"")


def _spec(**jobs: dict) -> dict:
    return {
        "name": f"recover_{uuid.uuid4().hex[:6]}",
        "resource_monitor": {"sample_interval_seconds": 0.2},
        "resource_requirements": [{"name": "small", "memory": "50m", "runtime": "PT1M"},
                                  {"name": "quick", "memory": "100m", "runtime": "PT3S"}],
        "jobs": [{"name": name, **job} for name, job in jobs.items()],
    }  # fmt: skip


def _by_name(client: Client, workflow_id: int) -> dict:
    return {job.name: job for job in client.list_jobs(workflow_id)}


def _requirements(client: Client, workflow_id: int) -> dict:
    return {rr.name: rr for rr in client.list_resource_requirements(workflow_id)}


@pytest.fixture()
def failed_run(client, make_workflow, cli):
    """A finished run: `hungry` out of memory, `slow` out of time, `broken` exits 3, `after` canceled, `steady` ok."""
    wf = make_workflow(_spec(
        hungry={"command": HUNGRY, "resource_requirements": "small"},
        slow={"command": "sleep 4", "resource_requirements": "quick"},
        broken={"command": "exit 3", "resource_requirements": "small"},
        after={"command": "echo after", "depends_on": ["hungry"]},
        steady={"command": "sleep 1", "resource_requirements": "small"},
    ), initialize=True)  # fmt: skip
    assert cli("run", str(wf.id), "--enforce-memory", check=False).returncode == 1
    assert {n: j.status for n, j in _by_name(client, wf.id).items()} == {
        "hungry": "failed", "slow": "terminated", "broken": "failed", "after": "canceled", "steady": "completed"}
    return wf


def test_recover_raises_exactly_the_jobs_that_ran_out_and_the_rerun_completes(client, cli, failed_run) -> None:
    wid = str(failed_run.id)
    before = _requirements(client, failed_run.id)

    # A dry run prints the plan and changes nothing.
    dry = cli("-f", "json", "recover", wid, "--dry-run", "--retry-unknown")
    plan = json.loads(dry.stdout)
    assert {r["name"]: (r["failure"], r["job_names"]) for r in plan["raises"]} == {
        "small_oom1": ("oom", ["hungry"]), "quick_timeout1": ("timeout", ["slow"])}
    assert _requirements(client, failed_run.id).keys() == before.keys()
    assert _by_name(client, failed_run.id)["hungry"].status == "failed"

    # A job that failed for another reason stops recovery: rerunning it as it is would fail again.
    refused = cli("recover", wid, check=False)
    assert refused.returncode == 1
    assert "1 job failed for a reason other than memory or time (broken)" in refused.stderr
    assert _requirements(client, failed_run.id).keys() == before.keys()

    done = cli("recover", wid, "--retry-unknown")
    assert "small_oom1: memory 50m ->" in done.stderr and "quick_timeout1: runtime PT3S -> PT5S" in done.stderr
    after = _requirements(client, failed_run.id)
    peak = client.list_results(failed_run.id, job_id=_by_name(client, failed_run.id)["hungry"].id)[-1].peak_memory_bytes
    assert parse_memory(after["small_oom1"].memory) >= 1.5 * max(peak, 50 * MIB)
    assert (after["small_oom1"].runtime, after["quick_timeout1"].runtime) == ("PT1M", "PT5S")
    assert after["small"] == before["small"] and after["quick"] == before["quick"]  # the groups themselves are kept
    jobs = _by_name(client, failed_run.id)
    rr_of = {name: job.resource_requirements_id for name, job in jobs.items()}
    assert rr_of["hungry"] == after["small_oom1"].id and rr_of["slow"] == after["quick_timeout1"].id
    assert rr_of["broken"] == rr_of["steady"] == before["small"].id  # only the jobs that ran out move

    rerun = cli("run", wid, "--enforce-memory", check=False)
    assert rerun.returncode == 1  # broken fails again; everything else completes
    assert {n: j.status for n, j in _by_name(client, failed_run.id).items()} == {
        "hungry": "completed", "slow": "completed", "broken": "failed", "after": "completed", "steady": "completed"}


def test_recover_needs_a_finished_workflow(client, cli, make_workflow) -> None:
    wf = make_workflow(_spec(a={"command": "true"}), initialize=True)
    result = cli("recover", str(wf.id), check=False)
    assert result.returncode == 1
    assert f"workflow {wf.id} is still running (1 ready)" in result.stderr


def test_watch_recover_gives_up_after_max_retries(client, cli, make_workflow) -> None:
    wf = make_workflow(_spec(greedy={"command": INSATIABLE, "resource_requirements": "small"}), initialize=True)
    assert cli("run", str(wf.id), "--enforce-memory", check=False).returncode == 1
    watched = cli("watch", str(wf.id), "--recover", "--max-retries", "1", "--enforce-memory", "-p", "0.2",
                  check=False, timeout=180)  # fmt: skip
    assert watched.returncode == 1, watched.stderr
    assert "Recovery round 1 of at most 1" in watched.stderr
    assert "Giving up: 1 job still did not complete after 1 recovery round (--max-retries 1)" in watched.stderr
    groups = _requirements(client, wf.id)
    assert "small_oom1" in groups and "small_oom2" not in groups  # one round, no more
    attempts = client.list_results(wf.id, all_runs=True)
    assert [r.return_code for r in attempts] == [137, 137]


def test_watch_recover_reruns_here_until_the_workflow_completes(client, cli, make_workflow) -> None:
    wf = make_workflow(_spec(slow={"command": "sleep 4", "resource_requirements": "quick"}), initialize=True)
    assert cli("run", str(wf.id), check=False).returncode == 1
    watched = cli("watch", str(wf.id), "--recover", "-p", "0.2", timeout=180)
    assert "quick_timeout1: runtime PT3S -> PT5S for 1 job (slow)" in watched.stderr
    assert "Running the rerun here" in watched.stderr
    assert _by_name(client, wf.id)["slow"].status == "completed"


def test_correct_resources_shows_then_applies_the_measured_requests(client, cli, make_workflow) -> None:
    wf = make_workflow(_spec(steady={"command": "sleep 1.5", "resource_requirements": "small"}), initialize=True)
    cli("run", str(wf.id))
    wid = str(wf.id)
    proposed = json.loads(cli("-f", "json", "workflows", "correct-resources", wid, "--dry-run").stdout)
    assert [fix["name"] for fix in proposed] == ["small"]
    changes = proposed[0]["changes"]
    assert changes["memory"]["now"] == "50m" and parse_memory(changes["memory"]["proposed"]) < 50 * MIB
    assert "runtime" not in changes and "num_cpus" not in changes  # 1.5 s x 1.2 is still a minute; 1 CPU at most
    assert _requirements(client, wf.id)["small"].memory == "50m"  # the dry run changed nothing
    cli("workflows", "correct-resources", wid, "--yes")
    assert _requirements(client, wf.id)["small"].memory == changes["memory"]["proposed"]
    again = cli("workflows", "correct-resources", wid, "--dry-run")
    assert "every measured group already asks for what its jobs used" in again.stderr
