"""`--recovery-hook` of `torc recover` and `torc watch --recover`: a user's command fixes the failures recovery does
not know, then those jobs rerun; a hook that fails stops recovery with nothing reset."""

from __future__ import annotations

import json
import uuid

import pytest

#: Fails with 3 until the file `fixed` exists: a cause no heuristic knows.
NEEDS_FIX = "test -f fixed || { echo 'config error: fixed is missing' >&2; exit 3; }"
#: The hook: records how it was called, then makes the fix.
HOOK = 'echo "arg=$1 env=$TORC_WORKFLOW_ID" > hook_called.txt; echo "fixing $1"; touch fixed\n'


@pytest.fixture()
def needs_fix(client, make_workflow, cli, tmp_path):
    (tmp_path / "fix.sh").write_text(HOOK)
    wf = make_workflow({"name": f"hook_{uuid.uuid4().hex[:6]}", "jobs": [
        {"name": "fragile", "command": NEEDS_FIX}, {"name": "after", "command": "true", "depends_on": ["fragile"]},
        {"name": "fine", "command": "true"}]}, initialize=True)  # fmt: skip
    assert cli("run", str(wf.id), check=False).returncode == 1
    return wf


def _statuses(client, wid: int) -> dict[str, str]:
    return {job.name: job.status for job in client.list_jobs(wid)}


def test_recover_runs_the_hook_with_the_workflow_id_then_reruns_the_jobs(client, cli, needs_fix, tmp_path) -> None:
    wid = str(needs_fix.id)
    plan = json.loads(cli("-f", "json", "recover", wid, "--dry-run", "--recovery-hook", "sh fix.sh").stdout)
    assert plan["can_recover"] and plan["recovery_hook"] == "sh fix.sh"
    assert not (tmp_path / "hook_called.txt").exists()  # a dry run does not run it

    done = cli("recover", wid, "--recovery-hook", "sh fix.sh")
    assert (tmp_path / "hook_called.txt").read_text().strip() == f"arg={wid} env={wid}"
    assert f"[hook] fixing {wid}" in done.stderr
    assert _statuses(client, needs_fix.id) == {"fragile": "ready", "after": "blocked", "fine": "completed"}
    cli("run", wid)
    assert set(_statuses(client, needs_fix.id).values()) == {"completed"}


def test_recover_stops_when_the_hook_fails_and_resets_nothing(client, cli, needs_fix, tmp_path) -> None:
    failed = cli("recover", str(needs_fix.id), "--recovery-hook", "sh -c 'echo cannot fix; exit 4'", check=False)
    assert failed.returncode == 1
    assert "[hook] cannot fix" in failed.stderr and "exited 4" in failed.stderr
    assert _statuses(client, needs_fix.id) == {"fragile": "failed", "after": "canceled", "fine": "completed"}
    missing = cli("recover", str(needs_fix.id), "--recovery-hook", "./no-such-hook", check=False)
    assert missing.returncode == 1 and "could not start" in missing.stderr


def test_watch_recover_runs_the_hook_and_watches_the_rerun_to_completion(client, cli, needs_fix) -> None:
    watched = cli("watch", str(needs_fix.id), "--recover", "--recovery-hook", "sh fix.sh", "-p", "0.2", timeout=180)
    assert "rerun after the recovery hook (fragile)" in watched.stderr
    assert set(_statuses(client, needs_fix.id).values()) == {"completed"}
