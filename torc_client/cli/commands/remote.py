"""`torc remote`: start, watch and stop a workflow's runners on SSH hosts (Torc's subcommands and flags)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import click

from torc_client import __version__
from torc_client.cli import render
from torc_client.cli.commands.common import State, pass_state
from torc_client.core.errors import InvalidRequest
from torc_client.remote import hosts as hostlib
from torc_client.remote import ssh, store, workers
from torc_client.remote.hosts import Host
from torc_client.remote.workers import (
    DEFAULT_MAX_PARALLEL_SSH,
    DEFAULT_OUTPUT_DIR,
    HostResult,
)

workflow_arg = click.argument("workflow_id", type=int, metavar="WORKFLOW_ID")
parallel_opt = click.option("--max-parallel-ssh", type=click.IntRange(min=1), default=DEFAULT_MAX_PARALLEL_SSH,
                            show_default=True, help="Most SSH sessions at once.")  # fmt: skip


def remote_dir_opt(name: str) -> Callable:
    return click.option(name, "output_dir", default=DEFAULT_OUTPUT_DIR, show_default=True,
                        help="Output directory on the hosts (relative to the remote home); as given to `run`.")


@click.group("remote")
def group() -> None:
    """Runners on SSH hosts, started and stopped with plain `ssh` (for machines without a scheduler).

    Hosts are `[user@]host[:port]`, stored with the workflow. `ssh` must log in without a
    password (a key or an agent); $TORC_SSH_OPTIONS adds options to every `ssh` call.
    """


@group.command("add-workers")
@workflow_arg
@click.argument("addresses", nargs=-1, required=True, metavar="WORKER...")
@click.option("--skip-ssh-check", is_flag=True, hidden=True, help="Do not log in to each host first.")
@pass_state
def add_workers(state: State, workflow_id: int, addresses: tuple[str, ...], skip_ssh_check: bool) -> None:
    """Add hosts to a workflow's remote workers (each is logged in to first)."""
    _add(state, workflow_id, [hostlib.parse(a) for a in addresses], skip_ssh_check)


