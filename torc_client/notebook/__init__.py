"""Torc in Jupyter: `display(WorkflowDashboard(workflow_id))` (install the `notebook` extra).

The views are core ipywidgets only (no widget package with JavaScript of its own), so they
work on any JupyterLab or Notebook that has ipywidgets. What they show is drawn by pure
functions, importable and testable without Jupyter:

- `render`: HTML tables (counts, jobs, job detail, user_data, reruns, right-sizing);
- `layout` and `svg`: the dependency graph, laid out by level and drawn as SVG;
- `plots`: resource use against requests, as PNG bytes (matplotlib);
- `paging`: which server pages make up a page of the job table.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CreationBar", "WorkflowDashboard"]


def __getattr__(name: str) -> Any:
    # Imported lazily: the pure modules work without ipywidgets installed.
    if name == "WorkflowDashboard":
        from torc_client.notebook.dashboard import WorkflowDashboard

        return WorkflowDashboard
    if name == "CreationBar":
        from torc_client.notebook.creating import CreationBar

        return CreationBar
    raise AttributeError(name)
