"""Initialising a workflow (api.storage.initialize) on the real embedded database, in this process (no API server,
so `make mutation` sees the code these tests run): the refusals, the input checks and what a run records (the
rebuild of the jobs is in test_core_rebuild.py)."""

from __future__ import annotations

import getpass
import os
import re
import time
from pathlib import Path

import pytest

from api.storage import initialize, rerun, workflows
from api.storage.db import Database
from api.storage.hashes import data_hash
from tests.storage.test_storage import make_workflow, run
from torc_client.contract import InitializeResult
from torc_client.core.errors import Conflict, InvalidRequest

NO_SUCH_USER = "torc-no-such-user"


def pipeline(tmp_path: Path) -> dict:
    """prep reads raw (an input) and cfg, writes tidy; report reads tidy, writes res; publish reads res; alone."""
    return {"name": "w", "working_dir": str(tmp_path),
            "files": [{"name": "raw", "path": "raw.csv"}, {"name": "tidy", "path": "tidy.csv"}],
            "user_data": [{"name": "cfg", "data": {"k": 1}}, {"name": "res"}],
            "resource_requirements": [{"name": "big", "num_cpus": 2, "memory": "1g", "runtime": "PT1H"}],
            "jobs": [{"name": "prep", "command": "prep ${files.input.raw} > ${files.output.tidy}",
                      "input_user_data": ["cfg"]},
                     {"name": "report", "command": "report ${files.input.tidy}", "output_user_data": ["res"]},
                     {"name": "publish", "command": "publish ${user_data.input.res}"},
                     {"name": "alone", "command": "true", "resource_requirements": "big",
                      "invocation_script": "bash"}]}  # fmt: skip


def reader(tmp_path: Path, n_files: int, **extra) -> dict:
    """One job reading `n_files` input files f00, f01, ... (f00.txt, ...) that no job produces."""
    names = [f"f{i:02d}" for i in range(n_files)]
    return {"name": "r", "working_dir": str(tmp_path), "files": [{"name": n, "path": f"{n}.txt"} for n in names],
            "jobs": [{"name": "read", "command": "true", "input_files": names}], **extra}  # fmt: skip


async def by_name(db: Database, collection: str, wid: int) -> dict[str, dict]:
    return {d["name"]: d async for d in db.collection(collection).find({"workflow_id": wid})}


async def set_jobs(db: Database, jobs: dict[str, dict], name: str, **fields) -> None:
    await db.jobs.update_one({"_id": jobs[name]["_id"]}, {"$set": fields})


async def started(db: Database, wid: int) -> list[tuple]:
    return [(e["category"], e["message"], e["data"]) async for e in db.events.find({"workflow_id": wid}).sort("seq", 1)
            if "started" in e["message"]]  # fmt: skip


def run_state(doc: dict) -> dict:
    return {k: doc[k] for k in ("run_id", "is_initialized", "is_canceled", "needs_full_init", "completed_run")}


def graph_of(jobs: dict[str, dict]) -> dict[str, tuple]:
    ids = {d["_id"]: name for name, d in jobs.items()}
    return {name: (d["status"], [ids[u] for u in d["upstream"]], [ids[b] for b in d["blocks"]],
                   [ids[w] for w in d["waiting_on"]]) for name, d in jobs.items()}  # fmt: skip


@pytest.mark.parametrize("force", [False, True])
def test_initialise_refuses_an_archived_workflow_even_with_force(mongo_uri, tmp_path, force):
    async def scenario(db: Database):
        wid = await make_workflow(db, reader(tmp_path, 0))
        await db.workflows.update_one({"_id": wid}, {"$set": {"is_archived": True}})
        with pytest.raises(Conflict) as refused:
            await initialize.initialize(db, wid, force)
        return wid, refused.value, run_state(await workflows.get_doc(db, wid))

    wid, refused, state = run(mongo_uri, scenario)
    assert type(refused) is Conflict
    assert str(refused) == f"workflow {wid} is archived; unarchive it before initialising it"
    assert (state["run_id"], state["is_initialized"]) == (0, False)


@pytest.mark.parametrize(("counts", "words"), [({"running": 1}, "1 job"), ({"pending": 1}, "1 job"),
                                               ({"pending": 2, "running": 3, "ready": 4}, "5 jobs")])  # fmt: skip
