"""Drive this server with Torc's published Python client, as a Torc user's script would.

Run by the interpreter of `.venv-torc-client` (which holds `torc-client` from PyPI, not this
project): `python driver.py URL SCENARIO [ARG]`. Each scenario makes its calls through
`torc.openapi_client` and prints what the client returned, as JSON on stdout; the tests in this
folder assert on it. An error the client raises ends the run with its traceback on stderr. The
scenarios live by area in `scenarios/`: Torc 0.12's calls (`core`), its newer record calls
(`tracking`) and its batch calls (`batches`).
"""

from __future__ import annotations

import base64
import json
import os
import sys

from scenarios import MADE, SCENARIOS, batches, core, tracking  # noqa: F401 - importing them registers their scenarios
from torc import make_api
from torc.openapi_client.exceptions import ApiException


def main() -> None:
    url, name, *args = sys.argv[1:]
    api = make_api(url)
    if os.environ.get("TORC_PASSWORD"):  # a server with users: Basic authentication, as Torc's clients send it
        secret = base64.b64encode(f"{os.environ['TORC_USER']}:{os.environ['TORC_PASSWORD']}".encode()).decode()
        api.api_client.set_default_header("Authorization", f"Basic {secret}")
    try:
        print(json.dumps(SCENARIOS[name](api, *args), default=str))
    finally:
        for wid in MADE:
            try:
                api.delete_workflow(wid)
            except ApiException:
                pass  # deleted by the scenario


if __name__ == "__main__":
    main()
