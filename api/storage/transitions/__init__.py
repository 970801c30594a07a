"""The one owner of job status: every change of a job's status, as guarded updates on documents addressed by id.

Nothing outside this package writes a status (tests/unit/test_architecture.py checks it). Each
move is checked against `torc_client.core.states` and puts its source status into the update's
filter, so two requests racing for the same job cannot both win. Counts per status are adjusted
by exactly what each update modified, in the same transaction (`Database.atomic`), so a crash
anywhere leaves the jobs and their counts agreeing.

Callers use the package as one interface (`transitions.start(...)`); inside it:

- `moves`: the guarded primitives (`move`, `move_many`), restarts, disabling, restoring an archive's statuses;
- `claimed`: a claimed job's moves, one claim or report at a time (claim, start, finish, retry, requeue);
- `batched`: several compute nodes' reports served together (`start_many`, `finish_many`).
"""

from api.storage.transitions.batched import Uncombinable, finish_many, start_many
from api.storage.transitions.claimed import (
    fence,
    fenced,
    finish,
    mark_pending,
    mark_pending_many,
    new_token,
    requeue,
    requeue_next_attempt,
    retry,
    start,
)
from api.storage.transitions.moves import disable, move, move_many, restart_ready, restarting, restore

__all__ = [
    "Uncombinable",
    "disable",
    "fence",
    "fenced",
    "finish",
    "finish_many",
    "mark_pending",
    "mark_pending_many",
    "move",
    "move_many",
    "new_token",
    "requeue",
    "requeue_next_attempt",
    "restart_ready",
    "restarting",
    "restore",
    "retry",
    "start",
    "start_many",
]
