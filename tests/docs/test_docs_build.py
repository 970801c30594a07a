"""The documentation site builds with `mkdocs build --strict`: a broken link, a missing included file or a
reference page that no longer generates fails the suite; and the hand-written reference keeps up with the code."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace

import click

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
    assert "<code>jobs why</code>" in cli and "torc-htpasswd add" in cli and "env var: TORC_PORT" in cli
    assert 'id="failure_handler"' in (site / "reference/spec/index.html").read_text()
    assert "/torc-service/v1/workflows/{workflow_id}/claim" in (site / "reference/api/index.html").read_text()


def _rendered(page: str) -> str:
    """A docs page's Markdown with its generated parts filled in, as the site shows it."""
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    return hooks.on_page_markdown((ROOT / "docs" / page).read_text(), SimpleNamespace(file=None), None, None)


def test_every_torc_environment_variable_in_the_code_is_documented() -> None:
    used = {name for package in ("api", "runner", "torc_client") for path in (ROOT / package).rglob("*.py")
            for name in re.findall(r"\bTORC_[A-Z][A-Z_]*[A-Z]\b", path.read_text())}  # fmt: skip
    page = _rendered("reference/environment.md")
    assert used and not {name for name in used if f"`{name}`" not in page}


def test_every_server_option_can_come_from_the_environment_and_the_reference_says_which() -> None:
    from api.server import main as server

    options = [p for p in server.params if isinstance(p, click.Option) and p.name not in {"help", "version"}]
    assert all(p.envvar and p.show_envvar for p in options), [p.name for p in options if not p.envvar]
    page = _rendered("getting-started/server.md")
    for option in options:
        assert re.search(rf"\| `{option.opts[0]}`.*\| `{option.envvar}` \|", page), option.opts[0]
    assert "`TORC_PORT`" in page and "`TORC_ADMIN_USERS`" in page
