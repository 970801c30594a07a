"""KDL specs, as Torc writes them: read into the same dict as YAML and JSON, and written back.

    name "diamond"
    file "f1" path="f1.json"
    job "work" {
        command "bash work.sh ${files.input.f1}"
        depends_on "prepare"
        input_file "f1"
    }

The mapping from nodes to keys follows the spec's JSON Schema, so it covers every key the other
formats have and cannot drift from them:
- a node named after a list of records (`job`, `file`, `slurm_scheduler`, ...; singular or plural)
  adds one record: its first argument is the record's name, its properties and children are keys;
- a node named after a list of values (`depends_on`, `input_file`, `use_parameters`, ...) appends
  its arguments, so it may be repeated or list several values;
- a node named after a mapping (`parameters`, `resource_monitor`, `slurm_defaults`, ...) takes its
  children as keys; `metadata` and user_data's `data` may also be one string holding JSON;
- any other node takes its one argument.
Torc's `depends_on_job` is read as `depends_on`. A node the schema does not know is kept under its own name, so the schema check reports it
(with a suggestion) exactly as it reports an unknown key in YAML.

Parsing is ckdl's (KDL 2 and 1). It reports no position, so a syntax error is located here by
finding the longest prefix of the text that still parses once its open blocks are closed.
"""

from __future__ import annotations

import json
import re
from typing import Any

import ckdl

from torc_client.spec.validate import shared_schema as _schema

_CLOSERS = ("", '"', '"""', '"#', '"""#')
#: Other names Torc's KDL examples use for a key: their `depends_on_job` (which Torc itself ignores,
#: dropping the dependency) means `depends_on`.
_ALIASES = {"depends_on_job": "depends_on"}
_ANNOTATIONS = frozenset({"description", "title", "default", "examples"})


