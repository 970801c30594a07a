#!/usr/bin/env bash
# Install the browser the notebook tests drive: Debian's `chromium` package, at /usr/bin/chromium.
#
# Playwright for Python (a pip package) drives it through its own bundled driver; never run
# `playwright install`, which would download a browser build from outside the package registries.
# Idempotent: does nothing when chromium is already there. Needs root (or sudo) to install.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    echo "chromium is installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "install-browser: installing chromium needs root; run: apt-get install -y chromium" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q chromium
echo "chromium installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
