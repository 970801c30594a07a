"""Parameter values and `{name}` templates: what values a parameter takes and how a template is filled.

A parameter value is a range (`"1:10"`, `"0:10:2"`, `"0.0:1.0:0.25"`), a list (`"[1,5,10]"`,
`"['a','b']"` or a real YAML/JSON list) or a scalar. Values combine as a `product` (the default)
or `zip`, and `{name}` / `{name:03d}` templates are filled in (`torc_client.spec.expand` copies
the entries). Only declared parameter names are templates: `${HOME}`, awk's
`{print $1}` and JSON such as `'{"a": 1}'` pass through unchanged.
"""

from __future__ import annotations

import ast
import functools
import itertools
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from torc_client.core.errors import SpecError

Value = int | float | str

FLOAT_TOLERANCE = 1e-10
SIGNIFICANT_DIGITS = 12
#: Most copies one entry may expand to: catches a typo such as "1:1e9" before it eats the memory.
MAX_EXPANSION = 10_000_000

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_INT_RE = re.compile(r"[-+]?\d+")
_FLOAT_RE = re.compile(_NUMBER)
_RANGE_RE = re.compile(rf"{_NUMBER}:{_NUMBER}(?::{_NUMBER})?")
# `(?<!\$)` keeps shell variables such as `${i}` intact; a format spec has no spaces or braces.
_TEMPLATE_RE = re.compile(r"(?<!\$)\{([A-Za-z_][A-Za-z0-9_]*)(?::([^{}\s]*))?\}")


def parse_parameter_values(raw: Any, path: str = "parameters") -> list[Value]:
    """Return the values one parameter takes, in order.

    `raw` is a range string, a list string, a scalar (string or number) or a list.
    Raises SpecError for an empty list, a zero step or a range that yields nothing.
    """
    if isinstance(raw, bool):
        raise SpecError(path, f"a parameter value cannot be a boolean ({raw!r}); use e.g. \"[0,1]\"")
    if isinstance(raw, (int, float)):
        values: list[Value] = [raw]
    elif isinstance(raw, str):
        values = _parse_text(raw, path)
    elif isinstance(raw, list):
        values = [_list_item(item, f"{path}[{index}]") for index, item in enumerate(raw)]
    else:
        raise SpecError(path, f"a parameter value must be a string, a number or a list, not {raw!r}")
    if not values:
        raise SpecError(path, "the parameter has no values; give at least one, e.g. \"[1,2,3]\" or \"1:10\"")
    return values


def _list_item(item: Any, path: str) -> Value:
    if isinstance(item, bool) or not isinstance(item, (int, float, str)):
        raise SpecError(path, f"a parameter list may hold only strings and numbers, not {item!r}")
    return item


def _parse_text(raw: str, path: str) -> list[Value]:
    text = raw.strip()
    if text.startswith("{") and text.endswith("}") and "," not in text:
        text = text[1:-1].strip()
    if text.startswith("[") and text.endswith("]"):
        return _parse_list(text[1:-1])
    if _RANGE_RE.fullmatch(text):
        return _parse_range(text, path)
    return [_parse_scalar(text)]


def _parse_list(inner: str) -> list[Value]:
    try:
        items = ast.literal_eval(f"[{inner}]")
    except (ValueError, SyntaxError):
        items = None
    if items is not None and all(isinstance(i, (int, float, str)) and not isinstance(i, bool) for i in items):
        return items
    return [_parse_scalar(item.strip()) for item in inner.split(",") if item.strip()]


def _parse_scalar(text: str) -> Value:
    if _INT_RE.fullmatch(text):
        return int(text)
    if _FLOAT_RE.fullmatch(text):
        return float(text)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _parse_range(text: str, path: str) -> list[Value]:
    parts = text.split(":")
    if all(_INT_RE.fullmatch(part) for part in parts):
        start, end, step = (int(p) for p in [*parts, "1"][:3])
    else:
        start, end, step = (float(p) for p in [*parts, "1"][:3])
    if step == 0:
        raise SpecError(path, f"range {text} has a zero step; use e.g. {parts[0]}:{parts[1]}:1")
    if (end - start) * step < 0:
        raise SpecError(path, _empty_range_message(text, parts, step))
    if isinstance(step, int):
        values = range(start, end + (1 if step > 0 else -1), step)
        _check_size(len(values), f"range {text}", path)
        return list(values)
    count = math.floor((end - start) / step + FLOAT_TOLERANCE / abs(step)) + 1
    _check_size(count, f"range {text}", path)
    return [float(f"{start + k * step:.{SIGNIFICANT_DIGITS}g}") for k in range(count)]


