"""The indexes of every collection, made when the API process starts (`Database.ensure_indexes`)."""

from __future__ import annotations

#: collection -> (keys, unique) of every index; few on purpose: each index roughly halves
#: the insert rate of the embedded server, and workflow creation is insert-bound.
INDEXES: dict[str, list[tuple[list[tuple[str, int]], bool]]] = {
    # (workflow_id, status) also serves queries on workflow_id alone.
    "jobs": [([("workflow_id", 1), ("status", 1)], False)],
    "files": [([("workflow_id", 1)], False)],
    "user_data": [([("workflow_id", 1)], False)],
    "resource_requirements": [([("workflow_id", 1)], False)],
    "failure_handlers": [([("workflow_id", 1)], False)],
    # One result per job, run and attempt: a repeated report cannot store a second one. The same index
    # serves listing by workflow (its prefix); a second index would cost every stored result ~40% more.
    "results": [([("workflow_id", 1), ("job_id", 1), ("run_id", 1), ("attempt_id", 1)], True)],
    "events": [([("workflow_id", 1)], False)],
    "compute_nodes": [([("workflow_id", 1)], False)],
    "queues": [([("workflow_id", 1)], False)],
    "slots": [([("workflow_id", 1)], False)],
    "workflow_inputs": [([("workflow_id", 1)], False)],
    "slurm_schedulers": [([("workflow_id", 1)], False)],
    "workflow_actions": [([("workflow_id", 1)], False)],
    "scheduled_compute_nodes": [([("workflow_id", 1)], False)],
    "local_schedulers": [([("workflow_id", 1)], False)],
    # A worker address once per workflow.
    "remote_workers": [([("workflow_id", 1), ("worker", 1)], True)],
    "job_names": [([("workflow_id", 1)], False)],
    "access_groups": [([("name", 1)], True)],
    "creations": [([("updated", 1)], False)],
    # An entity_id, and a file's entity, once per workflow (`compat.ro_crate`: file_link stands for the file).
    "ro_crate_entities": [([("workflow_id", 1), ("entity_id", 1)], True),
                          ([("workflow_id", 1), ("file_link", 1)], True)],
    "slurm_stats": [([("workflow_id", 1)], False)],
    "tasks": [([("workflow_id", 1)], False)],
}
