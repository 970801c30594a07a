"""Workflow actions: triggers counted in the requests that change job states, claims that run each once.

An action is pending when `trigger_count >= required_triggers` and it has not been
executed. Job triggers keep the set of watched jobs that fired (`triggered`), grown with
`$setUnion`, so a repeated report cannot count a job twice. A workflow document lists
the trigger types its actions use (`action_triggers`): requests of workflows without
actions pay nothing. Claiming is one conditional update: a non-persistent action is
executed exactly once however many runners and API processes compete; a persistent one
once per compute node.
"""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument

from api.storage import records, workflows
from api.storage.db import Database, iso_now
from api.storage.workflows import Event
from torc_client import contract as c
from torc_client.core import states
from torc_client.core.errors import Conflict, InvalidRequest, NotFound
from torc_client.core.triggers import JOB_TRIGGERS, WORKER_TRIGGERS, Trigger
from torc_client.spec.hpc import PlanAction

S = states.JobStatus
_PENDING = {"executed": False, "$expr": {"$gte": ["$trigger_count", "$required_triggers"]}}
#: Statuses in which a watched job counts as having been ready.
_PAST_READY = {S.READY.value, S.PENDING.value, S.RUNNING.value} | {s.value for s in states.DONE}


def documents(wid: int, actions: tuple[PlanAction, ...], job_ids: dict[str, int],
              scheduler_ids: dict[str, int]) -> list[dict[str, Any]]:  # fmt: skip
    """The action documents of a new workflow, from its plan."""
    docs = []
    for action in actions:
        ids = sorted(job_ids[name] for name in action.jobs)
        config: dict[str, Any] = {"commands": list(action.commands)} if action.action_type == "run_commands" else {
            "scheduler_type": action.scheduler_type, "scheduler_id": scheduler_ids[action.scheduler],
            "scheduler": action.scheduler, "num_allocations": action.num_allocations,
            "start_one_worker_per_node": action.start_one_worker_per_node,
            "max_parallel_jobs": action.max_parallel_jobs}  # fmt: skip
        docs.append({"workflow_id": wid, "trigger_type": action.trigger_type, "action_type": action.action_type,
                     "action_config": config, "job_ids": ids, "persistent": action.persistent,
                     **_fresh(action.trigger_type, ids)})  # fmt: skip
    return docs


def _fresh(trigger: str, ids: list[int]) -> dict[str, Any]:
    required = len(ids) if trigger in JOB_TRIGGERS else 1
    return {"required_triggers": required, "trigger_count": 0, "triggered": [], "executed": False,
            "executed_at": None, "executed_by": None, "claimed_by": []}  # fmt: skip


async def on_run_start(db: Database, wid: int) -> None:
    """A new run: every action fresh, counted from the jobs as they stand (start and worker triggers met)."""
    docs = [d async for d in db.workflow_actions.find({"workflow_id": wid})]
    for doc in docs:
        await db.workflow_actions.update_one({"_id": doc["_id"]}, {"$set": await _counted_afresh(db, doc)})


async def _counted_afresh(db: Database, doc: dict[str, Any]) -> dict[str, Any]:
    fields = _fresh(doc["trigger_type"], doc["job_ids"])
    if doc["trigger_type"] == Trigger.ON_WORKFLOW_START or doc["trigger_type"] in WORKER_TRIGGERS:
        fields["trigger_count"] = fields["required_triggers"]
    elif doc["trigger_type"] in JOB_TRIGGERS:
        wanted = _PAST_READY if doc["trigger_type"] == Trigger.ON_JOBS_READY else {s.value for s in states.DONE}
        jobs = await workflows.find_by_ids(db.jobs, doc["job_ids"], {"status": 1})
        fields["triggered"] = [j["_id"] for j in jobs if j["status"] in wanted]
        fields["trigger_count"] = len(fields["triggered"])
    return fields


