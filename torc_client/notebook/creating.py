"""A progress bar for creating a big workflow from a notebook: `client.create_workflow_from_spec(spec,
progress=CreationBar())`, or `builder.create(client, progress=CreationBar())`."""

from __future__ import annotations

import ipywidgets as widgets
from IPython.display import display

from torc_client import contract as c


class CreationBar:
    """Shows itself on first use (so a creation that is over at once shows nothing) and counts the stored jobs."""

    def __init__(self) -> None:
        self.bar = widgets.IntProgress(value=0, min=0, max=1, description="creating")
        self.label = widgets.Label("checking the spec")
        self.shown = False

    def __call__(self, creation: c.Creation) -> None:
        if not self.shown:
            display(widgets.HBox([self.bar, self.label]))
            self.shown = True
        if creation.stage == "inserting" and creation.total:
            self.bar.max = creation.total
            self.bar.value = creation.done
            self.label.value = f"{creation.done:,} of {creation.total:,} jobs stored"
