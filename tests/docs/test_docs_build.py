"""The documentation site builds with `mkdocs build --strict`: a broken link, a missing included file or a
reference page that no longer generates fails the suite; and the hand-written reference keeps up with the code."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.conftest import BIN

ROOT = Path(__file__).parents[2]


def test_the_docs_site_builds_strictly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    built = subprocess.run([str(BIN / "mkdocs"), "build", "--strict", "--site-dir", str(site)], cwd=ROOT,
                           env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, capture_output=True, text=True,
                           timeout=240)  # fmt: skip
    assert built.returncode == 0, built.stderr
    cli = (site / "reference/cli/index.html").read_text()
    assert "torc workflows reinitialize" in cli and "--dry-run" in cli
    assert 'id="failure_handler"' in (site / "reference/spec/index.html").read_text()
    assert "/torc-service/v1/workflows/{workflow_id}/claim" in (site / "reference/api/index.html").read_text()


def test_every_torc_environment_variable_in_the_code_is_documented() -> None:
    used = {name for package in ("api", "runner", "torc_client") for path in (ROOT / package).rglob("*.py")
            for name in re.findall(r"\bTORC_[A-Z][A-Z_]*[A-Z]\b", path.read_text())}  # fmt: skip
    page = (ROOT / "docs" / "reference" / "environment.md").read_text()
    assert used and not {name for name in used if f"`{name}`" not in page}
