"""`torc tui [WORKFLOW_ID]`: the console in this terminal, or in a browser with `--serve`."""

from __future__ import annotations

import click

from torc_client.cli.commands.common import State, pass_state
from torc_client.core import settings


@click.command("tui")
@click.argument("workflow_id", type=int, required=False, metavar="[WORKFLOW_ID]")
@click.option("-o", "--output-dir", default=settings.DEFAULT_OUTPUT_DIR, show_default=True,
              help="Where runners write job logs (their --output-dir), for the log tails and for runs started here.")
@click.option("--serve", is_flag=True, help="Publish the console for a browser instead of drawing it here.")
@click.option("--host", default=None, help="With --serve: the interface to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="With --serve: the port (default 8060).")
@pass_state
def tui(state: State, workflow_id: int | None, output_dir: str, serve: bool, host: str | None,
        port: int | None) -> None:  # fmt: skip
    """A console for workflows: jobs, logs, events, graph, user_data and actions (keyboard first; ? lists keys)."""
    try:
        import textual  # noqa: F401 - the console extra

        from torc_client import console
        from torc_client.console import serve as serving
    except ImportError as error:
        raise click.ClickException(f"the console needs the `console` extra ({error.name} is missing)") from None
    if serve:
        command = serving.console_command(settings.api_url(state.url), workflow_id, output_dir)
        serving.serve(command, host or serving.DEFAULT_HOST, port or serving.DEFAULT_PORT)
    else:
        console.run(state.client(), workflow_id, output_dir)
