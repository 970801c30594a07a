"""`torc remote` against a real sshd on loopback: two "hosts" (127.0.0.1 and localhost, two ssh logins to this
machine) get runners, which are watched, whose logs are collected, and which are stopped."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import BIN
from torc_client.core.errors import InvalidRequest
from torc_client.remote.hosts import parse, parse_file

#: Longest wait for a remote runner to reach a state (a guard against hanging, not a timing check).
WAIT = 120.0
HOSTS = ("127.0.0.1", "localhost")


def remote(cli, sshd, *args: str, check: bool = True):
    return cli("-f", "json", "remote", *args, env={"TORC_SSH_OPTIONS": sshd.options}, check=check)


def states(cli, sshd, workflow_id: int, output: Path) -> dict[str, str]:
    found = json.loads(remote(cli, sshd, "status", str(workflow_id), "--output-dir", str(output)).stdout)
    return {row["address"]: row["state"] for row in found}


def until(check, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.5)


def gated_workflow(make_workflow, tmp_path: Path, n: int = 4) -> int:
    """`n` quick jobs and one that waits for the file `release`, so the runners stay until the test says."""
    jobs = [{"name": f"quick_{i}", "command": f"echo quick {i} on $(hostname)"} for i in range(n)]
    jobs.append({"name": "gate", "command": "while [ ! -f release ]; do sleep 0.2; done; echo released"})
    return make_workflow({"name": "remote", "jobs": jobs}).id


def test_remote_runs_runners_on_two_hosts_watches_them_and_collects_their_logs(
        cli, client, make_workflow, sshd, tmp_path) -> None:  # fmt: skip
    workflow_id = gated_workflow(make_workflow, tmp_path)
    addresses = [sshd.address(host) for host in HOSTS]
    output = tmp_path / "remote_output"
    added = json.loads(remote(cli, sshd, "add-workers", str(workflow_id), *addresses).stdout)
    assert [row["address"] for row in added] == addresses
    started = json.loads(remote(cli, sshd, "run", str(workflow_id), "--output-dir", str(output), "--poll-interval",
                                "0.5", "--num-cpus", "2", "--torc-command", str(BIN / "torc")).stdout)  # fmt: skip
    assert [(row["address"], row["state"]) for row in started] == [(a, "running") for a in addresses]
    assert states(cli, sshd, workflow_id, output) == dict.fromkeys(addresses, "running")
    until(lambda: client.workflow_status(workflow_id).job_counts.get("completed", 0) == 4, "the quick jobs ran")
    until(lambda: len(client.list_compute_nodes(workflow_id)) == 2, "both runners registered with the server")
    (tmp_path / "release").touch()
    until(lambda: client.workflow_status(workflow_id).is_complete, "the workflow completes")
    until(lambda: states(cli, sshd, workflow_id, output) == dict.fromkeys(addresses, "stopped"),
          "both runners exit once the workflow is complete")  # fmt: skip

    local = tmp_path / "collected"
    collected = json.loads(remote(cli, sshd, "collect-logs", str(workflow_id), "-l", str(local),
                                  "--remote-output-dir", str(output), "--delete").stdout)  # fmt: skip
    assert [row["state"] for row in collected] == ["collected", "collected"]
    for address, row in zip(addresses, collected):
        slug = parse(address).slug
        runner_log = local / slug / f"torc_worker_{workflow_id}_{slug}.log"
        assert runner_log.exists(), row
        assert "runner" in runner_log.read_text()
        assert list((local / slug / "job_stdio").glob(f"job_wf{workflow_id}_*.o"))
    assert not output.exists()  # --delete removed it on the hosts


def test_remote_stop_stops_both_runners(cli, client, make_workflow, sshd, tmp_path) -> None:
    workflow_id = gated_workflow(make_workflow, tmp_path, n=0)
    output = tmp_path / "remote_output"
    worker_file = tmp_path / "workers.txt"
    worker_file.write_text("# two logins to this machine\n" + "".join(f"{sshd.address(h)}\n" for h in HOSTS))
    remote(cli, sshd, "run", str(workflow_id), "--workers", str(worker_file), "--output-dir", str(output),
           "--poll-interval", "0.5", "--torc-command", str(BIN / "torc"))  # fmt: skip
    until(lambda: client.workflow_status(workflow_id).job_counts.get("running", 0) == 1, "the gate job runs")
    stopped = json.loads(remote(cli, sshd, "stop", str(workflow_id), "--output-dir", str(output)).stdout)
    assert [row["state"] for row in stopped] == ["stopped", "stopped"]
    until(lambda: set(states(cli, sshd, workflow_id, output).values()) == {"stopped"}, "both runners gone")
    until(lambda: client.workflow_status(workflow_id).job_counts == {"terminated": 1},
          "the gate job ends terminated, as a job whose runner was told to stop")  # fmt: skip


def test_remote_refuses_hosts_it_cannot_log_in_to_and_adds_none(cli, make_workflow, sshd, tmp_path) -> None:
    workflow_id = gated_workflow(make_workflow, tmp_path, n=0)
    closed = f"{sshd.user}@127.0.0.1:1"
    result = remote(cli, sshd, "add-workers", str(workflow_id), sshd.address("127.0.0.1"), closed, check=False)
    assert result.returncode != 0
    assert f"cannot log in to {closed}" in result.stderr and "nothing was added" in result.stderr
    assert json.loads(remote(cli, sshd, "list-workers", str(workflow_id)).stdout) == []
    empty = remote(cli, sshd, "status", str(workflow_id), check=False)
    assert empty.returncode != 0 and f"workflow {workflow_id} has no remote workers" in empty.stderr


def test_the_server_refuses_a_bad_worker_address_naming_it(client, make_workflow, tmp_path) -> None:
    from torc_client.core.errors import ApiError
    from torc_client.remote import store

    workflow_id = gated_workflow(make_workflow, tmp_path, n=0)
    with pytest.raises(ApiError, match=r"worker 'a b': an address is \[user@\]host\[:port\], without spaces") as refused:
        client.request("POST", f"/workflows/{workflow_id}/remote_workers", body=["ok-host", "a b"])
    assert refused.value.status_code == 422
    assert store.listed(client, workflow_id) == []


def test_remote_worker_list_add_and_remove(cli, make_workflow, sshd, tmp_path) -> None:
    workflow_id = gated_workflow(make_workflow, tmp_path, n=0)
    first, second = (sshd.address(h) for h in HOSTS)
    remote(cli, sshd, "add-workers", str(workflow_id), first, second, "--skip-ssh-check")
    remote(cli, sshd, "add-workers", str(workflow_id), first, "--skip-ssh-check")  # already there: kept once
    remote(cli, sshd, "remove-worker", first, str(workflow_id))
    assert json.loads(remote(cli, sshd, "list-workers", str(workflow_id)).stdout) == [{"address": second}]
    gone = remote(cli, sshd, "remove-worker", first, str(workflow_id), check=False)
    assert gone.returncode != 0 and "not found" in gone.stderr.lower()


@pytest.mark.parametrize(("address", "parts"), [
    ("host", ("host", None, None)),
    ("alice@host.example.com", ("host.example.com", "alice", None)),
    ("admin@192.168.1.10:2222", ("192.168.1.10", "admin", 2222)),
    ("[2001:db8::1]", ("2001:db8::1", None, None)),
    ("[::1]:2222", ("::1", None, 2222)),
])  # fmt: skip
def test_worker_addresses_parse_as_torc_writes_them(address, parts) -> None:
    host = parse(address)
    assert (host.host, host.user, host.port) == parts


@pytest.mark.parametrize(("text", "says"), [
    ("a@b@c", "is not [user@]host[:port]"),
    ("host:99999", "port 99999 is not between 1 and 65535"),
    ("host:", "is not [user@]host[:port]"),
])  # fmt: skip
def test_bad_worker_addresses_are_refused_saying_why(text, says) -> None:
    with pytest.raises(InvalidRequest, match=says.replace("[", r"\[").replace("]", r"\]")):
        parse(text)


def test_a_worker_file_with_a_duplicate_or_a_bad_line_names_the_line() -> None:
    with pytest.raises(InvalidRequest, match=r"workers.txt, line 3: host1 is listed twice \(also line 1\)"):
        parse_file("host1\n# comment\nhost1\n", "workers.txt")
    with pytest.raises(InvalidRequest, match=r"workers.txt, line 2: worker address 'x@y@z'"):
        parse_file("ok\nx@y@z\n", "workers.txt")
    with pytest.raises(InvalidRequest, match="lists no worker addresses"):
        parse_file("# only comments\n\n", "workers.txt")
