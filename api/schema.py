"""The served OpenAPI document says what the server accepts, no more.

Litestar documents an `int` as an unbounded integer, and a record that refuses unknown fields
as one that allows them; a client generated from the document (or a fuzzer) would then send
requests the document calls valid and get 400. So, once, when the application is made: every
integer without bounds gets MongoDB's 64-bit range, and every record that refuses unknown
fields says `additionalProperties: false`.

One strictness the document cannot say: JSON Schema counts `1.0` as an integer, and this API
does not (an id is written as an integer).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec
from litestar import Litestar
from litestar.openapi.spec import OpenAPIType, Schema

INT64 = 2**63 - 1


def tighten(app: Litestar) -> None:
    """Bound the integers of `app`'s OpenAPI document and close the records that refuse unknown fields."""
    bound_integers(app)
    closed = _closed_records()
    for name, component in (app.openapi_schema.components.schemas or {}).items():
        if closed.get(name):
            component.additional_properties = False


def _closed_records() -> dict[str, bool]:
    """Record names, and whether each refuses unknown fields (False where two records of one name disagree)."""
    found: dict[str, bool] = {}
    stack = list(msgspec.Struct.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        closed = bool(cls.__struct_config__.forbid_unknown_fields)
        found[cls.__name__] = found.get(cls.__name__, closed) and closed
    return found


def bound_integers(app: Litestar) -> None:
    """Give every integer in `app`'s OpenAPI document MongoDB's 64-bit range."""
    seen: set[int] = set()
    stack: list[Any] = [app.openapi_schema]
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, Schema) and _is_integer(value):
            value.minimum = -INT64 if value.minimum is None else value.minimum
            value.maximum = INT64 if value.maximum is None else value.maximum
        if dataclasses.is_dataclass(value):
            stack.extend(getattr(value, f.name) for f in dataclasses.fields(value))
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend(value)


def _is_integer(schema: Schema) -> bool:
    kinds = schema.type if isinstance(schema.type, (list, tuple)) else [schema.type]
    return OpenAPIType.INTEGER in kinds