def test_initialise_refuses_a_workflow_with_jobs_pending_or_running_unless_forced(mongo_uri, tmp_path, counts, words):
    async def scenario(db: Database):
        wid = await make_workflow(db, reader(tmp_path, 0))
        await initialize.initialize(db, wid)
        await db.workflows.update_one({"_id": wid}, {"$set": {"counts": counts}})
        with pytest.raises(Conflict) as refused:
            await initialize.initialize(db, wid)
        state = run_state(await workflows.get_doc(db, wid))
        return wid, refused.value, state, await initialize.initialize(db, wid, force=True)

    wid, refused, state, forced = run(mongo_uri, scenario)
    assert type(refused) is Conflict
    assert str(refused) == (f"workflow {wid} has {words} pending or running; cancel it and let its runners stop, or "
                            "pass force to initialise anyway")  # fmt: skip
    assert state["run_id"] == 1
    assert forced == InitializeResult(workflow_id=wid, run_id=2, job_counts={"ready": 1}, warnings=[])


@pytest.mark.parametrize(("initialized", "counts"), [(True, {"ready": 1, "failed": 2, "completed": 3}),
                                                     (False, {"pending": 1, "running": 1})])  # fmt: skip
def test_initialise_accepts_a_run_with_nothing_pending_or_running_or_one_never_opened(mongo_uri, tmp_path,
                                                                                     initialized, counts):
    async def scenario(db: Database):
        wid = await make_workflow(db, reader(tmp_path, 0))
        await db.workflows.update_one({"_id": wid}, {"$set": {"counts": counts, "is_initialized": initialized}})
        return (await initialize.initialize(db, wid)).run_id

    assert run(mongo_uri, scenario) == 1


@pytest.mark.parametrize("n", [1, 2, 10, 11])
def test_initialise_refuses_missing_input_files_and_lists_the_first_ten(mongo_uri, tmp_path, n):
    async def scenario(db: Database):
        wid = await make_workflow(db, reader(tmp_path, n))
        with pytest.raises(InvalidRequest) as refused:
            await initialize.initialize(db, wid)
        files = sorted((await by_name(db, "files", wid)).values(), key=lambda f: f["_id"])
        return wid, refused.value, files, run_state(await workflows.get_doc(db, wid))

    wid, refused, files, state = run(mongo_uri, scenario)
    listed = {1: "f00 (f00.txt)", 2: "f00 (f00.txt), f01 (f01.txt)"}.get(n) or ", ".join(
        f"f{i:02d} (f{i:02d}.txt)" for i in range(10)) + (" ..." if n == 11 else "")
    number, verb, them = {1: ("1 input file", "does", "it")}.get(n, (f"{n} input files", "do", "them"))
    assert type(refused) is InvalidRequest and refused.extra == {"missing_file_ids": [f["_id"] for f in files]}
    assert str(refused) == (f"{number} that no job produces {verb} not exist: {listed}; create {them}, or initialise "
                            f"anyway with force (`torc workflows init {wid} --force`, `torc run --force`)")
    assert (state["run_id"], state["is_initialized"], [f.get("st_mtime") for f in files]) == (0, False, [None] * n)


@pytest.mark.parametrize(("n", "warning"), [(1, "1 input file is missing"), (2, "2 input files are missing")])
def test_initialise_with_force_warns_of_missing_input_files_and_records_the_others(mongo_uri, tmp_path, n, warning):
    (tmp_path / f"f{n:02d}.txt").write_text("here")

    async def scenario(db: Database):
        wid = await make_workflow(db, reader(tmp_path, n + 1))
        result = await initialize.initialize(db, wid, force=True)
        return result, {name: f.get("st_mtime") for name, f in (await by_name(db, "files", wid)).items()}

    result, mtimes = run(mongo_uri, scenario)
    assert (result.run_id, result.warnings) == (1, [f"{warning} (initialised anyway because of force)"])
    present = os.stat(tmp_path / f"f{n:02d}.txt").st_mtime
    assert mtimes == {**{f"f{i:02d}": None for i in range(n)}, f"f{n:02d}": present}


