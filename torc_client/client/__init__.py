"""The synchronous client for the Torc API: `Client`, one class whose calls are grouped by area.

`session` holds the connection (retries, passwords, problem answers raised as errors) and the calls on
workflows, jobs, files and user data; `runner`, `hpc`, `access`, `records` and `triage` hold the other
areas' calls, which `Client` inherits.
"""

from torc_client.client.session import UNSET, Client

__all__ = ["UNSET", "Client"]
