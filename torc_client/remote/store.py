"""A workflow's remote workers as the server keeps them (`/workflows/{id}/remote_workers`, Torc's calls)."""

from __future__ import annotations

from urllib.parse import quote

from torc_client.client import Client
from torc_client.contract import RemoteWorker
from torc_client.remote.hosts import Host, parse


def add(client: Client, workflow_id: int, hosts: list[Host]) -> list[RemoteWorker]:
    body = [host.address for host in hosts]
    return client.request("POST", f"/workflows/{workflow_id}/remote_workers", list[RemoteWorker], body=body)


def listed(client: Client, workflow_id: int) -> list[RemoteWorker]:
    return client.request("GET", f"/workflows/{workflow_id}/remote_workers", list[RemoteWorker])


def remove(client: Client, workflow_id: int, address: str) -> RemoteWorker:
    path = f"/workflows/{workflow_id}/remote_workers/{quote(address, safe='')}"
    return client.request("DELETE", path, RemoteWorker)


def hosts(client: Client, workflow_id: int) -> list[Host]:
    """The stored workers as Hosts."""
    return [parse(worker.worker) for worker in listed(client, workflow_id)]