@pytest.mark.parametrize(("n", "words"), [(1, "1 input file was"), (2, "2 input files were")])
def test_initialise_with_access_control_warns_of_input_files_it_may_not_check(mongo_uri, tmp_path, n, words):
    (tmp_path / "f00.txt").write_text("here")  # present or not, a file of somebody else's is not checked

    async def scenario(db: Database):
        wid = await make_workflow(db, reader(tmp_path, n, user=NO_SUCH_USER))
        db.private_files = True
        result = await initialize.initialize(db, wid)
        return result, [f.get("st_mtime") for f in (await by_name(db, "files", wid)).values()]

    result, mtimes = run(mongo_uri, scenario)
    assert (result.run_id, mtimes) == (1, [None] * n)
    assert result.warnings == [f"{words} not checked: with access control the server checks only files that "
                               f"{NO_SUCH_USER} owns on its machine; the jobs will find out"]


@pytest.mark.parametrize(("n", "force"), [(1, False), (1, True), (10, False), (11, False)])
def test_initialise_refuses_input_user_data_without_data_even_with_force(mongo_uri, tmp_path, n, force):
    (tmp_path / "f00.txt").write_text("here")
    names = [f"u{i:02d}" for i in range(n)]
    spec = reader(tmp_path, 1, user_data=[{"name": u} for u in names] + [{"name": "zero", "data": 0}])
    spec["jobs"][0]["input_user_data"] = [*names, "zero"]

    async def scenario(db: Database):
        wid = await make_workflow(db, spec)
        with pytest.raises(InvalidRequest) as refused:
            await initialize.initialize(db, wid, force)
        data = await by_name(db, "user_data", wid)
        return (refused.value, [data[u]["_id"] for u in names], [d.get("run_hash") for d in data.values()],
                (await by_name(db, "files", wid))["f00"].get("st_mtime"), await workflows.get_doc(db, wid))

    refused, ids, hashes, mtime, wf = run(mongo_uri, scenario)
    assert type(refused) is InvalidRequest and refused.extra == {"missing_user_data_ids": ids}
    said = ("1 user_data record is read by jobs but no job writes it and it holds no data: u00" if n == 1 else
            f"{n} user_data records are read by jobs but no job writes them and they hold no data: "
            f"{', '.join(names[:10])}" + (" ..." if n > 10 else ""))  # fmt: skip
    assert str(refused) == said + ("; set the data with `torc user-data update ID --data JSON` (force does not help: "
                                   "a job would read nothing)")  # fmt: skip
    assert (hashes, mtime, wf["run_id"]) == ([None] * (n + 1), None, 0)


def test_initialise_rewrites_a_recorded_mtime_only_beyond_the_tolerance(mongo_uri, tmp_path):
    stored = {"f00": 1e6 + 0.005, "f01": 1e6 - 0.02, "f02": 0.01, "f03": 0.03}
    for name, mtime in {"f00": 1e6, "f01": 1e6, "f02": 0.0, "f03": 0.0}.items():
        (tmp_path / f"{name}.txt").write_text(name)
        os.utime(tmp_path / f"{name}.txt", (mtime, mtime))

    async def scenario(db: Database):
        wid = await make_workflow(db, reader(tmp_path, 4))
        for name, mtime in stored.items():
            await db.files.update_one({"workflow_id": wid, "name": name}, {"$set": {"st_mtime": mtime}})
        await initialize.initialize(db, wid)
        return {name: f["st_mtime"] for name, f in (await by_name(db, "files", wid)).items()}

    assert run(mongo_uri, scenario) == {"f00": 1e6 + 0.005, "f01": 1e6, "f02": 0.01, "f03": 0.0}


