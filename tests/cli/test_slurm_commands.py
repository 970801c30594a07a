"""`torc slurm ...` and `torc actions list` as a user types them (no Slurm needed: nothing is submitted)."""

from __future__ import annotations

import json

import yaml

SPEC = {"name": "hpc", "slurm_schedulers": [{"name": "short", "account": "proj", "walltime": "00:30:00"}],
        "actions": [{"trigger_type": "on_workflow_start", "action_type": "run_commands", "commands": ["true"]}],
        "jobs": [{"name": "only", "command": "true"}]}  # fmt: skip


def create(cli) -> int:
    (cli.cwd / "hpc.yaml").write_text(yaml.safe_dump(SPEC))
    return json.loads(cli("-f", "json", "create", "hpc.yaml").stdout)["id"]


def test_slurm_schedulers_are_listed_created_updated_and_deleted(cli) -> None:
    wid = create(cli)
    (short,) = json.loads(cli("-f", "json", "slurm", "list", str(wid)).stdout)
    assert (short["name"], short["walltime"]) == ("short", "00:30:00")
    added = json.loads(cli("-f", "json", "slurm", "create", str(wid), "--name", "long", "--account", "proj",
                           "--walltime", "2-00:00:00", "--nodes", "4").stdout)  # fmt: skip
    assert (added["nodes"], added["walltime"]) == (4, "2-00:00:00")
    updated = json.loads(cli("-f", "json", "slurm", "update", str(added["id"]), "--qos", "high").stdout)
    assert updated["qos"] == "high" and updated["nodes"] == 4
    cli("slurm", "delete", str(short["id"]))
    assert [s["name"] for s in json.loads(cli("-f", "json", "slurm", "list", str(wid)).stdout)] == ["long"]


def test_a_walltime_that_does_not_parse_is_refused_with_the_reason(cli) -> None:
    wid = create(cli)
    result = cli("slurm", "create", str(wid), "--name", "x", "--account", "a", "--walltime", "soon", check=False)
    assert result.returncode == 1 and "invalid walltime 'soon'" in result.stderr


def test_update_with_nothing_to_change_says_so(cli) -> None:
    result = cli("slurm", "update", "1", check=False)
    assert result.returncode == 2 and "nothing to change" in result.stderr


def test_actions_list_shows_what_is_pending(cli) -> None:
    wid = create(cli)
    assert json.loads(cli("-f", "json", "actions", "list", str(wid), "--pending").stdout) == []
    cli("workflows", "init", str(wid))
    (pending,) = json.loads(cli("-f", "json", "actions", "list", str(wid), "--pending").stdout)
    assert (pending["trigger_type"], pending["trigger_count"], pending["is_pending"]) == ("on_workflow_start", 1, True)
    assert "on_workflow_start" in cli("actions", "list", str(wid)).stdout
