"""Every command of every tutorial page, run as typed against a real server, its shown output checked.

Each page runs in a fresh directory holding a copy of `examples/` (the pages include their specs from
there and run them as `examples/NAME`), with `torc` on PATH and TORC_API_URL pointing at a server of
its own on the session's database, so workflow and job ids start at 1 as they do on a new server.
The pages run side by side (most of their time is spent waiting on runners); the Slurm page runs
alone, once the one-machine cluster is up. The block convention is in `tests/docs/console.py`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from runner import hardware
from tests.conftest import BIN, start_server, stop_server
from tests.docs.console import (
    Command,
    commands,
    fenced_blocks,
    matches,
    session_script,
    split_session,
)

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs"
#: The pages whose commands are run: the tutorials, and the first workflow of "Getting started".
PAGES = sorted([DOCS / "getting-started" / "first-workflow.md", *(DOCS / "tutorials").glob("*.md")])
RUN_PAGES = [page for page in PAGES if commands(page.read_text())]
#: Pages that need the one-machine Slurm cluster of tests/slurm (run on their own, after it is up).
SLURM_PAGES = {"slurm.md"}
SHELL_LANGUAGES = {"bash", "sh", "shell", "zsh"}
#: The user_data tutorial's first run shows what a runner says on a machine without GPUs.
NEEDS_NO_GPUS = {"user-data.md"}


def _page_id(page: Path) -> str:
    return str(page.relative_to(DOCS))


def run_page(page: Path, mongo_uri: str, tmp: Path) -> str:
    """The whole output of the page's commands, run in one bash session against a fresh server."""
    cmds = commands(page.read_text())
    work = tmp / "work"
    shutil.copytree(ROOT / "examples", work / "examples")
    server = start_server(mongo_uri, f"torc_docs_{uuid.uuid4().hex[:8]}", tmp)
    try:
        env = {**os.environ, "TORC_API_URL": server.url, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
               "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}  # fmt: skip
        return subprocess.run(["bash", "-c", session_script(cmds)], cwd=work, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=240).stdout  # fmt: skip
    finally:
        stop_server(server)


def check_page(page: Path, output: str) -> None:
    """Each command exited 0 (or its code is shown by a following `echo $?`) and printed what the page shows."""
    cmds: list[Command] = commands(page.read_text())
    for i, (cmd, (printed, code)) in enumerate(zip(cmds, split_session(output, len(cmds)), strict=True)):
        where = f"{_page_id(page)}:{cmd.line}: $ {cmd.text}"
        checked_next = i + 1 < len(cmds) and cmds[i + 1].text.strip() == "echo $?"
        if code != 0 and not checked_next:
            pytest.fail(f"{where}\nexited {code}:\n{printed}", pytrace=False)
        if not matches(cmd.expected, printed):
            pytest.fail(f"{where}\nthe page shows:\n{cmd.expected}\nit printed:\n{printed}", pytrace=False)


@pytest.fixture(scope="module")
def page_runs(mongo_uri: str, request: pytest.FixtureRequest) -> Iterator[dict[str, Future[str]]]:
    """The selected pages that need nothing but a server, started side by side."""
    selected = {item.callspec.params.get("page") for item in request.session.items if hasattr(item, "callspec")}
    pages = [page for page in RUN_PAGES if page.name not in SLURM_PAGES and page in selected]
    with tempfile.TemporaryDirectory(prefix="docs-pages-") as tmp, ThreadPoolExecutor(len(pages)) as pool:
        dirs = {page: Path(tmp) / _page_id(page).replace("/", "_") for page in pages}
        for path in dirs.values():
            path.mkdir()
        yield {_page_id(page): pool.submit(run_page, page, mongo_uri, dirs[page]) for page in pages}


def test_tutorial_pages_show_shell_only_in_console_blocks() -> None:
    """A ```bash block would not be run: tutorials show every command as a tested console block."""
    untested = [f"{_page_id(page)}:{line}" for page in PAGES
                for lang, _, line in fenced_blocks(page.read_text()) if lang in SHELL_LANGUAGES]  # fmt: skip
    assert not untested, f"shell blocks that are not run (use ```console with `$ ` prompts): {untested}"


@pytest.mark.parametrize("page", [p for p in RUN_PAGES if p.name not in SLURM_PAGES], ids=_page_id)
def test_tutorial_commands_print_what_the_page_shows(page: Path, page_runs: dict[str, Future[str]]) -> None:
    if page.name in NEEDS_NO_GPUS and hardware.detect_gpus() > 0:
        pytest.skip("the page shows a runner on a machine without GPUs")
    check_page(page, page_runs[_page_id(page)].result(timeout=300))


@pytest.mark.parametrize("page", [p for p in RUN_PAGES if p.name in SLURM_PAGES], ids=_page_id)
def test_slurm_tutorial_commands_print_what_the_page_shows(page: Path, slurm_cluster: None, mongo_uri: str,
                                                           tmp_path: Path) -> None:  # fmt: skip
    check_page(page, run_page(page, mongo_uri, tmp_path))
