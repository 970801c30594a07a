"""Every default in one place, and how a setting is resolved.

Precedence, highest first: an explicit argument or flag, then a `TORC_*` environment
variable, then the config file (`$TORC_CONFIG`, else `~/.config/torc/config.toml`),
then the default named here.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

# --- server -------------------------------------------------------------------------
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
API_PREFIX = "/torc-service/v1"
#: The version of Torc's OpenAPI document whose contract the API follows (what `torc-client` 0.35.0 was made from).
CONTRACT_API_VERSION = "0.21.0"
DEFAULT_DATA_DIR = "~/.local/share/torc/db"
DEFAULT_DATABASE = "torc"
DEFAULT_LEASE_SECONDS = 60.0
#: Largest page a list request may ask for: enough for a 100,000-job workflow in one call.
MAX_PAGE_LIMIT = 1_000_000
DEFAULT_PAGE_LIMIT = 10_000
#: Largest request body the API accepts (a 100,000-job spec written out job by job fits).
MAX_REQUEST_BODY_BYTES = 64 * 1024 * 1024
#: Limits on a workflow spec, so that no spec can take the server down while it is read: the values YAML aliases
#: may add beyond those written out (a "billion laughs" adds 10**9), and how deeply values may nest.
MAX_SPEC_ALIAS_VALUES = 1_000_000
MAX_SPEC_DEPTH = 64
#: Longest job command, in bytes: Linux passes at most 128 KiB (with its closing NUL) in one argument of `bash -c`.
MAX_COMMAND_BYTES = 128 * 1024 - 1
#: How often at most a claim that finds nothing checks a workflow's queues for ready jobs they lost.
DEFAULT_QUEUE_REPAIR_SECONDS = 10.0

# --- client and runner --------------------------------------------------------------
DEFAULT_API_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}{API_PREFIX}"
DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_POLL_INTERVAL = 1.0
DEFAULT_OUTPUT_DIR = "output"
#: A Slurm scheduler's walltime when none is given, from a spec or from `torc slurm create` (Torc's spec default).
DEFAULT_WALLTIME = "01:00:00"
#: Grace period between SIGTERM and SIGKILL when a job is stopped.
DEFAULT_KILL_GRACE_SECONDS = 10.0
#: How many times a job may be requeued because its runner died, before it fails.
DEFAULT_MAX_LEASE_RETRIES = 3
#: Seconds of work a runner keeps claimed ahead, at the pace its jobs finish (0: only what fits now).
DEFAULT_BACKLOG_SECONDS = 0.5
#: Most claimed jobs a runner keeps waiting locally.
MAX_BACKLOG_JOBS = 500


def queue_repair_seconds() -> float:
    """The API's interval between queue repairs of one workflow (`TORC_QUEUE_REPAIR_SECONDS`, `[server]`)."""
    return float(resolve(None, "TORC_QUEUE_REPAIR_SECONDS", "server.queue_repair_seconds",
                         DEFAULT_QUEUE_REPAIR_SECONDS))  # fmt: skip


def config_path() -> Path:
    """Where the config file is looked for."""
    explicit = os.environ.get("TORC_CONFIG")
    return Path(explicit).expanduser() if explicit else Path("~/.config/torc/config.toml").expanduser()


def load_config() -> dict[str, Any]:
    """The config file's contents, or an empty mapping when there is none."""
    path = config_path()
    if not path.is_file():
        return {}
    with path.open("rb") as stream:
        return tomllib.load(stream)


def resolve(explicit: Any, env_var: str, config_key: str, default: Any) -> Any:
    """A setting's value: the explicit one, else the environment, else the config file, else `default`.

    `config_key` is dotted: `client.api_url` reads `[client] api_url`.
    """
    if explicit is not None:
        return explicit
    if os.environ.get(env_var):
        return os.environ[env_var]
    node: Any = load_config()
    for part in config_key.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def api_url(explicit: str | None = None) -> str:
    """The API URL a client talks to."""
    return str(resolve(explicit, "TORC_API_URL", "client.api_url", DEFAULT_API_URL)).rstrip("/")


def api_user(explicit: str | None = None) -> str:
    """The user a client authenticates as: `--user`, else $TORC_USER, else the login name ($USER)."""
    return str(resolve(explicit, "TORC_USER", "client.user", os.environ.get("USER", "")))


def api_password(explicit: str | None = None) -> str | None:
    """The password a client sends, if any: `--password` or $TORC_PASSWORD (never from the config file)."""
    return explicit or os.environ.get("TORC_PASSWORD") or None


def ca_bundle(explicit: str | None = None) -> str | None:
    """A CA bundle to verify an https server with (else the system's): `--ca-bundle` or $TORC_CA_BUNDLE."""
    value = resolve(explicit, "TORC_CA_BUNDLE", "client.ca_bundle", None)
    return str(value) if value else None


def job_log_stem(output_dir: Path | str, workflow_id: int, job_id: int, run_id: int, attempt_id: int) -> Path:
    """Where one attempt's stdout (`.o`) and stderr (`.e`) go (Torc's names); the runner writes, viewers read."""
    return Path(output_dir) / "job_stdio" / f"job_wf{workflow_id}_j{job_id}_r{run_id}_a{attempt_id}"
