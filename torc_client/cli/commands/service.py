"""`torc ping` and `torc completion`."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

from torc_client.cli import render
from torc_client.cli.commands.common import State, pass_state


@click.command("ping")
@pass_state
def ping(state: State) -> None:
    """Check that the Torc server answers."""
    answer = state.client().ping()
    if state.json:
        render.print_json(answer)
    else:
        click.echo(f"{state.client().url}: {answer.get('status', 'ok') if isinstance(answer, dict) else answer}")


@click.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script for SHELL.

    \b
    Enable it for the current shell with, e.g.:
        eval "$(_TORC_COMPLETE=bash_source torc)"
    or save `torc completion bash` to a file your shell sources.
    """
    completer = get_completion_class(shell)
    click.echo(completer(ctx.find_root().command, {}, "torc", "_TORC_COMPLETE").source())
