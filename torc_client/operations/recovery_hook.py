"""A user's recovery hook: a command that fixes what recovery does not know how to (`--recovery-hook`), as in Torc.

It runs as `COMMAND WORKFLOW_ID` (the command split as a shell would, not through one), with
`TORC_WORKFLOW_ID` set, in the current directory; it may use `torc` to change jobs, resource
requirements or input files. Recovery goes on only if it exits 0.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Callable

from torc_client.core.errors import TorcError


class HookFailed(TorcError):
    """The recovery hook could not run, or exited non-zero: recovery stops."""


def run(command: str, workflow_id: int, say: Callable[[str], None]) -> None:
    """Run the hook for `workflow_id`, passing each line it prints to `say`; raise HookFailed unless it exits 0."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise HookFailed(f"recovery hook {command!r}: {exc}") from None
    if not argv:
        raise HookFailed("the recovery hook is an empty command")
    env = {**os.environ, "TORC_WORKFLOW_ID": str(workflow_id)}
    try:
        done = subprocess.run([*argv, str(workflow_id)], env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise HookFailed(f"recovery hook {command!r} could not start: {exc}") from None
    for line in (done.stdout + done.stderr).splitlines():
        say(f"[hook] {line}")
    if done.returncode != 0:
        raise HookFailed(f"recovery hook {command!r} exited {done.returncode}: recovery stopped, nothing was reset")
