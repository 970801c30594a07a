"""`python -m torc_client.console [--url URL] [--output-dir DIR] [WORKFLOW_ID]`: what `torc tui --serve` runs per tab."""

from __future__ import annotations

import argparse

from torc_client.client import Client
from torc_client.console import run
from torc_client.core import settings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m torc_client.console")
    parser.add_argument("workflow_id", type=int, nargs="?")
    parser.add_argument("--url", default=None)
    parser.add_argument("--output-dir", default=settings.DEFAULT_OUTPUT_DIR)
    args = parser.parse_args()
    with Client(settings.api_url(args.url)) as client:
        run(client, args.workflow_id, args.output_dir)


if __name__ == "__main__":
    main()