class KdlSyntaxError(ValueError):
    """A KDL document that does not parse; `line` and `column` are 1-based (None when unknown)."""

    def __init__(self, problem: str, line: int | None, column: int | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line
        self.column = column


class KdlShapeError(ValueError):
    """A node whose arguments do not fit its key (say, two values where one is expected)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(problem)
        self.path = path
        self.problem = problem


def load_kdl(text: str) -> dict[str, Any]:
    """The spec dict a KDL document describes; raises KdlSyntaxError or KdlShapeError."""
    try:
        document = ckdl.parse(text, version="any")
    except ckdl.ParseError as error:
        line, column = _locate_error(text)
        raise KdlSyntaxError(str(error) or "syntax error", line, column) from None
    return _fill_mapping({}, document.nodes, _schema(), "")


def dump_kdl(doc: dict[str, Any]) -> str:
    """A KDL document for a spec dict, which `load_kdl` reads back as the same dict."""
    nodes = [node for key, value in doc.items() for node in _nodes(key, value, _schema())]
    return ckdl.Document(nodes).dump(ckdl.EmitterOptions(version=2))


# --- reading -------------------------------------------------------------------------------------


def _fill_mapping(target: dict[str, Any], nodes: list[ckdl.Node], schema: dict[str, Any], path: str) -> dict:
    properties = _resolve(schema).get("properties", {})
    for node in nodes:
        key, kind = _key_for(node.name, properties)
        where = f"{path}.{key}" if path else key
        if kind == "records":
            records = target.setdefault(key, [])
            records.append(_record(node, _items(properties[key]), f"{where}[{len(records)}]"))
        elif kind == "values":
            target.setdefault(key, []).extend(node.args)
        elif kind == "mapping":
            target[key] = _mapping(node, properties[key], where)
        elif key in target:
            raise KdlShapeError(where, f"'{node.name}' is given twice")
        else:
            target[key] = _one_value(node, where, json_text=_any_json(properties.get(key, {})))
    return target


def _record(node: ckdl.Node, schema: dict[str, Any], path: str) -> dict[str, Any]:
    record: dict[str, Any] = {}
    if node.args:
        if len(node.args) > 1 or "name" not in _resolve(schema).get("properties", {}):
            raise KdlShapeError(path, f"'{node.name}' takes at most one argument, its name; got {len(node.args)}")
        record["name"] = node.args[0]
    for key, value in node.properties.items():
        record[key] = value
    return _fill_mapping(record, node.children, schema, path)


def _mapping(node: ckdl.Node, schema: dict[str, Any], path: str) -> Any:
    if node.args and not node.children and not node.properties:
        return _one_value(node, path, json_text=True)
    if node.args:
        raise KdlShapeError(path, f"'{node.name}' takes either one JSON string or a block of keys, not both")
    mapping: dict[str, Any] = dict(node.properties)
    if _resolve(schema).get("properties"):
        return _fill_mapping(mapping, node.children, schema, path)
    for child in node.children:  # free-form keys: parameters, slurm_defaults, metadata
        where = f"{path}.{child.name}"
        mapping[child.name] = child.args if len(child.args) > 1 else _one_value(child, where)
    return mapping


def _one_value(node: ckdl.Node, path: str, json_text: bool = False) -> Any:
    if len(node.args) != 1 or node.properties or node.children:
        raise KdlShapeError(path, f"'{node.name}' takes exactly one value, e.g. {node.name} \"...\"")
    value = node.args[0]
    if json_text and isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            raise KdlShapeError(path, f"the string is not valid JSON: {error}") from None
    return value


def _key_for(name: str, properties: dict[str, Any]) -> tuple[str, str]:
    """The spec key a node's name stands for, and how its arguments fill it."""
    for key in (_ALIASES.get(name, name), f"{name}s"):
        if key in properties:
            return key, _kind(properties[key])
    return name, "value"


def _kind(schema: dict[str, Any]) -> str:
    schema = _resolve(schema)
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    if "array" in types:
        return "records" if _resolve(_items(schema)).get("type") == "object" else "values"
    return "mapping" if "object" in types else "value"


def _items(schema: dict[str, Any]) -> dict[str, Any]:
    return _resolve(schema).get("items", {})


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return _schema()["$defs"][ref.removeprefix("#/$defs/")] if ref else schema


def _locate_error(text: str) -> tuple[int, int]:
    """The line and column where the text stops being the start of a valid document."""
    lines = text.split("\n")
    good = _longest_good_prefix(len(lines), lambda n: "\n".join(lines[:n]))
    if good >= len(lines):  # every line is fine: something is left open at the end
        return len(lines), len(lines[-1]) + 1
    head = "\n".join(lines[:good]) + ("\n" if good else "")
    line = lines[good]
    column = _longest_good_prefix(len(line), lambda n: head + line[:n])
    return good + 1, column + 1


def _longest_good_prefix(size: int, prefix: Any) -> int:
    low, high = 0, size  # prefix(low) can be completed; find the largest such
    while low < high:
        middle = (low + high + 1) // 2
        if _completes(prefix(middle)):
            low = middle
        else:
            high = middle - 1
    return low


def _completes(text: str) -> bool:
    """Whether closing the open strings and blocks of `text` makes a valid document."""
    depth = text.count("{") - text.count("}")
    for closer in _CLOSERS:
        for braces in range(max(depth, 0), -1, -1):
            try:
                ckdl.parse(text + closer + "\n}" * braces, version="any")
                return True
            except ckdl.ParseError:
                continue
    return False


# --- writing -------------------------------------------------------------------------------------

#: How Torc names one item of a list in KDL (`input_file "f1"`); other lists keep their key.
_ITEM_NODES = {
    "jobs": "job", "files": "file", "failure_handlers": "failure_handler", "slurm_schedulers": "slurm_scheduler",
    "actions": "action", "rules": "rule", "input_files": "input_file", "output_files": "output_file",
    "commands": "command",
}  # fmt: skip
#: Lists Torc writes as one node with several arguments (`use_parameters "a" "b"`).
_ONE_NODE_LISTS = frozenset({"use_parameters", "exit_codes", "metrics"})
_NODE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def _nodes(key: str, value: Any, parent: dict[str, Any]) -> list[ckdl.Node]:
    schema = _resolve(parent).get("properties", {}).get(key, {})
    kind = _kind(schema) if schema else "value"
    if value is None:
        return []
    if kind == "records":
        return [_record_node(_ITEM_NODES.get(key, key), record, _items(schema)) for record in value]
    if kind == "values" or (not schema and isinstance(value, list)):
        if key in _ONE_NODE_LISTS or not schema:
            return [ckdl.Node(key, list(value))]
        return [ckdl.Node(_ITEM_NODES.get(key, key), [item]) for item in value]
    if _any_json(schema) or (isinstance(value, (dict, list)) and not _block(value, schema)):
        return [ckdl.Node(key, [json.dumps(value)])]
    if isinstance(value, dict):
        return [ckdl.Node(key, children=[node for sub, item in value.items() for node in _nodes(sub, item, schema)])]
    return [ckdl.Node(key, [value])]


def _record_node(name: str, record: dict[str, Any], schema: dict[str, Any]) -> ckdl.Node:
    args = [record["name"]] if "name" in record else []
    children = [node for key, value in record.items() if key != "name" for node in _nodes(key, value, schema)]
    return ckdl.Node(name, args, children=children)


def _block(value: Any, schema: dict[str, Any]) -> bool:
    """Whether a mapping can be a block of nodes: KDL names as keys, values a node can hold."""
    if not isinstance(value, dict) or not value or not all(_NODE_NAME.fullmatch(str(k)) for k in value):
        return False
    if _resolve(schema).get("properties"):
        return True
    return all(isinstance(v, (str, int, float, bool)) or (isinstance(v, list) and v and all(
        isinstance(i, (str, int, float, bool)) for i in v)) for v in value.values())


def _any_json(schema: dict[str, Any]) -> bool:
    """A key whose value may be any JSON (user_data's `data`): KDL holds it as a JSON string."""
    return bool(schema) and schema.keys() <= _ANNOTATIONS
