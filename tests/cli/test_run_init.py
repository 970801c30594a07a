"""`torc run SPEC` when the workflow cannot be initialised: nothing is left behind, and `--force` is there."""

from __future__ import annotations

import json

SPEC = {
    "name": "needs_input",
    "files": [{"name": "raw", "path": "raw.csv"}],
    "jobs": [{"name": "count", "command": "echo counted", "input_files": ["raw"]}],
}


def test_a_failed_initialisation_deletes_the_workflow_it_created_and_names_the_flag(cli, client) -> None:
    (cli.cwd / "spec.json").write_text(json.dumps(SPEC))
    before = len(client.list_workflows())
    for _ in range(2):  # a retry leaves nothing behind either
        result = cli("run", "spec.json", check=False)
        assert result.returncode == 1
        assert "1 input file that no job produces does not exist: raw (raw.csv)" in result.stderr
        assert "`torc run --force`" in result.stderr and "pass force" not in result.stderr
        assert "could not be initialised" in result.stderr
    assert len(client.list_workflows()) == before

    forced = cli("run", "--force", "spec.json")
    assert "1 input file is missing (initialised anyway because of force)" in forced.stderr
    assert "1 completed, 0 failed" in forced.stderr


def test_an_existing_workflow_that_cannot_be_initialised_is_kept(cli, client) -> None:
    workflow = client.create_workflow_from_spec(SPEC, working_dir=str(cli.cwd))
    result = cli("run", str(workflow.id), check=False)
    assert result.returncode == 1
    assert client.get_workflow(workflow.id).name == "needs_input"  # not created by `run`: not deleted


def test_a_runner_that_finds_another_initialising_the_workflow_waits_for_it_instead_of_failing(
        client, make_workflow, server) -> None:  # fmt: skip
    # Two runners started at once on a new workflow both initialise it; the second is refused (409) while the
    # first holds it, and must then run in the first one's run rather than exit.
    import threading
    import time

    from pymongo import MongoClient

    from torc_client.cli import steps

    workflow_id = make_workflow({"name": "two-starts", "jobs": [{"name": "a", "command": "true"}]}).id
    with MongoClient(server.mongo_uri, directConnection=True) as mongo:
        workflows = mongo[server.database].workflows
        workflows.update_one({"_id": workflow_id}, {"$set": {"init_token": "other", "init_until": time.time() + 60}})
        outcome: list[object] = []
        second = threading.Thread(target=lambda: outcome.append(
            _run(lambda: steps.ensure_initialized(client, workflow_id))))  # fmt: skip
        second.start()
        time.sleep(1.0)  # the second runner's initialisation is refused meanwhile: the workflow is held
        workflows.update_one({"_id": workflow_id}, {"$unset": {"init_token": "", "init_until": ""}})
        client.initialize_workflow(workflow_id)  # the first runner's initialisation opens the run
        second.join(30)
    assert outcome == [None]
    assert client.get_workflow(workflow_id).run_id == 1


def _run(call) -> object:
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the test reports what was raised
        return error
    return None
