"""The architecture's rules: import contracts (import-linter, `[tool.importlinter]` in pyproject.toml) and
the one writer of job status.

Each contract is also shown to fail: a copy of the packages gets one forbidden import, and `lint-imports`
must name the contract it breaks.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("torc_client", "api", "runner")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(LINT_IMPORTS), "--config", str(cwd / "pyproject.toml"), "--no-cache"], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=240)  # fmt: skip


def test_the_import_contracts_hold():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " broken" in done.stdout and "0 broken" in done.stdout


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    """The three packages and pyproject.toml, copied once; each case adds an import and takes it out again."""
    where = tmp_path_factory.mktemp("architecture")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, where / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", where / "pyproject.toml")
    return where


BREACHES = [
    ("torc_client/core/units.py", "from torc_client.client import Client", "is layered"),
    ("torc_client/contract/records.py", "from torc_client.spec import plan", "is layered"),
    ("torc_client/analysis/reports.py", "import httpx", "pure: no I/O"),
    ("torc_client/core/graph.py", "import click", "pure core"),
    ("api/routes/jobs.py", "import pymongo", "database driver"),
    ("runner/loop.py", "from api.storage import db", "runner never imports the API"),
    ("api/routes/jobs.py", "from torc_client.client import session", "speaks the contract"),
    ("runner/loop.py", "from torc_client.cli import render", "below the CLI"),
]


@pytest.mark.parametrize(("module", "line", "contract"), BREACHES, ids=[f"{m}:{c}" for m, _, c in BREACHES])
def test_a_forbidden_import_breaks_its_contract(copy: Path, module: str, line: str, contract: str):
    path = copy / module
    original = path.read_text()
    path.write_text(original + f"\n{line}  # noqa\n")
    try:
        done = lint_imports(copy)
    finally:
        path.write_text(original)
    assert done.returncode != 0, done.stdout[-3000:]
    broken = [text for text in done.stdout.splitlines() if text.endswith("BROKEN")]
    assert any(contract in text for text in broken), done.stdout[-3000:]


def status_writes(source: str) -> list[int]:
    """Lines of update documents that set a `status` (`{"$set": {"status": ...}}`, in any form of dict)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value in ("$set", "$setOnInsert") and isinstance(value, ast.Dict):
                    if any(isinstance(k, ast.Constant) and k.value == "status" for k in value.keys):
                        lines.append(node.lineno)
    return lines


OWNER = Path("api/storage/transitions")  # the package that owns job states


def status_writers(root: Path) -> dict[str, list[int]]:
    """The modules under `root/api`, outside the owner of job states, that write a status: their lines."""
    found = {}
    for path in sorted((root / "api").rglob("*.py")):
        name = path.relative_to(root)
        if OWNER not in name.parents and (lines := status_writes(path.read_text())):
            found[str(name)] = lines
    return found


def test_only_the_owner_of_job_states_writes_a_status():
    """Every job status change goes through the package api/storage/transitions/, which checks it against states."""
    assert (ROOT / OWNER / "__init__.py").is_file()
    assert status_writers(ROOT) == {}


def test_a_status_written_outside_the_owner_is_found(tmp_path: Path):
    write = 'db.jobs.update_one({"_id": 1}, {"$set": {"status": "ready"}})\n'
    for name in ("api/storage/transitions/moves.py", "api/storage/jobs.py", "api/routes/transitions.py",
                 "api/storage/transitions.py", "api/storage/transitions_extra/moves.py"):  # fmt: skip
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(write)
    assert status_writers(tmp_path) == {
        "api/routes/transitions.py": [1],
        "api/storage/jobs.py": [1],
        "api/storage/transitions.py": [1],
        "api/storage/transitions_extra/moves.py": [1],
    }


def test_the_status_check_finds_a_write():
    assert status_writes('db.jobs.update_one({"_id": 1}, {"$set": {"status": "ready"}})') == [1]
    assert status_writes('db.jobs.update_one({"_id": 1}, [{"$set": {"status": "$x"}}])') == [1]
    assert status_writes('db.jobs.update_one({"_id": 1}, {"$set": {"waiting_on": []}})') == []
