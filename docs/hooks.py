"""MkDocs hook: the reference pages are generated from the code at every build, so they cannot go stale.

A page holds a marker such as `<!-- generated: cli -->`; `on_page_markdown` replaces it with the
text of the generator of that name. The generators only read: the spec's JSON Schema, the click
command tree of `torc`, and the OpenAPI schema and handlers of the Litestar app (built, never started).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from typing import Any

import click

MARKER = re.compile(r"<!-- generated: (?P<name>[\w-]+) -->")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace every generated-content marker on the page."""

    def generate(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in GENERATORS:
            raise ValueError(f"{page.file.src_path}: no generator named {name!r}")
        return GENERATORS[name]()

    return MARKER.sub(generate, markdown)


def _cell(text: Any) -> str:
    """Text safe in one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


# -- spec keys, from the JSON Schema ------------------------------------------------------------

def _type_of(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        anchor = name.lower() if "/components/" in prop["$ref"] else name
        return f"[{name}](#{anchor})"
    if "enum" in prop:
        return " or ".join(f"`{json.dumps(v)}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{json.dumps(prop['const'])}`"
    if "oneOf" in prop or "anyOf" in prop:
        return " or ".join(_type_of(p) for p in prop.get("oneOf") or prop["anyOf"])
    kind = prop.get("type", "any")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array" and "items" in prop:
        return f"list of {_type_of(prop['items'])}"
    return kind


def _properties_table(schema: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    rows = ["| key | type | description |", "|---|---|---|"]
    for key, prop in schema.get("properties", {}).items():
        name = f"`{key}`" + (" (required)" if key in required else "")
        default = f" Default: `{json.dumps(prop['default'])}`." if "default" in prop else ""
        rows.append(f"| {name} | {_cell(_type_of(prop))} | {_cell(prop.get('description', ''))}{default} |")
    return "\n".join(rows)


def spec_reference() -> str:
    """Every key of a workflow spec, by section, from the schema the server and `torc validate` check."""
    from torc_client.spec.validate import spec_schema

    schema = spec_schema()
    parts = ["## workflow", "", _cell(schema.get("description", "")), "", _properties_table(schema)]
    for name, definition in schema.get("$defs", {}).items():
        parts += ["", f"## {name}", ""]
        if definition.get("description"):
            parts += [_cell(definition["description"]), ""]
        if "properties" in definition:
            parts.append(_properties_table(definition))
        else:
            parts.append(f"Type: {_cell(_type_of(definition))}")
    return "\n".join(parts)


# -- the CLI, from the click commands ------------------------------------------------------------

def _walk(command: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        ctx = click.Context(command, info_name=path[-1])
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                found += _walk(sub, [*path, name])
    return found


def _help_sections(root: click.Command, name: str) -> str:
    """`--help` of `root` and every command under it, in the order its `--help` lists them."""
    parts = []
    for path, command in _walk(root, [name]):
        ctx = click.Context(command, info_name=" ".join(path))
        level = "#" * min(len(path) + 1, 4)
        parts += [f"{level} {' '.join(path)}", "", "```text", command.get_help(ctx), "```", ""]
    return "\n".join(parts)


def cli_reference() -> str:
    """`--help` of every `torc` command, in the order `torc --help` lists them."""
    from torc_client.cli.main import cli

    return _help_sections(cli, "torc")


def cli_overview() -> str:
    """One row per `torc` command (groups by their subcommands): the first line of its help."""
    from torc_client.cli.main import cli

    rows = ["| command | does |", "|---|---|"]
    for path, command in _walk(cli, ["torc"])[1:]:
        if isinstance(command, click.Group):
            continue
        rows.append(f"| `{' '.join(path[1:])}` | {_cell(command.get_short_help_str(limit=200))} |")
    return "\n".join(rows)


def server_cli_reference() -> str:
    """`--help` of `torc-server` and of every `torc-htpasswd` command."""
    from api.htpasswd import main as htpasswd
    from api.server import main as server

    return "\n".join([_help_sections(server, "torc-server"), _help_sections(htpasswd, "torc-htpasswd")])


def server_options() -> str:
    """Every `torc-server` option: its environment variable, its default and what it does."""
    from api.server import main as server

    rows = ["| option | environment | default | meaning |", "|---|---|---|---|"]
    for param in server.params:
        if not isinstance(param, click.Option) or param.name in {"help", "version"} or param.hidden:
            continue
        value = param.default
        default = "off" if param.is_flag else (f"`{value}`" if isinstance(value, (str, int, float)) else "none")
        envvar = f"`{param.envvar}`" if param.envvar else ""
        names = ", ".join(f"`{name}`" for name in param.opts + param.secondary_opts)
        rows.append(f"| {names} | {envvar} | {default} | {_cell(param.help or '')} |")
    return "\n".join(rows)


# -- the HTTP API, from the OpenAPI schema and the handlers --------------------------------------

def _app() -> Any:
    from api.app import ApiSettings, create_app

    with warnings.catch_warnings():  # the API's own deprecation warnings are its tests' business, not the docs'
        warnings.simplefilter("ignore")
        return create_app(ApiSettings(mongo_uri="mongodb://127.0.0.1:1"))  # built only: nothing connects


def openapi_schema(app: Any = None) -> dict[str, Any]:
    """The OpenAPI schema the server serves at `/torc-service/v1/docs/openapi.json`."""
    app = app or _app()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return app.openapi_schema.to_schema()


def handler_docs(app: Any) -> dict[tuple[str, str], str]:
    """The first paragraph of each handler's docstring, by (method, OpenAPI path)."""
    docs = {}
    for route in app.routes:
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        for handler in getattr(route, "route_handlers", []):
            doc = (handler.fn.__doc__ or "").strip().split("\n\n")[0]
            for method in handler.http_methods:
                docs[(method.lower(), path)] = doc
    return docs


def _body(content: dict[str, Any] | None) -> str:
    """The record a request or response body holds, as a link to its schema below."""
    schema = ((content or {}).get("application/json") or {}).get("schema") or {}
    if "items" in schema:
        return f"list of {_body({'application/json': {'schema': schema['items']}})}"
    name = schema.get("$ref", "").rsplit("/", 1)[-1]
    return f"[{name}](#{name.lower()})" if name else ("JSON" if schema else "")


def api_reference() -> str:
    """Every operation (method, path, what it does, its body and answer), by tag; then every record."""
    app = _app()
    schema, docs = openapi_schema(app), handler_docs(app)
    by_tag: dict[str, list[str]] = {}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            tag = (operation.get("tags") or ["other"])[0]
            summary = _cell(docs.get((method, path)) or operation.get("summary", ""))
            ok = next((r for code, r in sorted(operation["responses"].items()) if code.startswith("2")), {})
            body = _body((operation.get("requestBody") or {}).get("content"))
            by_tag.setdefault(tag, []).append(
                f"| `{method.upper()}` | `{path}` | {summary} | {body} | {_body(ok.get('content'))} |")
    parts = [f"OpenAPI {schema['openapi']}, API version {schema['info']['version']}: "
             f"{sum(len(rows) for rows in by_tag.values())} operations."]  # fmt: skip
    for tag in sorted(by_tag):
        parts += ["", f"## {tag}", "", "| method | path | does | body | answer |", "|---|---|---|---|---|",
                  *by_tag[tag]]  # fmt: skip
    parts += ["", "## Records", ""]
    for name, record in sorted(schema.get("components", {}).get("schemas", {}).items()):
        parts += [f'<h3 id="{name.lower()}">{name}</h3>', ""]
        if record.get("description"):
            parts += [_cell(record["description"]), ""]
        parts += [_properties_table(record) if "properties" in record else f"Type: {_cell(_type_of(record))}", ""]
    return "\n".join(parts)


def torc_commands() -> str:
    """Every command path of Torc 0.12 (kept in docs/data/) and what answers it in this `torc`."""
    from torc_client.cli.main import cli
    from torc_client.cli.torc_map import command_map

    found = command_map(cli)
    answered = sum(c.kind != "missing" for c in found)
    words = {"same": "the same command", "alias": "the same as", "pointer": "not here:", "missing": "not yet"}
    rows = [f"**{answered} of {len(found)}** Torc 0.12 command paths answer here.", "",
            "| Torc 0.12 | here | what it does |", "|---|---|---|"]  # fmt: skip
    for c in found:
        here = {"same": f"`{c.torc_path}`", "alias": f"{words['alias']} `{c.here}`",
                "pointer": f"{words['pointer']} {c.here}", "missing": words["missing"]}[c.kind]  # fmt: skip
        rows.append(f"| `{c.torc_path}` | {_cell(here)} | {_cell(c.summary if c.kind != 'pointer' else '')} |")
    return "\n".join(rows)


GENERATORS: dict[str, Callable[[], str]] = {
    "torc-commands": torc_commands,
    "spec": spec_reference,
    "cli": cli_reference,
    "cli-overview": cli_overview,
    "server-cli": server_cli_reference,
    "server-options": server_options,
    "api": api_reference,
}
