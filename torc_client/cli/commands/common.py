"""What every command shares: the global options, the run state and small option helpers."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click

from torc_client.cli import listing
from torc_client.client import Client
from torc_client.core import settings

FORMATS = ("table", "json", "csv")


@dataclass
class State:
    """The global options of one `torc` invocation, and the client built from them."""

    format: str = field(default_factory=lambda: str(settings.resolve(None, "TORC_FORMAT", "client.format", "table")))
    url: str | None = None
    user: str | None = None
    password: str | None = None
    ca_bundle: str | None = None
    _client: Client | None = None

    @property
    def json(self) -> bool:
        return self.format == "json"

    def client(self) -> Client:
        """The API client, built on first use (so `--url` may come after the subcommand)."""
        if self._client is None:
            self._client = Client(settings.api_url(self.url), user=self.user, password=self.password,
                                  ca_bundle=self.ca_bundle)  # fmt: skip
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _state(ctx: click.Context) -> State:
    return ctx.ensure_object(State)


def _set_format(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        _state(ctx).format = value


def _set_url(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        _state(ctx).url = value


def _set_password(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        _state(ctx).password = os.environ["TORC_PASSWORD"] = value  # inherited by jobs, never on a command line


def _prompt_password(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and _state(ctx).password is None:
        _set_password(ctx, param, click.prompt("Torc password", hide_input=True, err=True))


def _set_ca_bundle(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        _state(ctx).ca_bundle = os.environ["TORC_CA_BUNDLE"] = value


def global_options() -> list[click.Option]:
    """Fresh global options (`-f/--format`, `--url`, credentials); every command gets its own copy."""
    return [
        click.Option(["-f", "--format", "format_"], type=click.Choice(FORMATS), default=None, expose_value=False,
                     callback=_set_format,
                     help="Output format: table (default), json (records as JSON on stdout) or csv (records)."),
        click.Option(["--url"], default=None, expose_value=False, callback=_set_url,
                     help=f"Torc API URL (env TORC_API_URL; default {settings.DEFAULT_API_URL})."),
        click.Option(["--password"], default=None, expose_value=False, callback=_set_password,
                     help="Password of $TORC_USER (else $USER); env TORC_PASSWORD keeps it out of process listings."),
        click.Option(["--prompt-password"], is_flag=True, default=False, expose_value=False,
                     callback=_prompt_password, help="Ask for the password."),
        click.Option(["--ca-bundle"], default=None, expose_value=False, callback=_set_ca_bundle,
                     help="CA bundle that verifies an https server (env TORC_CA_BUNDLE)."),
    ]  # fmt: skip


def attach_global_options(command: click.Command) -> None:
    """Give `command` and every command below it the global options, so they work after the subcommand too."""
    command.params.extend(global_options())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            if not any(p.name == "format_" for p in sub.params):
                attach_global_options(sub)


def pass_state(func: Callable[..., Any]) -> Callable[..., Any]:
    """Pass the State as the command's first argument."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(_state(click.get_current_context()), *args, **kwargs)

    return wrapper


def workflow_id_argument(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.argument("workflow_id", type=int, metavar="WORKFLOW_ID")(func)


def paging_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--limit` (default: every record) and `--offset`; `--sort-by` and `--reverse-sort` (see `listing`)."""
    func = listing.options(func)
    func = click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True,
                        help="Skip this many records.")(func)  # fmt: skip
    return click.option("-l", "--limit", type=click.IntRange(min=1), default=None,
                        help="Show at most this many records (default: all).")(func)  # fmt: skip


class AliasGroup(click.Group):
    """A group whose commands may also be called by other names (`initialize` for `init`)."""

    def __init__(self, *args: Any, aliases: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.aliases = aliases or {}

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, self.aliases.get(cmd_name, cmd_name))

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[Any, ...]:
        name, cmd, rest = super().resolve_command(ctx, args)
        return (cmd.name if cmd else name), cmd, rest
