"""The Python example of the docs (docs/guides/python.md), run exactly as written against a real server
(from a copy of examples/)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import BIN

ROOT = Path(__file__).parents[2]


PAGE = ROOT / "docs" / "guides" / "python.md"


def docs_python_block() -> str:
    """The page's first Python block."""
    return re.search(r"```python\n(.*?)```", PAGE.read_text(), re.DOTALL)[1]


def test_the_docs_python_example_runs_its_jobs_to_the_end(server, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    env = {**os.environ, "TORC_API_URL": server.url, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([sys.executable, "-c", docs_python_block()], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    counts = eval(lines[0])  # noqa: S307 - the dict the example prints
    assert counts["completed"] == len(lines) - 1 > 0
    assert all(line.split()[1] == "0" for line in lines[1:])
