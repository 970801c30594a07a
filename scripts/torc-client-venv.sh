#!/usr/bin/env bash
# A virtualenv of its own holding Torc's published Python client (`torc-client` from PyPI, module `torc`),
# for the compatibility tests in tests/compat. Kept apart from .venv: that one holds this project's
# `torc_client` (distribution `torc-py`), and the two must not see each other.
set -euo pipefail
VENV="${1:-.venv-torc-client}"
VERSION="${TORC_CLIENT_VERSION:-0.35.0}"
PYTHON="${PYTHON:-python3}"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import torc, sys; from importlib.metadata import version; sys.exit(version('torc-client') != '$VERSION')" 2>/dev/null; then
    exit 0
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "torc-client==$VERSION"
