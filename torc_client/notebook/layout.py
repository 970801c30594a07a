"""Moved to `torc_client.watching.layout`, shared by every face; this name is kept for existing imports."""

import sys

from torc_client.watching import layout as _shared

sys.modules[__name__] = _shared
