"""Values that JSON can hold: NaN and the infinities are not among them (JSON has no word for them).

Python's `json` writes and reads them as `NaN` and `Infinity`, and msgspec sends them as
`null`, so a NaN put into user_data would quietly come back as something else. Every way
in (the CLI's `--data`, the Python client, a spec) refuses them with where they are.
"""

from __future__ import annotations

import math
from typing import Any


class NotJson(ValueError):
    """A value holds a number JSON cannot represent."""


def first_non_finite(value: Any, where: str = "") -> str | None:
    """The path (`a.b[2]`) of the first NaN or infinity in `value`, or None."""
    if isinstance(value, float):
        return None if math.isfinite(value) else (where or "the value")
    if isinstance(value, dict):
        for key, item in value.items():
            found = first_non_finite(item, f"{where}.{key}" if where else str(key))
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found = first_non_finite(item, f"{where}[{i}]")
            if found:
                return found
    return None


def check(value: Any, what: str) -> Any:
    """`value`, or NotJson naming where in `what` a NaN or infinity sits."""
    found = first_non_finite(value)
    if found:
        raise NotJson(f"{what}: {found} is NaN or infinite, which JSON cannot hold (use null, or a string)")
    return value


def reject_constant(name: str) -> Any:
    """For `json.loads(..., parse_constant=reject_constant)`: `NaN`, `Infinity` and `-Infinity` are not JSON."""
    raise NotJson(f"{name} is not JSON (use null, or a string)")