def test_initialise_refuses_when_another_request_opened_the_run_meanwhile(mongo_uri, tmp_path, monkeypatch):
    checked = initialize._check_inputs

    async def racing(db, wf, inputs, force):
        found = await checked(db, wf, inputs, force)
        await db.workflows.update_one({"_id": wf["_id"]}, {"$inc": {"run_id": 1}})  # the other request's run
        return found

    monkeypatch.setattr(initialize, "_check_inputs", racing)
    (tmp_path / "f00.txt").write_text("here")
    spec = reader(tmp_path, 1, user_data=[{"name": "cfg", "data": {"k": 1}}])
    spec["jobs"][0]["input_user_data"] = ["cfg"]

    async def scenario(db: Database):
        wid = await make_workflow(db, spec)
        with pytest.raises(Conflict) as refused:
            await initialize.initialize(db, wid)
        recorded = ((await by_name(db, "files", wid))["f00"].get("st_mtime"),
                    (await by_name(db, "user_data", wid))["cfg"].get("run_hash"))  # fmt: skip
        doc = await workflows.get_doc(db, wid)
        return wid, refused.value, {**run_state(doc), "held": "init_token" in doc}, await started(db, wid), recorded

    wid, refused, state, events, recorded = run(mongo_uri, scenario)
    assert state["held"] is False  # the refused initialisation let go of the workflow
    assert type(refused) is Conflict
    assert str(refused) == f"workflow {wid} was initialised by another request at the same time; check its status"
    assert (state["run_id"], state["is_initialized"], events) == (1, False, [])
    # The run that lost opened nothing, so it records nothing: the next initialisation compares with the last run.
    assert recorded == (None, None)


def test_an_initialisation_refused_for_a_cycle_records_nothing_so_the_next_one_sees_changed_inputs(mongo_uri, tmp_path):
    (tmp_path / "raw.csv").write_text("raw")
    os.utime(tmp_path / "raw.csv", (1e6, 1e6))
    spec = pipeline(tmp_path)

    async def scenario(db: Database):
        wid = await make_workflow(db, spec)
        await initialize.initialize(db, wid)
        jobs = await by_name(db, "jobs", wid)
        await set_jobs(db, jobs, "prep", depends_on=[jobs["publish"]["_id"]])  # publish waits on prep: a cycle
        os.utime(tmp_path / "raw.csv", (2e6, 2e6))
        await db.user_data.update_one({"workflow_id": wid, "name": "cfg"}, {"$set": {"data": {"k": 2}}})
        with pytest.raises(InvalidRequest):
            await initialize.initialize(db, wid, force=True)
        return ((await by_name(db, "files", wid))["raw"]["st_mtime"],
                (await by_name(db, "user_data", wid))["cfg"]["run_hash"])  # fmt: skip

    assert run(mongo_uri, scenario) == (1e6, data_hash({"k": 1}))


def test_a_second_initialisation_while_one_is_under_way_is_refused_and_changes_no_job(mongo_uri, tmp_path, monkeypatch):
    # The second request arrives while the first checks its inputs, before it rebuilds: played at that exact point.
    checked = initialize._check_inputs
    seen = []

    async def meanwhile(db, wf, inputs, force):
        if not seen:
            jobs_before = await by_name(db, "jobs", wf["_id"])
            with pytest.raises(Conflict) as refused:
                await initialize.initialize(db, wf["_id"], force=True)
            seen.append((str(refused.value), jobs_before == await by_name(db, "jobs", wf["_id"])))
        return await checked(db, wf, inputs, force)

    async def scenario(db: Database):
        wid = await make_workflow(db, reader(tmp_path, 0))
        await initialize.initialize(db, wid)
        monkeypatch.setattr(initialize, "_check_inputs", meanwhile)
        result = await initialize.initialize(db, wid, force=True)
        return wid, result.run_id, await workflows.get_doc(db, wid)

    wid, run_id, wf = run(mongo_uri, scenario)
    (said, unchanged), = seen
    assert re.fullmatch(rf"workflow {wid} is being \(or was just\) initialised by another request \(its hold runs "
                        r"out at \d{4}-\d\d-\d\dT[\d:.]+Z if that request's server stopped\); check its status",
                        said) and unchanged  # fmt: skip
    assert run_id == 2 and "init_token" not in wf and "init_until" not in wf


