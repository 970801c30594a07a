"""Which jobs a name filter selects: one exact name, or names like a pattern.

A pattern without `*` or `?` selects the names that contain it (`work_1` selects `work_1`,
`work_10` and `prework_1x`); with them it is a glob over the whole name (`work_?` selects
`work_1` but not `work_10`; `*_b` the names that end in `_b`). Matching is case-sensitive,
like job names and Torc's exact `name`.

The condition is a regular expression on `name` next to the equality on `workflow_id`, so
the workflow's index narrows the scan to its own jobs and only their ids are read back. A
glob with a literal start is anchored (`^work_`), which a database with an index on names
can answer from the index alone.
"""

from __future__ import annotations

import re
from typing import Any

from torc_client.core.errors import InvalidRequest

#: Longest pattern accepted: a name filter, not a document.
MAX_PATTERN = 256
_GLOB = re.compile(r"[*?]")


def is_glob(pattern: str) -> bool:
    return _GLOB.search(pattern) is not None


def regex_for(pattern: str) -> str:
    """The regular expression for `pattern`: a substring, or a whole-name glob when it has `*` or `?`."""
    if not is_glob(pattern):
        return re.escape(pattern)
    parts = ["^"]
    for char in pattern:
        parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
    parts.append("$")
    return "".join(parts).removesuffix(".*$")


def condition(name: str | None, pattern: str | None) -> Any:
    """The condition on `name` for an exact name or a pattern; None when neither is given."""
    if name is not None and pattern is not None:
        raise InvalidRequest("give either name (one exact name) or name_pattern (a part of names, or a glob), not both")
    if name is not None:
        return name
    if pattern is None:
        return None
    if not pattern:
        raise InvalidRequest("name_pattern is empty: give a part of the job names, or a glob with * and ?")
    if len(pattern) > MAX_PATTERN:
        raise InvalidRequest(f"name_pattern is {len(pattern)} characters long; at most {MAX_PATTERN} are accepted")
    return {"$regex": regex_for(pattern)}
