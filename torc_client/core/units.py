"""Memory sizes and ISO-8601 durations, as Torc writes them in resource requirements.

Memory is a whole number with an optional binary unit: `512m`, `16g`, `2t`, `1048576`
(bytes). Durations are ISO-8601: `PT30M`, `P1DT12H`, `PT1.5H`.
"""

from __future__ import annotations

import math
import re

_MEMORY_UNITS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}
_MEMORY_RE = re.compile(r"(\d+)\s*([kmgt]?)b?", re.IGNORECASE)
_FRACTION_RE = re.compile(r"\d*[.,]\d+\s*[kmgt]?b?", re.IGNORECASE)
_MEMORY_EXAMPLES = "e.g. 512m, 16g, 1536m, or 1073741824 for bytes"

_SECONDS = {"Y": 365.25 * 86400, "M": 30 * 86400, "W": 7 * 86400, "D": 86400}
_TIME_SECONDS = {"H": 3600, "M": 60, "S": 1}
_NUMBER = r"(\d+(?:[.,]\d+)?)"
_DURATION_RE = re.compile(
    rf"P(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
    rf"(?:T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?"
)
_DURATION_EXAMPLES = "e.g. PT30M, PT2H, P1D, P1DT12H or PT1.5H"


def parse_memory(text: str | int) -> int:
    """Return the number of bytes in a memory size such as `16g`, `512M`, `1gb` or `1024`.

    Units are binary (k = 1024 bytes) and case-insensitive; a bare number is bytes.
    Fractions (`1.5g`) are rejected, as in Torc: write `1536m` instead.
    """
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise ValueError(f"invalid memory {text!r}: expected a string or a whole number ({_MEMORY_EXAMPLES})")
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"invalid memory {text}: it cannot be negative ({_MEMORY_EXAMPLES})")
        return text
    value = text.strip()
    match = _MEMORY_RE.fullmatch(value)
    if match is None:
        if _FRACTION_RE.fullmatch(value):
            raise ValueError(
                f"invalid memory {text!r}: fractions are not allowed; use a smaller unit instead "
                f"({_MEMORY_EXAMPLES})"
            )
        raise ValueError(
            f"invalid memory {text!r}: expected a whole number with an optional unit k, m, g or t "
            f"({_MEMORY_EXAMPLES})"
        )
    number, unit = match.groups()
    return int(number) * 1024 ** _MEMORY_UNITS[unit.lower()]


def format_memory(num_bytes: int) -> str:
    """Format bytes in the largest unit that divides them exactly: 17179869184 -> `16g`."""
    if num_bytes < 0:
        raise ValueError(f"invalid memory {num_bytes}: it cannot be negative")
    if num_bytes == 0:
        return "0"
    for unit in ("t", "g", "m", "k"):
        size = 1024 ** _MEMORY_UNITS[unit]
        if num_bytes % size == 0:
            return f"{num_bytes // size}{unit}"
    return str(num_bytes)


def parse_duration(text: str) -> float:
    """Return the seconds in an ISO-8601 duration such as `PT30M`, `P1DT12H` or `PT1.5H`.

    A year counts as 365.25 days and a month as 30 days, as in Torc.
    """
    if not isinstance(text, str):
        raise ValueError(f"invalid duration {text!r}: expected an ISO-8601 string ({_DURATION_EXAMPLES})")
    value = text.strip().upper()
    match = _DURATION_RE.fullmatch(value)
    if match is None or value.endswith("T") or not any(match.groups()):
        raise ValueError(f"invalid duration {text!r}: expected an ISO-8601 duration ({_DURATION_EXAMPLES})")
    scales = [*_SECONDS.values(), *_TIME_SECONDS.values()]
    return float(
        sum(float(part.replace(",", ".")) * scale for part, scale in zip(match.groups(), scales) if part)
    )


def format_duration(seconds: float) -> str:
    """Format seconds as an ISO-8601 duration: 5400 -> `PT1H30M`, 129600 -> `P1DT12H`.

    Days are the largest unit, because years and months have no exact length.
    """
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"invalid duration {seconds!r}: expected a finite, non-negative number of seconds")
    total = round(seconds, 6)
    whole = int(total)
    fraction = round(total - whole, 6)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    date_part = f"{days}D" if days else ""
    time_part = f"{hours}H" if hours else ""
    time_part += f"{minutes}M" if minutes else ""
    if secs or fraction:
        time_part += f"{_format_seconds(secs + fraction)}S"
    if not date_part and not time_part:
        return "PT0S"
    return f"P{date_part}" + (f"T{time_part}" if time_part else "")


_WALLTIME_RE = re.compile(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?")


def parse_walltime(text: str) -> float:
    """Return the seconds in a Slurm time limit: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM` or `D-HH:MM:SS`."""
    match = _WALLTIME_RE.fullmatch(str(text).strip())
    if match is None:
        raise ValueError(f"invalid walltime {text!r}: expected Slurm's HH:MM:SS, D-HH:MM:SS or minutes")
    days, first, second, third = match.groups()
    if days is not None:  # D-HH[:MM[:SS]]
        hours, minutes, seconds = int(first), int(second or 0), int(third or 0)
        total = int(days) * 86400 + hours * 3600 + minutes * 60 + seconds
    elif third is not None:  # HH:MM:SS
        total = int(first) * 3600 + int(second) * 60 + int(third)
    else:  # MM or MM:SS
        total = int(first) * 60 + int(second or 0)
    if total <= 0:
        raise ValueError(f"invalid walltime {text!r}: it must be longer than zero")
    return float(total)


def format_walltime(seconds: float) -> str:
    """Seconds as Slurm's `HH:MM:SS` (hours may pass 24), rounded up to whole seconds."""
    total = int(math.ceil(seconds))
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def format_span(seconds: float) -> str:
    """Seconds for people, as Torc's reports write them: `2h 30m 15s`, `4m 0s`, `12s` (rounded to whole seconds)."""
    hours, rest = divmod(int(round(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def _format_seconds(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def iso_from_epoch(seconds: float) -> str:
    """A UTC time in Torc's format, `YYYY-MM-DDTHH:MM:SS.mmmZ`."""
    from datetime import datetime, timezone

    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def iso_now() -> str:
    """The current UTC time in Torc's format."""
    import time

    return iso_from_epoch(time.time())


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and the noun in the number it needs: "1 job", "2 jobs", "1 GPU", "0 GPUs" (`plural`: when not noun+s)."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"
