#!/usr/bin/env bash
# Install the system packages the tests use, from Debian's archive: `jq` (the tutorial's shell
# blocks), `chromium` (the browser check drives it at /usr/bin/chromium) and `openssh-server`
# (`torc remote` is tested against an sshd the test starts on loopback).
#
# Playwright for Python (a pip package) drives chromium through its own bundled driver; never run
# `playwright install`, which would download a browser build from outside the package registries.
# Idempotent: does nothing when both are there. Needs root (or sudo) to install.
set -euo pipefail

missing=()
command -v jq >/dev/null 2>&1 || missing+=(jq)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)

if [ ${#missing[@]} -eq 0 ]; then
    echo "system packages are installed: jq, openssh-server, $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "install-system: installing ${missing[*]} needs root; run: apt-get install -y ${missing[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q "${missing[@]}"
echo "installed: ${missing[*]}"
