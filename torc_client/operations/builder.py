"""Build workflow specs in Python instead of YAML, create them, run them and read what they produced.

    builder = WorkflowBuilder("pipeline")
    builder.add_resource_requirements("small", num_cpus=1, memory="1g", runtime="PT5M")
    builder.add_user_data("config")
    builder.add_job("make", "torc user-data update ${user_data.output.config} --data '{\\"a\\": 1}'",
                    resource_requirements="small")
    builder.add_job("use", "torc user-data get ${user_data.input.config}", resource_requirements="small")
    workflow = builder.create(client)
    status = run_workflow(client, workflow.id)      # runs `torc run ID` in a subprocess and waits
    user_data(client, workflow.id)                   # {"config": {"a": 1}}

`to_spec()` is exactly the spec dict the server validates (only the keys that were set);
`validate()` checks it locally with the same code the server uses.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torc_client import contract as c
from torc_client.client import Client
from torc_client.spec import WorkflowPlan, build_plan


def _set(entry: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """`entry` plus every field that is not None (lists are copied, so later edits do not leak in)."""
    entry.update({key: copy.deepcopy(value) for key, value in fields.items() if value is not None})
    return entry


class WorkflowBuilder:
    """Collects jobs, files, user_data, resource requirements and failure handlers into a spec dict."""

    def __init__(self, name: str, description: str | None = None, **settings: Any) -> None:
        self.spec: dict[str, Any] = _set({"name": name}, description=description, **settings)

    def _append(self, section: str, entry: dict[str, Any]) -> dict[str, Any]:
        self.spec.setdefault(section, []).append(entry)
        return entry

    def add_resource_requirements(self, name: str, num_cpus: int = 1, memory: str = "1m", num_gpus: int = 0,
                                  num_nodes: int = 1, runtime: str = "PT1H") -> dict[str, Any]:  # fmt: skip
        """A named set of resources that jobs refer to by name."""
        entry = {"name": name, "num_cpus": num_cpus, "num_gpus": num_gpus, "num_nodes": num_nodes, "memory": memory,
                 "runtime": runtime}  # fmt: skip
        return self._append("resource_requirements", entry)

    def add_file(self, name: str, path: str, parameters: dict[str, Any] | None = None,
                 use_parameters: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
        """A file jobs read or write (`input_files`/`output_files`, or `${files.input.NAME}` in commands)."""
        return self._append("files", _set({"name": name, "path": str(path)}, parameters=parameters,
                                          use_parameters=use_parameters))  # fmt: skip

    def add_user_data(self, name: str, data: Any = None, is_ephemeral: bool = False,
                      parameters: dict[str, Any] | None = None,
                      use_parameters: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
        """A JSON document jobs read or write (`${user_data.input.NAME}` / `${user_data.output.NAME}`)."""
        entry = _set({"name": name, "data": copy.deepcopy(data)}, parameters=parameters, use_parameters=use_parameters)
        if is_ephemeral:
            entry["is_ephemeral"] = True
        return self._append("user_data", entry)

    def add_job(self, name: str, command: str, resource_requirements: str | None = None,
                depends_on: list[str] | None = None, depends_on_regexes: list[str] | None = None,
                input_files: list[str] | None = None, output_files: list[str] | None = None,
                input_user_data: list[str] | None = None, output_user_data: list[str] | None = None,
                input_user_data_regexes: list[str] | None = None, parameters: dict[str, Any] | None = None,
                parameter_mode: str | None = None, cancel_on_blocking_job_failure: bool | None = None,
                supports_termination: bool | None = None, invocation_script: str | None = None,
                failure_handler: str | None = None, use_parameters: list[str] | None = None,
                **more: Any) -> dict[str, Any]:  # fmt: skip
        """A job: a shell command, what it needs, and what it reads and writes (`more`: other spec keys)."""
        return self._append("jobs", _set(
            {"name": name, "command": command}, resource_requirements=resource_requirements, depends_on=depends_on,
            depends_on_regexes=depends_on_regexes, input_files=input_files, output_files=output_files,
            input_user_data=input_user_data, output_user_data=output_user_data,
            input_user_data_regexes=input_user_data_regexes, parameters=parameters, parameter_mode=parameter_mode,
            cancel_on_blocking_job_failure=cancel_on_blocking_job_failure, supports_termination=supports_termination,
            invocation_script=invocation_script, failure_handler=failure_handler, use_parameters=use_parameters,
            **more))  # fmt: skip

    def add_failure_handler(self, name: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
        """Named retry rules (`exit_codes`, `match_all_exit_codes`, `recovery_script`, `max_retries`)."""
        return self._append("failure_handlers", {"name": name, "rules": copy.deepcopy(rules)})

    def set_parameters(self, **params: Any) -> None:
        """Workflow-level parameters, used by entries that name them in `use_parameters`."""
        self.spec.setdefault("parameters", {}).update(params)

    def to_spec(self) -> dict[str, Any]:
        """The spec as a plain dict, exactly what the server validates."""
        return copy.deepcopy(self.spec)

    def validate(self) -> WorkflowPlan:
        """Check the spec locally (schema, names, parameters, cycles); raises SpecError, returns the plan."""
        return build_plan(self.to_spec())

    def create(self, client: Client, working_dir: str | Path | None = None,
               progress: Callable[[c.Creation], None] | None = None) -> c.Workflow:  # fmt: skip
        """Create the workflow on the server; jobs run in `working_dir` (default: the current directory).

        No time limit; `progress` sees how far the server is (in a notebook: `torc_client.notebook.CreationBar()`).
        """
        return client.create_workflow_from_spec(self.to_spec(), working_dir=str(working_dir) if working_dir else None,
                                                progress=progress)  # fmt: skip


# --- running and reading back -----------------------------------------------------------


def torc_command() -> list[str]:
    """How to start the `torc` CLI from this interpreter (the console script next to it, else `-m`)."""
    script = Path(sys.executable).with_name("torc")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "torc_client.cli.main"]


def _runner_environment() -> dict[str, str]:
    """This environment, with this interpreter's scripts first on PATH, so jobs that call `torc` find it.

    A notebook kernel often runs from a virtualenv whose `bin/` is not on PATH.
    """
    scripts = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    return {**os.environ, "PATH": f"{scripts}{os.pathsep}{path}" if path else scripts}


def runner_arguments(workflow_id: int, url: str, **options: Any) -> list[str]:
    """`torc run` arguments: `num_cpus=4` becomes `--num-cpus 4`; a True flag is passed bare, None is left out."""
    args = [*torc_command(), "run", str(workflow_id), "--url", url]
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        elif value is not None and value is not False:
            args.extend([flag, str(value)])
    return args


def run_workflow(client: Client, workflow_id: int, wait: bool = True, *, log: str | Path | None = None,
                 cwd: str | Path | None = None,
                 **runner_options: Any) -> subprocess.Popen | c.WorkflowStatus:  # fmt: skip
    """Run a workflow's jobs with `torc run` in a subprocess (safe from notebooks and threads).

    `runner_options` are `torc run` options (`num_cpus=4`, `memory_gb=8`, `output_dir="out"`, ...).
    The runner's progress goes to `log` (a file path) or is discarded. With `wait=True`, waits for the
    runner and returns the workflow's final status; otherwise returns the running process.
    """
    args = runner_arguments(workflow_id, client.url, **runner_options)
    stream = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - handed to the child process
    try:
        process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=stream, stderr=subprocess.STDOUT,
                                   cwd=str(cwd) if cwd else None, env=_runner_environment())  # fmt: skip
    finally:
        if log:
            stream.close()
    if not wait:
        return process
    process.wait()
    return client.workflow_status(workflow_id)


def results(client: Client, workflow_id: int, all_runs: bool = False) -> list[c.Result]:
    """The results of a workflow's jobs (the latest run, unless `all_runs`)."""
    return client.list_results(workflow_id, all_runs=all_runs)


def user_data(client: Client, workflow_id: int) -> dict[str, Any]:
    """Every user_data entry of a workflow, by name."""
    return {entry.name: entry.data for entry in client.list_user_data(workflow_id)}
