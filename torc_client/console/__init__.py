"""`torc tui`: a console for a workflow in the terminal (Textual), or in a browser with `--serve`.

Screens: the workflows you may see (`workflows`), one workflow with its paged job table and
actions (`workflow`), a job (`job`), and the events, graph and user_data (`panels`). They read
through `torc_client.watching`, like the notebook dashboard, and draw with the pure
functions of `text`. Install the `console` extra.
"""

from __future__ import annotations

from pathlib import Path

from torc_client.client import Client
from torc_client.core import settings


def run(client: Client | None = None, workflow_id: int | None = None,
        output_dir: str | Path = settings.DEFAULT_OUTPUT_DIR) -> None:  # fmt: skip
    """Run the console in this terminal until the user quits."""
    from torc_client.console.app import TorcConsole

    TorcConsole(client, workflow_id, output_dir=output_dir).run()
