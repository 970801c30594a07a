"""Every notebook in notebooks/ runs top to bottom in a real kernel against a real server.

The kernel gets the server's URL through TORC_API_URL, as a user's would. A cell that
raises fails the test (nbclient's CellExecutionError). After the run, the widget state
nbclient saved must show the dashboard's final counts, the same as the server's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from torc_client import Client

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))
BIN = str(Path(sys.executable).parent)
CELL_TIMEOUT = 600


def kernel_env(url: str, home: Path) -> dict[str, str]:
    return {**os.environ, "TORC_API_URL": url, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "IPYTHONDIR": str(home / "ipython"), "JUPYTER_PLATFORM_DIRS": "1", "MPLBACKEND": "Agg"}  # fmt: skip


def execute(path: Path, url: str, workdir: Path) -> nbformat.NotebookNode:
    """Run a copy of the notebook in `workdir` (so files it writes land there) and return it with outputs."""
    copy = workdir / path.name
    shutil.copy(path, copy)
    nb = nbformat.read(copy, as_version=4)
    NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(workdir)}}).execute(env=kernel_env(url, workdir))  # fmt: skip
    return nb


def widget_html(nb: nbformat.NotebookNode) -> list[str]:
    """The `value` of every HTML widget in the saved widget state."""
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    return [m["state"].get("value", "") for m in state.values() if m.get("model_name") == "HTMLModel"]


def shown_counts(html: str) -> dict[str, int]:
    return {s: int(n) for s, n in re.findall(r'data-status="(\w+)">.*?<td class="num">(\d+)</td>', html)}


def test_notebooks_exist() -> None:
    assert [p.name for p in NOTEBOOKS] == ["01_user_data_tutorial.ipynb", "02_parameter_sweep.ipynb",
                                          "03_rerun_after_change.ipynb"]  # fmt: skip


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = json.loads(path.read_text())
    code = [cell for cell in nb["cells"] if cell["cell_type"] == "code"]
    assert code and all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert "widgets" not in nb["metadata"]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path, server, tmp_path: Path) -> None:
    nb = execute(path, server.url, tmp_path)
    errors = [out for cell in nb.cells for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert errors == []
    overviews = [h for h in widget_html(nb) if 'class="torc-overview"' in h]
    assert overviews, "the notebook displays a dashboard"
    (workflow_id,) = {int(m) for h in overviews for m in re.findall(r'data-workflow-id="(\d+)"', h)}
    assert all('data-state="complete"' in h for h in overviews)
    with Client(server.url) as client:
        status = client.workflow_status(workflow_id)
    assert status.is_complete and status.job_counts.get("failed", 0) == 0
    tables = [shown_counts(h) for h in widget_html(nb) if "torc-counts" in h]
    assert {k: v for k, v in status.job_counts.items() if v} in tables


@pytest.mark.timeout(900)
def test_a_notebook_runs_against_a_server_that_requires_passwords(mongo_uri, tmp_path: Path, monkeypatch) -> None:
    import uuid

    import bcrypt

    from tests.conftest import start_server, stop_server

    users = tmp_path / "users.htpasswd"
    users.write_text(f"nora:{bcrypt.hashpw(b'notebook-pw', bcrypt.gensalt(4)).decode()}\n")
    server = start_server(mongo_uri, f"torc_nb_{uuid.uuid4().hex[:8]}", tmp_path,
                          extra_args=("--auth-file", str(users), "--require-auth"))  # fmt: skip
    try:
        # The kernel inherits the credentials as a user's would: the dashboard and its runner send them.
        monkeypatch.setenv("TORC_USER", "nora")
        monkeypatch.setenv("TORC_PASSWORD", "notebook-pw")
        nb = execute(NOTEBOOKS[0], server.url, tmp_path)
        errors = [out for cell in nb.cells for out in cell.get("outputs", []) if out.get("output_type") == "error"]
        assert errors == []
        with Client(server.url, user="nora", password="notebook-pw") as client:
            (workflow,) = client.list_workflows()
            assert workflow.user == "nora" and client.workflow_status(workflow.id).is_complete
    finally:
        stop_server(server)
