"""Moved to `torc_client.watching.poller`, shared by every face; this name is kept for existing imports."""

import sys

from torc_client.watching import poller as _shared

sys.modules[__name__] = _shared