def test_an_initialisation_releases_its_hold_when_refused_and_a_dead_ones_hold_runs_out(mongo_uri, tmp_path):
    async def scenario(db: Database):
        wid = await make_workflow(db, reader(tmp_path, 1))  # f00.txt is missing: refused
        with pytest.raises(InvalidRequest):
            await initialize.initialize(db, wid)
        released = await workflows.get_doc(db, wid)
        (tmp_path / "f00.txt").write_text("here")
        # An API process died while initialising: its hold stays until it runs out.
        await db.workflows.update_one({"_id": wid}, {"$set": {"init_token": "dead", "init_until": time.time() + 60}})
        with pytest.raises(Conflict):
            await initialize.initialize(db, wid)
        await db.workflows.update_one({"_id": wid}, {"$set": {"init_until": time.time() - 1}})
        return released, (await initialize.initialize(db, wid)).run_id

    released, run_id = run(mongo_uri, scenario)
    assert "init_token" not in released and "init_until" not in released and run_id == 1


def test_a_reinitialisation_is_refused_while_an_initialisation_holds_the_workflow(mongo_uri, tmp_path):
    async def scenario(db: Database):
        wid = await make_workflow(db, reader(tmp_path, 0))
        await initialize.initialize(db, wid)
        await db.workflows.update_one({"_id": wid}, {"$set": {"init_token": "other", "init_until": time.time() + 60}})
        with pytest.raises(Conflict) as refused:
            await rerun.reinitialize(db, wid)
        previewed = (await rerun.reinitialize(db, wid, dry_run=True)).run_id  # a dry run changes nothing: allowed
        await db.workflows.update_one({"_id": wid}, {"$unset": initialize.HOLD_FIELDS})
        done = await rerun.reinitialize(db, wid)
        return wid, str(refused.value), previewed, done.run_id, await workflows.get_doc(db, wid)

    wid, refused, previewed, run_id, wf = run(mongo_uri, scenario)
    assert refused.startswith(f"workflow {wid} is being (or was just) initialised by another request")
    assert (previewed, run_id, wf["run_id"]) == (1, 2, 2) and "init_token" not in wf


def test_a_refused_initialisation_lets_go_only_of_its_own_hold(mongo_uri, tmp_path, monkeypatch):
    # Its hold ran out meanwhile and another request took the workflow: refusing must leave that hold in place.
    checked = initialize._check_inputs

    async def taken_over(db, wf, inputs, force):
        await db.workflows.update_one({"_id": wf["_id"]}, {"$set": {"init_token": "other"}})
        return await checked(db, wf, inputs, force)

    monkeypatch.setattr(initialize, "_check_inputs", taken_over)

    async def scenario(db: Database):
        wid = await make_workflow(db, reader(tmp_path, 1))  # f00.txt is missing: refused
        with pytest.raises(InvalidRequest):
            await initialize.initialize(db, wid)
        return (await workflows.get_doc(db, wid)).get("init_token")

    assert run(mongo_uri, scenario) == "other"


def test_an_initialisation_that_finds_the_run_already_opened_says_so_without_a_hold_time(mongo_uri, tmp_path,
                                                                                         monkeypatch):
    # Another request opened the run between this one's read and its hold: there is no hold left to wait for.
    async def scenario(db: Database):
        wid = await make_workflow(db, reader(tmp_path, 0))
        real_hold = initialize.hold

        async def hold_after_the_other(db, wf):
            await db.workflows.update_one({"_id": wf["_id"]}, {"$inc": {"run_id": 1}})
            return await real_hold(db, wf)

        monkeypatch.setattr(initialize, "hold", hold_after_the_other)
        with pytest.raises(Conflict) as refused:
            await initialize.initialize(db, wid)
        return wid, str(refused.value)

    wid, said = run(mongo_uri, scenario)
    assert said == f"workflow {wid} is being (or was just) initialised by another request; check its status"


def test_initialise_with_access_control_checks_and_records_the_input_files_the_owner_owns(mongo_uri, tmp_path):
    (tmp_path / "f00.txt").write_text("here")  # this process's user owns it, and owns the workflow

    async def scenario(db: Database):
        wid = await make_workflow(db, reader(tmp_path, 1, user=getpass.getuser()))
        db.private_files = True
        result = await initialize.initialize(db, wid)
        return result.warnings, (await by_name(db, "files", wid))["f00"].get("st_mtime")

    warnings, mtime = run(mongo_uri, scenario)
    assert warnings == [] and mtime == os.stat(tmp_path / "f00.txt").st_mtime