def _check_size(count: int, what: str, path: str) -> None:
    if count > MAX_EXPANSION:
        raise SpecError(path, f"{what} gives {count:,} values; at most {MAX_EXPANSION:,} are allowed")


def _empty_range_message(text: str, parts: list[str], step: int | float) -> str:
    start, end = parts[0], parts[1]
    step_text = parts[2] if len(parts) == 3 else "1"
    negated = step_text[1:] if step_text.startswith("-") else f"-{step_text.lstrip('+')}"
    swapped = ":".join([end, start, *parts[2:]])
    direction = "negative" if step > 0 else "positive"
    return f"range {text} is empty; did you mean {swapped} or a {direction} step {start}:{end}:{negated}?"


def format_value(value: Value, spec: str | None = None) -> str:
    """Format a parameter value for a template; with no spec, floats print like Rust (`1.0` -> `1`)."""
    if spec:
        return format(value, spec)
    if isinstance(value, float):
        return _display_float(value)
    return str(value)


def _display_float(value: float) -> str:
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def template_names(text: str) -> list[str]:
    """Names used as `{name}` or `{name:spec}` templates in `text`, in order of appearance."""
    return [match.group(1) for match in _TEMPLATE_RE.finditer(text)]


def substitute_parameters(text: str, values: Mapping[str, Value], path: str = "") -> str:
    """Fill in `{name}` and `{name:spec}` for the parameters in `values`; leave all else alone."""
    pieces = _template_pieces(text)
    if len(pieces) == 1:
        return text
    out = []
    for piece in pieces:
        if isinstance(piece, str):
            out.append(piece)
        elif piece[0] not in values:
            out.append(piece[2])
        else:
            out.append(_format_template(piece, values[piece[0]], path))
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def _template_pieces(text: str) -> tuple[str | tuple[str, str | None, str], ...]:
    """Split text into literal strings and (name, spec, original) templates, once per text.

    An expansion fills the same few texts for every combination, so this parse is cached.
    """
    pieces: list[str | tuple[str, str | None, str]] = []
    last = 0
    for match in _TEMPLATE_RE.finditer(text):
        pieces.extend([text[last : match.start()], (match.group(1), match.group(2), match.group(0))])
        last = match.end()
    pieces.append(text[last:])
    return tuple(pieces)


def _format_template(piece: tuple[str, str | None, str], value: Value, path: str) -> str:
    name, spec, original = piece
    try:
        return format_value(value, spec)
    except ValueError as error:
        raise SpecError(
            path, f"format {original} does not apply to value {value!r} of parameter '{name}' ({error})"
        ) from None


def parameter_combinations(
    values: Mapping[str, Sequence[Value]], mode: str = "product", path: str = ""
) -> list[dict[str, Value]]:
    """Every combination of parameter values, as dicts in a deterministic order.

    `product`: the cartesian product, the first parameter varying slowest.
    `zip`: the i-th values together; all parameters must have the same number of values.
    """
    return list(iter_combinations(values, mode, path))


def iter_combinations(
    values: Mapping[str, Sequence[Value]], mode: str = "product", path: str = ""
) -> Iterator[dict[str, Value]]:
    """`parameter_combinations` one at a time (a million combinations need not all be held); checks come first."""
    names = list(values)
    if mode == "zip":
        lengths = {name: len(vals) for name, vals in values.items()}
        if len(set(lengths.values())) > 1:
            counts = ", ".join(f"{name} ({count} values)" for name, count in lengths.items())
            message = f"parameter_mode zip needs parameters with equal numbers of values; got {counts}"
            raise SpecError(path, message)
        combos: Any = zip(*values.values())
    else:
        _check_size(math.prod(len(vals) for vals in values.values()), "the product of the parameters", path)
        combos = itertools.product(*values.values())
    return (dict(zip(names, combo)) for combo in combos)


def parse_parameters(raw: Mapping[str, Any], path: str = "parameters") -> dict[str, list[Value]]:
    """Parse a `parameters` mapping into name -> values, keeping the declaration order."""
    return {name: parse_parameter_values(value, f"{path}.{name}") for name, value in raw.items()}
