"""Torc 0.12's command paths mapped onto this `torc`: for each, the command that answers it here, and how.

The paths are kept in `docs/data/torc-0.12-commands.txt` (taken from Torc's clap definitions);
the answer is read from the click command tree, so the map cannot drift from the code. Used by
the documentation (`docs/hooks.py`) and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from torc_client.cli.commands.torc_paths import POINTER

PATHS_FILE = Path(__file__).parents[2] / "docs" / "data" / "torc-0.12-commands.txt"


@dataclass(frozen=True)
class Counterpart:
    """What answers one Torc command path here."""

    torc_path: str
    #: "same" (a command of that name), "alias" (another command under Torc's name), "pointer" (a command that
    #: names what to use instead) or "missing".
    kind: str
    #: The command here: its own path for "same", the path it is an alias of, or what to use instead.
    here: str
    summary: str = ""


def torc_paths(path: Path = PATHS_FILE) -> list[str]:
    """Torc's command paths, in its order (comments and blank lines skipped)."""
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def canonical_paths(cli: click.Group) -> dict[int, str]:
    """Each command object -> the path where it is registered under its own name (the first such, breadth first)."""
    found: dict[int, str] = {id(cli): "torc"}
    level = [(cli, "torc")]
    while level:
        below = []
        for group, path in level:
            for name, sub in group.commands.items():
                if name == sub.name and id(sub) not in found:
                    found[id(sub)] = f"{path} {name}"
                if isinstance(sub, click.Group):
                    below.append((sub, f"{path} {name}"))
        level = below
    return found


def counterpart(cli: click.Group, torc_path: str, canonical: dict[int, str] | None = None) -> Counterpart:
    """How `torc_path` ("torc jobs list") is answered by the command tree `cli`."""
    canonical = canonical_paths(cli) if canonical is None else canonical
    command: click.Command = cli
    for part in torc_path.split()[1:]:
        sub = command.commands.get(part) if isinstance(command, click.Group) else None
        if sub is None and isinstance(command, click.Group) and hasattr(command, "aliases"):
            sub = command.commands.get(command.aliases.get(part, ""))
        if sub is None:
            return Counterpart(torc_path, "missing", "")
        command = sub
    summary = (command.help or "").strip().split("\n")[0]
    if hasattr(command, POINTER):
        return Counterpart(torc_path, "pointer", getattr(command, POINTER), summary)
    path = canonical.get(id(command), torc_path)
    return Counterpart(torc_path, "same" if path == torc_path else "alias", path, summary)


def command_map(cli: click.Group) -> list[Counterpart]:
    canonical = canonical_paths(cli)
    return [counterpart(cli, path, canonical) for path in torc_paths()]
