"""Plain `ssh`: the command line for one host, and running a shell command there.

Every call is non-interactive (`BatchMode=yes`: a key or an agent, never a password prompt)
and accepts a host key seen for the first time (`StrictHostKeyChecking=accept-new`), as
Torc's does. `$TORC_SSH_OPTIONS` adds options of your own to every call (for example
`-F ~/.ssh/cluster_config` or `-i ~/.ssh/id_work`); `~/.ssh/config` applies as usual.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass

from torc_client.remote.hosts import Host

#: Seconds `ssh` waits for a host to answer before giving up on it.
CONNECT_TIMEOUT = 30
#: Seconds one remote command may take (starting a runner, reading a PID, packing logs).
COMMAND_TIMEOUT = 600
OPTIONS_VARIABLE = "TORC_SSH_OPTIONS"


@dataclass(frozen=True)
class Answer:
    """What one remote command did: its exit code (255: ssh itself failed) and output."""

    code: int
    stdout: bytes
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout.decode(errors="replace").strip()

    def why(self) -> str:
        """The reason a failed command gives (ssh's own message when it could not connect)."""
        return self.stderr.strip().splitlines()[-1] if self.stderr.strip() else f"exit code {self.code}"


def argv(host: Host, command: str, connect_timeout: int = CONNECT_TIMEOUT) -> list[str]:
    """The `ssh` command line that runs `command` (a shell command line) on `host`."""
    line = ["ssh", "-o", f"ConnectTimeout={connect_timeout}", "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=accept-new", *shlex.split(os.environ.get(OPTIONS_VARIABLE, ""))]  # fmt: skip
    if host.port is not None:
        line += ["-p", str(host.port)]
    return [*line, "--", host.target, command]


def run(host: Host, command: str, timeout: float = COMMAND_TIMEOUT) -> Answer:
    """Run `command` on `host`; a host that does not answer in time is an Answer with code 255."""
    try:
        done = subprocess.run(argv(host, command), stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Answer(255, b"", f"no answer from {host.address} within {timeout:g} s")
    except OSError as error:
        return Answer(255, b"", f"cannot run ssh: {error}")
    return Answer(done.returncode, done.stdout, done.stderr.decode(errors="replace"))