async def create(db: Database, data: c.WorkflowActionCreate) -> c.WorkflowAction:
    """Add an action to a workflow, checked as a spec's would be; counted at once if the run is open."""
    wf = await workflows.get_doc(db, data.workflow_id)
    _check(data)
    jobs = await workflows.find_by_ids(db.jobs, sorted(set(data.job_ids)), {"workflow_id": 1})
    foreign = sorted(set(data.job_ids) - {j["_id"] for j in jobs if j["workflow_id"] == wf["_id"]})
    if foreign:
        raise InvalidRequest(f"the action watches jobs that are not in workflow {wf['_id']}: {foreign[:10]}")
    config: dict[str, Any] = {"commands": data.commands}
    if data.action_type == "schedule_nodes":
        scheduler = await slurm_schedulers.get_doc(db, data.scheduler_id)
        if scheduler["workflow_id"] != wf["_id"]:
            raise InvalidRequest(f"slurm scheduler {data.scheduler_id} is not in workflow {wf['_id']}")
        config = {"scheduler_type": "slurm", "scheduler_id": scheduler["_id"], "scheduler": scheduler["name"],
                  "num_allocations": data.num_allocations, "start_one_worker_per_node": data.start_one_worker_per_node,
                  "max_parallel_jobs": data.max_parallel_jobs}  # fmt: skip
    doc = {"_id": await db.allocate_ids("workflow_actions", 1), "workflow_id": wf["_id"],
           "trigger_type": data.trigger_type, "action_type": data.action_type, "action_config": config,
           "job_ids": sorted(set(data.job_ids)), "persistent": data.persistent}  # fmt: skip
    doc.update(await _counted_afresh(db, doc) if wf["is_initialized"] else _fresh(doc["trigger_type"], doc["job_ids"]))
    await db.workflow_actions.insert_one(doc)
    await workflows.change(db, wf["_id"], {"$addToSet": {"action_triggers": data.trigger_type}})
    return to_record(doc)


def _check(data: c.WorkflowActionCreate) -> None:
    if data.trigger_type not in set(Trigger):
        raise InvalidRequest(f"unknown trigger_type {data.trigger_type!r}")
    if data.action_type not in ("run_commands", "schedule_nodes"):
        raise InvalidRequest(f"unknown action_type {data.action_type!r}: run_commands or schedule_nodes")
    if data.trigger_type in JOB_TRIGGERS and not data.job_ids:
        raise InvalidRequest(f"a {data.trigger_type} action must name the jobs it watches (job_ids)")
    if data.action_type == "run_commands" and not data.commands:
        raise InvalidRequest("a run_commands action needs at least one command")
    if data.action_type == "schedule_nodes" and data.scheduler_id is None:
        raise InvalidRequest("a schedule_nodes action needs scheduler_id")
    if data.num_allocations < 1:
        raise InvalidRequest(f"num_allocations must be at least 1, got {data.num_allocations}")


async def get(db: Database, action_id: int) -> c.WorkflowAction:
    doc = await db.workflow_actions.find_one({"_id": action_id})
    if doc is None:
        raise NotFound("workflow_action", action_id)
    return to_record(doc)


async def delete(db: Database, action_id: int) -> c.WorkflowAction:
    doc = await db.workflow_actions.find_one_and_delete({"_id": action_id})
    if doc is None:
        raise NotFound("workflow_action", action_id)
    return to_record(doc)


async def list_actions(db: Database, wid: int, pending_only: bool, compute_node_id: int | None) -> list[c.WorkflowAction]:
    await workflows.get_doc(db, wid)
    query: dict[str, Any] = {"workflow_id": wid}
    docs = [to_record(d, compute_node_id) async for d in db.workflow_actions.find(query).sort("_id", 1)]
    return [d for d in docs if d.is_pending or not pending_only]