@group.command("add-workers-from-file")
@click.argument("worker_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@workflow_arg
@click.option("--skip-ssh-check", is_flag=True, hidden=True, help="Do not log in to each host first.")
@pass_state
def add_workers_from_file(state: State, worker_file: Path, workflow_id: int, skip_ssh_check: bool) -> None:
    """Add the hosts of a worker file (one address a line, `#` comments)."""
    _add(state, workflow_id, hostlib.parse_file(worker_file.read_text(), str(worker_file)), skip_ssh_check)


@group.command("remove-worker")
@click.argument("worker")
@workflow_arg
@pass_state
def remove_worker(state: State, worker: str, workflow_id: int) -> None:
    """Remove one host from a workflow's remote workers."""
    render.show_record(store.remove(state.client(), workflow_id, worker), state.format)


@group.command("list-workers")
@workflow_arg
@pass_state
def list_workers(state: State, workflow_id: int) -> None:
    """The workflow's remote workers."""
    rows = [{"address": w.worker} for w in store.listed(state.client(), workflow_id)]
    render.show_rows(rows, state.format)


@group.command("run")
@workflow_arg
@click.option("-w", "--workers", "worker_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A worker file whose hosts are added first.")
@click.option("-o", "--output-dir", default=DEFAULT_OUTPUT_DIR, show_default=True,
              help="Output directory on the hosts (relative to the remote home).")
@parallel_opt
@click.option("-p", "--poll-interval", type=click.FloatRange(min=0, min_open=True), default=5.0, show_default=True,
              help="Seconds between a runner's requests when it has nothing to do.")
@click.option("--max-parallel-jobs", type=click.IntRange(min=1), help="Most jobs at once per runner.")
@click.option("--num-cpus", type=click.IntRange(min=1), help="CPUs per runner (default: each host's).")
@click.option("--memory-gb", type=click.FloatRange(min=0, min_open=True), help="Memory per runner, GB.")
@click.option("--num-gpus", type=click.IntRange(min=0), help="GPUs per runner.")
@click.option("--skip-version-check", is_flag=True, help="Start runners whose `torc` is another version.")
@click.option("--torc-command", default="torc", show_default=True,
              help="The `torc` to run on the hosts (a path, when it is not on the login shell's PATH).")
@pass_state
def run(state: State, workflow_id: int, worker_file: Path | None, output_dir: str, max_parallel_ssh: int,
        poll_interval: float, max_parallel_jobs: int | None, num_cpus: int | None, memory_gb: float | None,
        num_gpus: int | None, skip_version_check: bool, torc_command: str) -> None:  # fmt: skip
    """Start a detached runner of the workflow on every host (it outlives the SSH session)."""
    if worker_file is not None:
        store.add(state.client(), workflow_id, hostlib.parse_file(worker_file.read_text(), str(worker_file)))
    found = _stored(state, workflow_id)
    state.client().get_workflow(workflow_id)  # a workflow that is not there fails here, before any host is touched
    opts = workers.RunnerOptions(state.client().url, output_dir, poll_interval, max_parallel_jobs, num_cpus,
                                 memory_gb, num_gpus, torc_command)  # fmt: skip

    def start(host: Host) -> HostResult:
        if not skip_version_check:
            mismatch = _version_mismatch(host, torc_command)
            if mismatch is not None:
                return mismatch
        return workers.start(host, workflow_id, opts)

    _finish(state, workers.each(found, start, max_parallel_ssh))


@group.command("status")
@workflow_arg
@remote_dir_opt("--output-dir")
@parallel_opt
@pass_state
def status(state: State, workflow_id: int, output_dir: str, max_parallel_ssh: int) -> None:
    """Whether each host's runner is running."""
    found = _stored(state, workflow_id)
    _finish(state, workers.each(found, lambda h: workers.status(h, workflow_id, output_dir), max_parallel_ssh),
            failing=("unreachable", "failed"))  # fmt: skip


@group.command("stop")
@workflow_arg
@remote_dir_opt("--output-dir")
@parallel_opt
@click.option("--force", is_flag=True, help="SIGKILL instead of SIGTERM.")
@pass_state
def stop(state: State, workflow_id: int, output_dir: str, max_parallel_ssh: int, force: bool) -> None:
    """Stop each host's runner (SIGTERM: it stops its running jobs, which end terminated)."""
    found = _stored(state, workflow_id)
    _finish(state, workers.each(found, lambda h: workers.stop(h, workflow_id, output_dir, force), max_parallel_ssh),
            failing=("unreachable",))  # fmt: skip


@group.command("collect-logs")
@workflow_arg
@click.option("-l", "--local-output-dir", type=click.Path(file_okay=False, path_type=Path), default="remote_logs",
              show_default=True, help="Where the logs go, one directory per host.")
@remote_dir_opt("--remote-output-dir")
@parallel_opt
@click.option("--delete", is_flag=True, help="Delete the output directory on each host once it is copied.")
@pass_state
def collect_logs(state: State, workflow_id: int, local_output_dir: Path, output_dir: str, max_parallel_ssh: int,
                 delete: bool) -> None:  # fmt: skip
    """Copy each host's output directory (its runner's log, its jobs' logs) here."""
    found = _stored(state, workflow_id)
    _finish(state, workers.each(found, lambda h: workers.collect_logs(h, output_dir, local_output_dir, delete),
                                max_parallel_ssh))  # fmt: skip


@group.command("delete-logs")
@workflow_arg
@remote_dir_opt("--remote-output-dir")
@parallel_opt
@pass_state
def delete_logs(state: State, workflow_id: int, output_dir: str, max_parallel_ssh: int) -> None:
    """Delete the output directory on each host (collect-logs --delete copies it first)."""
    found = _stored(state, workflow_id)
    _finish(state, workers.each(found, lambda h: workers.delete_logs(h, output_dir), max_parallel_ssh))


def _add(state: State, workflow_id: int, found: list[Host], skip_ssh_check: bool) -> None:
    if not skip_ssh_check:
        failed = [f"{host.address}: {answer.why()}" for host in found
                  if (answer := ssh.run(host, "true", timeout=ssh.CONNECT_TIMEOUT + 10)).code != 0]  # fmt: skip
        if failed:
            raise InvalidRequest("cannot log in to " + "; ".join(failed) + " (nothing was added)")
    added = store.add(state.client(), workflow_id, found)
    render.show_rows([{"address": w.worker} for w in added], state.format)


def _stored(state: State, workflow_id: int) -> list[Host]:
    found = store.hosts(state.client(), workflow_id)
    if not found:
        raise InvalidRequest(f"workflow {workflow_id} has no remote workers: add them with "
                             f"`torc remote add-workers {workflow_id} HOST...` or `run --workers FILE`")  # fmt: skip
    return found


def _version_mismatch(host: Host, torc_command: str) -> HostResult | None:
    answer = ssh.run(host, f"{torc_command} --version", timeout=ssh.CONNECT_TIMEOUT + 30)
    if answer.code != 0:
        return HostResult(host.address, False, "unreachable" if answer.code == 255 else "no torc",
                          f"`{torc_command} --version` failed there: {answer.why()}")  # fmt: skip
    if __version__ not in answer.text:
        return HostResult(host.address, False, "other version", f"{answer.text!r} there, {__version__} here "
                          "(--skip-version-check starts it anyway)")  # fmt: skip
    return None


def _finish(state: State, results: list[HostResult], failing: tuple[str, ...] | None = None) -> None:
    """Show one row per host; exit 1 when a host failed (for status: when one could not be asked)."""
    render.show_rows([dataclasses.asdict(r) for r in results], state.format)
    bad = [r for r in results if (r.state in failing if failing is not None else not r.ok)]
    if bad:
        raise click.exceptions.Exit(1)
