"""Check a parsed spec against the packaged JSON Schema (`schema.json`).

Only the shape is checked here (keys, types, enums); whether names refer to something that
exists is the plan's job. The most relevant schema error becomes one SpecError whose path reads
like `jobs[1].depends_on[0]`.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import re
from collections.abc import Callable, Iterable
from importlib import resources
from typing import TYPE_CHECKING, Any

from torc_client.core.errors import SpecError

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

# jsonschema is imported only to explain a spec that failed the fast check: importing it
# costs about a second, which every `torc` command (and every job calling it) would pay.

_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}


def spec_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a workflow spec."""
    return copy.deepcopy(shared_schema())


@functools.cache
def shared_schema() -> dict[str, Any]:
    """The spec's JSON Schema, parsed once and shared: read it, never change it (`spec_schema()` gives a copy)."""
    text = resources.files("torc_client.spec").joinpath("schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@functools.cache
def _validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(shared_schema())


def _relevance(error: ValidationError) -> Any:
    from jsonschema.exceptions import by_relevance

    # An unknown key usually comes with a "missing required key" for the key the user
    # misspelt; naming the unknown key is the more useful message.
    return by_relevance(strong=frozenset({"additionalProperties"}))(error)


#: Values that are the user's own JSON, where null is a value rather than "not set".
_FREE_JSON = frozenset({"data", "metadata"})


def without_nulls(doc: Any) -> Any:
    """The spec with every key whose value is null left out: null means "not set", as in Torc.

    User_data's `data` and the workflow's `metadata` are the user's own JSON and kept as they are.
    """
    if isinstance(doc, list):
        return [without_nulls(item) for item in doc]
    if not isinstance(doc, dict):
        return doc
    return {key: value if key in _FREE_JSON else without_nulls(value)
            for key, value in doc.items() if value is not None or key == "data"}  # fmt: skip


def metadata_object(doc: dict[str, Any]) -> dict[str, Any]:
    """The spec with `metadata` as a mapping: Torc writes it as a string holding a JSON object."""
    text = doc.get("metadata")
    if not isinstance(text, str):
        return doc
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise SpecError("metadata", f"a metadata string must hold a JSON object; it is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise SpecError("metadata", f"a metadata string must hold a JSON object, not {_describe(value)}")
    return {**doc, "metadata": value}


def validate_spec(doc: dict[str, Any]) -> None:
    """Raise SpecError for every place `doc` breaks the spec schema (the most relevant error at each); return if it fits."""
    if _accepts()(doc):
        return
    by_place: dict[str, list[ValidationError]] = {}
    for error in _validator().iter_errors(doc):
        by_place.setdefault(format_path(error.absolute_path), []).append(error)
    found = [SpecError(place, _message(max(errors, key=_relevance))) for place, errors in by_place.items()]
    if found:
        raise SpecError.combine(found)


def format_path(parts: Iterable[str | int]) -> str:
    """Render a JSON path as `jobs[1].depends_on[0]`; the document root is the empty string."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _message(error: ValidationError) -> str:
    kind = error.validator
    instance = error.instance
    if kind == "additionalProperties":
        return _unknown_keys_message(instance, error.schema)
    if kind == "required":
        missing = [key for key in error.validator_value if key not in instance]
        return f"missing required key{'s' if len(missing) > 1 else ''} {', '.join(repr(k) for k in missing)}"
    if kind == "type":
        expected = error.validator_value
        expected = expected if isinstance(expected, list) else [expected]
        return f"expected {' or '.join(_TYPE_WORDS[t] for t in expected)}, got {_describe(instance)}"
    if kind == "enum":
        return f"{instance!r} is not one of: {', '.join(str(v) for v in error.validator_value)}"
    if kind in ("minimum", "exclusiveMinimum"):
        bound = "at least" if kind == "minimum" else "greater than"
        return f"must be {bound} {error.validator_value}, got {instance!r}"
    if kind == "minLength":
        return "must not be empty"
    if kind == "minItems":
        return f"must have at least {error.validator_value} item(s)"
    if kind == "pattern" and "\x00" in str(error.validator_value):  # the pattern of names
        return f"{instance!r} contains a control character (a tab, newline, ...): names are one printable line"
    if kind in ("propertyNames", "pattern"):  # the pattern of parameter and environment variable names
        what = "environment variable" if "env" in error.absolute_path else "parameter"
        return f"{instance!r} is not a valid {what} name: use letters, digits and _, not a leading digit"
    if kind == "anyOf" and "description" in error.schema:
        expected = error.schema["description"].rstrip(".")
        return f"{_describe(instance)} is not allowed here; expected {expected[0].lower()}{expected[1:]}"
    return error.message


def _unknown_keys_message(instance: dict[str, Any], schema: dict[str, Any]) -> str:
    allowed = sorted(schema.get("properties", {}))
    unknown = [key for key in instance if key not in allowed]
    names = ", ".join(repr(key) for key in unknown)
    message = f"unknown key{'s' if len(unknown) > 1 else ''} {names}; allowed keys: {', '.join(allowed)}"
    guesses = [guess for key in unknown for guess in difflib.get_close_matches(str(key), allowed, n=1)]
    if guesses:
        message += f"; did you mean {', '.join(repr(guess) for guess in guesses)}?"
    return message


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "a mapping"
    return repr(value)


# jsonschema needs ~40 us per job, seconds for a 100,000-job spec. Valid specs are the common
# case, so a checker compiled from the same schema accepts them first; only a spec it rejects
# goes through jsonschema, which finds and explains the error. The checker handles exactly
# the keywords schema.json uses and rejects on any other, so it is never more lenient.
Check = Callable[[Any], bool]
_ANNOTATIONS = frozenset({"description", "title", "$schema", "$defs"})


@functools.cache
def _accepts() -> Check:
    schema = shared_schema()
    compiled: dict[str, Check] = {}

    def ref(name: str) -> Check:
        def check(value: Any) -> bool:
            if name not in compiled:
                compiled[name] = _compile(schema["$defs"][name], ref)
            return compiled[name](value)

        return check

    return _compile(schema, ref)


def _compile(schema: dict[str, Any], ref: Callable[[str], Check]) -> Check:
    checks = [_keyword(key, value, schema, ref) for key, value in schema.items() if key not in _ANNOTATIONS]
    return lambda value: all(check(value) for check in checks)


def _keyword(key: str, arg: Any, schema: dict[str, Any], ref: Callable[[str], Check]) -> Check:
    if key == "$ref":
        return ref(arg.removeprefix("#/$defs/"))
    if key == "type":
        types = arg if isinstance(arg, list) else [arg]
        return lambda value: any(_is_type(value, name) for name in types)
    if key == "properties":
        subs = {name: _compile(sub, ref) for name, sub in arg.items()}
        return lambda v: not isinstance(v, dict) or all(subs[k](x) for k, x in v.items() if k in subs)
    if key == "additionalProperties":
        known = set(schema.get("properties", {}))
        if arg is False:
            return lambda v: not isinstance(v, dict) or v.keys() <= known
        sub = _compile(arg, ref)
        return lambda v: not isinstance(v, dict) or all(sub(x) for k, x in v.items() if k not in known)
    if key == "required":
        return lambda v: not isinstance(v, dict) or all(name in v for name in arg)
    if key == "items":
        sub = _compile(arg, ref)
        return lambda v: not isinstance(v, list) or all(sub(x) for x in v)
    if key == "anyOf":
        subs_any = [_compile(sub, ref) for sub in arg]
        return lambda v: any(sub(v) for sub in subs_any)
    if key == "enum":
        return lambda v: any(v == option and type(v) is type(option) for option in arg)
    if key in ("minimum", "exclusiveMinimum"):
        strict = key == "exclusiveMinimum"
        return lambda v: not _is_type(v, "number") or (v > arg if strict else v >= arg)
    if key == "minLength":
        return lambda v: not isinstance(v, str) or len(v) >= arg
    if key == "pattern":
        compiled = re.compile(arg)
        return lambda v: not isinstance(v, str) or compiled.search(v) is not None
    if key == "minItems":
        return lambda v: not isinstance(v, list) or len(v) >= arg
    if key == "propertyNames" and set(arg) == {"pattern"}:
        pattern = re.compile(arg["pattern"])
        return lambda v: not isinstance(v, dict) or all(isinstance(k, str) and pattern.search(k) for k in v)
    return lambda value: False


def _is_type(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return name == "boolean"
    if name == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, (int, float))
    return isinstance(value, _PYTHON_TYPES[name])


_PYTHON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "object": dict,
    "array": list,
    "null": type(None),
    "boolean": bool,
}
