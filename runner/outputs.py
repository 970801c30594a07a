"""A job's declared output files: their directories before it runs, their presence after."""

from __future__ import annotations

from pathlib import Path

from torc_client import contract as c


def resolve(path: str, cwd: Path) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else cwd / p


def make_directories(job: c.ClaimedJob, cwd: Path) -> None:
    """Create the directories of a job's declared output files, so its command need not."""
    for parent in {resolve(ref.path, cwd).parent for ref in job.output_files}:
        parent.mkdir(parents=True, exist_ok=True)


def check(job: c.ClaimedJob, cwd: Path) -> tuple[list[str], dict[int, float]]:
    missing, mtimes = [], {}
    for ref in job.output_files:
        try:
            mtimes[ref.id] = resolve(ref.path, cwd).stat().st_mtime
        except OSError:
            missing.append(ref.path)
    return missing, mtimes


def append(path: Path, text: str) -> None:
    with open(path, "a") as stream:
        stream.write(text)