async def claim(db: Database, action_id: int, node_id: int | None) -> c.WorkflowAction:
    """Take a pending action to execute: exactly once, or once per compute node if persistent."""
    doc = await db.workflow_actions.find_one({"_id": action_id})
    if doc is None:
        raise NotFound("workflow_action", action_id)
    now = iso_now()
    if doc["persistent"]:
        query = {"_id": action_id, "$expr": _PENDING["$expr"], "claimed_by": {"$ne": node_id}}
        update = {"$push": {"claimed_by": node_id}, "$set": {"executed_at": now, "executed_by": node_id}}
    else:
        query = {"_id": action_id, **_PENDING}
        update = {"$set": {"executed": True, "executed_at": now, "executed_by": node_id}}
    finished = await _nothing_left_to_schedule(db, doc)
    won = await db.workflow_actions.find_one_and_update(query, update, return_document=ReturnDocument.AFTER)
    if won is None:
        raise Conflict(f"workflow action {action_id} is not pending for this claimer (not triggered yet, or "
                       "already executed)")  # fmt: skip
    who = f"compute node {node_id}" if node_id is not None else "the submitting host"
    head = f"{doc['action_type']} action {action_id} ({doc['trigger_type']})"
    if finished:
        why = f"workflow {doc['workflow_id']} is {finished}, so a new allocation would find no job to run"
        await workflows.record(db, doc["workflow_id"], {}, [Event("action", f"{head} skipped by {who}: {why}",
                                                                  action_id=action_id, compute_node_id=node_id)])
        raise Conflict(f"workflow action {action_id} was not executed: {why}")
    await workflows.record(db, doc["workflow_id"], {}, [Event("action", f"{head} claimed by {who}",
                                                              action_id=action_id, compute_node_id=node_id)])
    return to_record(won, node_id)


async def _nothing_left_to_schedule(db: Database, doc: dict[str, Any]) -> str | None:
    """Why an allocation asked for by this action would be wasted ("complete", "canceled"), or None.

    A job trigger can fire while the runner that caused it is still running: it may run the
    watched jobs itself and finish the workflow before anyone takes the action. Such an
    action is then marked done without asking Slurm for anything. An allocation asked for
    at workflow completion is the user's explicit wish and is not second-guessed.
    """
    if doc["action_type"] != "schedule_nodes" or doc["trigger_type"] == Trigger.ON_WORKFLOW_COMPLETE:
        return None
    status = workflows.status_of(await workflows.get_doc(db, doc["workflow_id"]))
    if status.is_canceled:
        return "canceled"
    return "complete" if status.is_complete else None


def to_record(doc: dict[str, Any], node_id: int | None = None) -> c.WorkflowAction:
    met = doc["trigger_count"] >= doc["required_triggers"]
    done = node_id in doc.get("claimed_by", []) if doc["persistent"] else doc["executed"]
    return c.WorkflowAction(
        id=doc["_id"], workflow_id=doc["workflow_id"], trigger_type=doc["trigger_type"],
        action_type=doc["action_type"], action_config=doc["action_config"], job_ids=doc["job_ids"],
        trigger_count=doc["trigger_count"], required_triggers=doc["required_triggers"], persistent=doc["persistent"],
        executed=doc["executed"], is_pending=met and not done, executed_at=doc.get("executed_at"),
        executed_by=doc.get("executed_by"),
    )  # fmt: skip


async def record_allocation(db: Database, fields: dict[str, Any]) -> c.ScheduledComputeNode:
    """An allocation just submitted to the scheduler, recorded with an event."""
    await workflows.get_doc(db, fields["workflow_id"])
    record = await scheduled_compute_nodes.create(db, {**fields, "submitted_at": iso_now()})
    await workflows.record(db, fields["workflow_id"], {}, [Event(
        "scheduler", f"{fields['scheduler_type']} allocation {fields['scheduler_id']} submitted",
        scheduled_compute_node_id=record.id, scheduler_id=fields["scheduler_id"])])  # fmt: skip
    return record


def _scheduler(doc: dict[str, Any]) -> c.SlurmScheduler:
    return records.from_fields(c.SlurmScheduler, doc)


def _scheduled_node(doc: dict[str, Any]) -> c.ScheduledComputeNode:
    # Records stored before the Slurm job id was an integer (as Torc has it) hold it as text.
    return records.from_fields(c.ScheduledComputeNode, {**doc, "scheduler_id": int(doc["scheduler_id"])})


slurm_schedulers = records.Store("slurm_schedulers", "slurm_scheduler", _scheduler, ("name",))
scheduled_compute_nodes = records.Store("scheduled_compute_nodes", "scheduled_compute_node", _scheduled_node,
                                        ("status", "submitted_at"))  # fmt: skip
