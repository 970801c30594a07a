"""`torc-htpasswd`: the users of a server started with `--auth-file`, as an htpasswd file of bcrypt hashes.

The file is the Apache format (`user:$2b$...` per line), so `htpasswd -B` from Apache
works on it too. It is written with mode 0600 and replaced atomically; a running server
reads it again when it changes.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import bcrypt
import click

from api.auth import read_htpasswd
from torc_client import __version__

#: bcrypt's cost: about 0.1-0.3 s per check on a current core (servers cache successful checks).
ROUNDS = 12


def _load(path: Path) -> dict[str, bytes]:
    try:
        return read_htpasswd(path) if path.exists() else {}
    except ValueError as error:
        raise click.ClickException(str(error)) from None


def _save(path: Path, users: dict[str, bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as out:
        out.writelines(f"{user}:{hashed.decode()}\n" for user, hashed in sorted(users.items()))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _password(given: str | None, confirm: bool) -> str:
    if given is not None:
        return given
    env = os.environ.get("TORC_PASSWORD")
    if env:
        return env
    return click.prompt("Password", hide_input=True, confirmation_prompt=confirm)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="torc-htpasswd")
def main() -> None:
    """Manage the users of a Torc server (its --auth-file)."""


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("user")
@click.option("--password", default=None, help="The password (else $TORC_PASSWORD, else asked for twice).")
def add(file: Path, user: str, password: str | None) -> None:
    """Add USER to FILE, or change USER's password."""
    if not user or ":" in user or not user.isprintable():
        raise click.BadParameter("a user name must be printable and not contain ':'", param_hint="USER")
    users = _load(file)
    secret = _password(password, confirm=True)
    if not secret:
        raise click.BadParameter("the password must not be empty", param_hint="--password")
    changed = user in users
    users[user] = bcrypt.hashpw(secret.encode(), bcrypt.gensalt(rounds=ROUNDS))
    _save(file, users)
    click.echo(f"{'changed the password of' if changed else 'added'} {user} in {file}", err=True)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("user")
def remove(file: Path, user: str) -> None:
    """Remove USER from FILE."""
    users = _load(file)
    if users.pop(user, None) is None:
        raise click.ClickException(f"{user} is not in {file}")
    _save(file, users)
    click.echo(f"removed {user} from {file}", err=True)


@main.command(name="list")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def list_users(file: Path) -> None:
    """The users in FILE, one per line."""
    for user in sorted(_load(file)):
        click.echo(user)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("user")
@click.option("--password", default=None, help="The password to check (else $TORC_PASSWORD, else asked for).")
def verify(file: Path, user: str, password: str | None) -> None:
    """Check USER's password against FILE (exit 0 if it matches, 1 if not)."""
    hashed = _load(file).get(user)
    if hashed is None:
        raise click.ClickException(f"{user} is not in {file}")
    if not bcrypt.checkpw(_password(password, confirm=False).encode(), hashed):
        raise click.ClickException(f"wrong password for {user}")
    click.echo(f"password of {user} verified", err=True)


if __name__ == "__main__":
    main()
