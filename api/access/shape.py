"""The shape of a request, checked strictly before any handler or access rule reads it.

Every route's parameters are known from its handler's signature. A request is refused
before anything reads it when:

- an id in its path is not written in plain digits (`+1`, `0_1`, `01`, ` 1` all name no record);
- a query parameter is given twice (the check and the handler could read different ones);
- a query parameter's value is not the canonical spelling of its type (`true`/`false` for a
  boolean, plain digits for an integer);
- its JSON body does not match the handler's record type without conversion (no string or
  float for an integer, no number for a boolean).

The body is decoded here with the handler's own type, so access rules read exactly the values
the handler will act on.
"""

from __future__ import annotations

import re
import types
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

import msgspec
from litestar import Request
from litestar.exceptions import NotFoundException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.params import ParameterKwarg

INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")
NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
BOOLEAN = ("true", "false")
#: The integers the database stores (64-bit).
INT64 = 2**63 - 1
#: Signature names that are not request parameters.
NOT_PARAMETERS = frozenset({"data", "request", "state", "scope", "headers", "cookies", "socket", "body"})


@dataclass(frozen=True)
class Shape:
    """What a handler reads from a request: query parameters by kind, and the type of its body."""

    query: dict[str, str]
    body: Any = None
    #: Query parameters that take a list, given once per value (`?trigger_type=a&trigger_type=b`).
    repeatable: frozenset[str] = frozenset()


def shape_of(handler: HTTPRouteHandler, path: frozenset[str], dependencies: frozenset[str]) -> Shape:
    """A handler's request shape, from its signature (`path`: its route's path parameters)."""
    params = handler.parsed_fn_signature.parameters
    query: dict[str, str] = {}
    repeatable = set()
    for name, field in params.items():
        if name in NOT_PARAMETERS or name in dependencies or name in path:
            continue
        alias = field.kwarg_definition.query if isinstance(field.kwarg_definition, ParameterKwarg) else None
        kind = _kind(field.annotation)
        if kind:
            query[alias or name] = kind
        if any(get_origin(arg) is list for arg in _flatten(field.annotation)):
            repeatable.add(alias or name)
    body = params["data"].annotation if "data" in params else None
    return Shape(query=query, body=body, repeatable=frozenset(repeatable))


def check(request: Request, shape: Shape, body: bytes | None) -> Any:
    """Refuse a request whose path ids, query or body are not strictly what the handler expects; the decoded body."""
    _check_path(request)
    _check_query(request, shape)
    if shape.body is None or body is None:
        return None
    try:
        return msgspec.json.decode(body, type=shape.body, strict=True)
    except msgspec.ValidationError as error:
        raise ValidationException(f"the request body does not match the API: {error}") from None
    except msgspec.DecodeError as error:
        raise ValidationException(f"the request body is not valid JSON: {error}") from None


def _check_path(request: Request) -> None:
    template = [part for part in request.scope.get("path_template", "").split("/") if part]
    given = [part for part in request.scope["path"].split("/") if part]
    if len(template) != len(given):
        return
    for pattern, value in zip(template, given):
        name = pattern[1:-1] if pattern.startswith("{") else None
        if name and isinstance(request.path_params.get(name), int) and not INTEGER.fullmatch(value):
            raise NotFoundException(f"{value!r} is not an id: ids are written in plain digits")


def _check_query(request: Request, shape: Shape) -> None:
    for key in request.query_params.keys():
        values = request.query_params.getall(key)
        if len(values) > 1 and key not in shape.repeatable:
            raise ValidationException(f"query parameter {key!r} is given {len(values)} times: give it once")
        kind = shape.query.get(key)
        if kind == "int" and INTEGER.fullmatch(values[0]) and abs(int(values[0])) > INT64:
            raise ValidationException(f"query parameter {key!r} is out of range: integers must lie within ±{INT64}")
        if kind is not None and not _canonical(kind, values[0]):
            raise ValidationException(f"query parameter {key!r} must be {_EXPECTED[kind]}, not {values[0]!r}")
    if "workflow_id" in request.query_params and not INTEGER.fullmatch(request.query_params["workflow_id"]):
        raise ValidationException("query parameter 'workflow_id' must be an integer in plain digits")


_EXPECTED = {"int": "an integer in plain digits", "bool": "true or false", "float": "a number"}


def _canonical(kind: str, value: str) -> bool:
    if kind == "int":
        return INTEGER.fullmatch(value) is not None and abs(int(value)) <= INT64
    if kind == "bool":
        return value in BOOLEAN
    return NUMBER.fullmatch(value) is not None


def _kind(annotation: Any) -> str | None:
    """"int", "bool" or "float" for a parameter of that type (optional or annotated), else None."""
    for arg in _flatten(annotation):
        if arg is bool:
            return "bool"
        if arg is int:
            return "int"
        if arg is float:
            return "float"
    return None


def _flatten(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _flatten(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [a for arg in get_args(annotation) for a in _flatten(arg)]
    return [annotation]
