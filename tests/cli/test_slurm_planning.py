"""`torc slurm generate --dry-run` and `torc slurm regenerate` as a user types them (nothing is submitted)."""

from __future__ import annotations

import json

import pytest
import yaml

from torc_client import contract as c

SWEEP = {"name": "sweep", "resource_requirements": [{"name": "small", "num_cpus": 1, "memory": "100m",
                                                     "runtime": "PT10M"},
                                                    {"name": "big", "num_cpus": 2, "memory": "100m",
                                                     "runtime": "PT10M"}],
         "jobs": [{"name": "w{i}", "command": "true", "resource_requirements": "small", "parameters": {"i": "1:4"}},
                  {"name": "b", "command": "true", "resource_requirements": "big"},
                  {"name": "post", "command": "true", "resource_requirements": "small",
                   "depends_on_regexes": ["^w", "^b"]}]}  # fmt: skip


def dry_run(cli, *flags: str) -> list[dict]:
    (cli.cwd / "sweep.yaml").write_text(yaml.safe_dump(SWEEP))
    done = cli("-f", "json", "slurm", "generate", "--account", "proj", "--profile", "local", "--dry-run",
               "sweep.yaml", *flags)  # fmt: skip
    assert "dry run: nothing written or submitted" in done.stderr
    return [(r["scheduler"], r["trigger"], r["allocations"], r["nodes"], r["walltime"], r["jobs"])
            for r in json.loads(done.stdout)]  # fmt: skip


@pytest.mark.parametrize(("flags", "plan"), [
    ((), [("debug", "on_workflow_start", 3, 1, "00:16:00", 5), ("debug", "on_jobs_ready", 1, 1, "00:16:00", 1)]),
    (("--group-by", "resource-requirements"),
     [("small_debug", "on_workflow_start", 2, 1, "00:16:00", 4), ("small_debug", "on_jobs_ready", 1, 1, "00:16:00", 1),
      ("big_debug", "on_workflow_start", 1, 1, "00:16:00", 1)]),
    (("--walltime-strategy", "max-partition-time"),
     [("debug", "on_workflow_start", 1, 1, "24:00:00", 5), ("debug", "on_jobs_ready", 1, 1, "24:00:00", 1)]),
    (("--walltime-multiplier", "2", "--single-allocation"),
     [("debug", "on_workflow_start", 1, 2, "00:21:00", 5), ("debug", "on_jobs_ready", 1, 2, "00:21:00", 1)]),
])  # fmt: skip
def test_generate_dry_run_prints_the_plan_of_each_shape(cli, flags: tuple[str, ...], plan: list[tuple]) -> None:
    assert dry_run(cli, *flags) == plan
    assert not (cli.cwd / "sweep_slurm.yaml").exists()


def test_generate_refuses_an_unknown_grouping_naming_the_choices(cli) -> None:
    (cli.cwd / "sweep.yaml").write_text(yaml.safe_dump(SWEEP))
    done = cli("slurm", "generate", "--account", "p", "--group-by", "node", "sweep.yaml", check=False)
    assert done.returncode == 2 and "'partition'" in done.stderr and "'resource-requirements'" in done.stderr


def test_generate_refuses_a_walltime_multiplier_below_one(cli) -> None:
    (cli.cwd / "sweep.yaml").write_text(yaml.safe_dump(SWEEP))
    done = cli("slurm", "generate", "--account", "p", "--walltime-multiplier", "0.5", "sweep.yaml", check=False)
    assert done.returncode == 2 and "--walltime-multiplier" in done.stderr


def ready_workflow(cli) -> int:
    (cli.cwd / "sweep.yaml").write_text(yaml.safe_dump(SWEEP))
    workflow_id = json.loads(cli("-f", "json", "create", "sweep.yaml").stdout)["id"]
    cli("workflows", "init", str(workflow_id))
    return workflow_id


def test_regenerate_dry_run_plans_for_ready_jobs_no_allocation_can_take(cli) -> None:
    workflow_id = ready_workflow(cli)
    done = cli("-f", "json", "slurm", "regenerate", str(workflow_id), "--profile", "local", "--dry-run")
    plan = [(p["scheduler"], p["allocations"], p["walltime"], p["jobs"]) for p in json.loads(done.stdout)]
    assert plan == [("regen_small_debug_1", 2, "00:16:00", 4), ("regen_big_debug_1", 1, "00:16:00", 1)]
    assert "5 jobs ready and no allocation queued or running" in done.stderr
    assert json.loads(cli("-f", "json", "slurm", "list", str(workflow_id)).stdout) == []  # nothing created


def test_regenerate_without_an_account_to_charge_says_where_to_give_one(cli) -> None:
    workflow_id = ready_workflow(cli)
    done = cli("slurm", "regenerate", str(workflow_id), "--profile", "local", check=False)
    assert done.returncode != 0 and "has no Slurm scheduler to take an account from" in done.stderr
    assert "give --account" in done.stderr


def test_regenerate_creates_the_schedulers_and_says_how_to_submit_them(cli) -> None:
    workflow_id = ready_workflow(cli)
    done = cli("slurm", "regenerate", str(workflow_id), "--profile", "local", "--account", "proj")
    created = json.loads(cli("-f", "json", "slurm", "list", str(workflow_id)).stdout)
    assert [(s["name"], s["account"], s["walltime"]) for s in created] == [
        ("regen_small_debug_1", "proj", "00:16:00"), ("regen_big_debug_1", "proj", "00:16:00")]
    assert f"torc slurm schedule-nodes {workflow_id} -s {created[0]['id']} -n 2" in done.stderr


def test_regenerate_plans_nothing_while_a_runner_started_by_hand_can_take_the_jobs(cli, client) -> None:
    workflow_id = ready_workflow(cli)
    client.register_compute_node(c.ComputeNodeCreate(workflow_id=workflow_id, hostname="workstation", pid=1,
                                                     num_cpus=4, memory_gb=8))  # fmt: skip
    done = cli("-f", "json", "slurm", "regenerate", str(workflow_id), "--profile", "local", "--dry-run")
    assert json.loads(done.stdout) == []
    assert "nothing to schedule: 5 jobs ready, which the queued or running allocations and runners can take" in done.stderr
