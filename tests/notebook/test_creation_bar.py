"""The notebook's progress bar for creating a big workflow (ipywidgets, no browser needed)."""

from __future__ import annotations

from torc_client import contract as c
from torc_client.notebook import CreationBar


def test_the_bar_counts_the_stored_jobs() -> None:
    bar = CreationBar()
    bar(c.Creation(request_id="r", stage="checking"))
    assert bar.shown and bar.label.value == "checking the spec"
    bar(c.Creation(request_id="r", stage="inserting", done=5_000, total=20_000))
    assert (bar.bar.value, bar.bar.max) == (5_000, 20_000)
    assert bar.label.value == "5,000 of 20,000 jobs stored"
