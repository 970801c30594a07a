"""`torc tui --serve`: the same console in a browser, through textual-serve.

Each browser tab starts its own console process, as the user who started the server and
with their environment (their `TORC_API_URL`, `TORC_USER` and `TORC_PASSWORD`), so it shows
what that user may see. Anyone who can reach the port sees it too: the default host is the
loopback interface; reach it from elsewhere through an SSH tunnel.
"""

from __future__ import annotations

import shlex
import sys

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8060


def console_command(url: str, workflow_id: int | None, output_dir: str) -> str:
    """The command each browser tab runs: this console, in the same Python."""
    args = [sys.executable, "-m", "torc_client.console", "--url", url, "--output-dir", output_dir]
    if workflow_id is not None:
        args.append(str(workflow_id))
    return shlex.join(args)


def serve(command: str, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve the console until interrupted."""
    from textual_serve.server import Server

    Server(command, host=host, port=port, title="torc").serve()
