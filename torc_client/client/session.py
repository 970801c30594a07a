"""A synchronous client for the Torc API.

Requests are built from typed records and answers decoded into them (the shared
contract in `torc_client.contract`). Sending goes through an `httpx.Client` that
callers may inject, such as Litestar's test client. A problem answer raises an
`ApiError` subclass carrying the server's problem document; a server that does not
answer raises `ServerUnavailable`.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import msgspec

from torc_client import contract as c
from torc_client.client.access import AccessGroupCalls
from torc_client.client.hpc import HpcCalls
from torc_client.client.records import RecordCalls
from torc_client.client.runner import RunnerCalls
from torc_client.client.triage import TriageCalls
from torc_client.core import errors, jsonvalues, settings
from torc_client.spec import format_from_filename

T = TypeVar("T")
#: Pauses before the retries of a create whose server could not reach its database (the last try's error stands).
CREATE_RETRY_SECONDS = (1.0, 2.0, 4.0)
#: Time series fetched per request (each may hold thousands of samples).
SERIES_PAGE = 100
UNSET = msgspec.UNSET


class Client(AccessGroupCalls, HpcCalls, RecordCalls, RunnerCalls, TriageCalls):
    """Talks to one Torc server. Every method returns typed records."""

    def __init__(self, url: str | None = None, http: httpx.Client | None = None,
                 timeout: float = settings.DEFAULT_TIMEOUT_SECONDS, *, user: str | None = None,
                 password: str | None = None, ca_bundle: str | None = None) -> None:  # fmt: skip
        """`user` and `password` default to $TORC_USER (else $USER) and $TORC_PASSWORD; without a password,
        nothing is sent (a server without `--require-auth` accepts that). `ca_bundle` ($TORC_CA_BUNDLE) verifies
        an https server whose certificate the system does not know."""
        self.url = settings.api_url(url)
        secret = settings.api_password(password)
        auth = httpx.BasicAuth(settings.api_user(user), secret) if secret else None
        bundle = settings.ca_bundle(ca_bundle)
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=bundle) if bundle else True
        self.http = http or httpx.Client(timeout=timeout, auth=auth, verify=verify)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transport -------------------------------------------------------------------

    def request(self, method: str, path: str, type_: Any = Any, *, params: dict | None = None,
                body: Any = None, content: bytes | None = None, headers: dict | None = None,
                timeout: Any = httpx.USE_CLIENT_DEFAULT) -> Any:  # fmt: skip
        """Send one request and decode the answer as `type_`; raises ApiError on a problem answer."""
        query = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        payload = msgspec.json.encode(body) if body is not None else content
        hdrs = {"content-type": "application/json", **(headers or {})} if payload is not None else headers
        try:
            response = self.http.request(method, f"{self.url}{path}", params=query, content=payload, headers=hdrs,
                                         timeout=timeout)  # fmt: skip
        except httpx.TransportError as error:
            raise errors.ServerUnavailable(self.url, type(error).__name__) from None
        if response.status_code == 503:  # the database is down: as retryable as a server that does not answer
            raise errors.ServerUnavailable(self.url, _problem(response).get("detail", ""), database=True)
        if response.status_code >= 400:
            raise errors.from_problem(response.status_code, _problem(response))
        return msgspec.json.decode(response.content, type=type_) if response.content else None

    def _page_all(self, path: str, type_: Any, params: dict[str, Any], limit: int | None) -> list:
        """Every record of a listing (or the first `limit`), fetching pages as needed."""
        items: list = []
        offset = params.pop("offset", 0) or 0
        while True:
            want = settings.DEFAULT_PAGE_LIMIT if limit is None else min(limit - len(items), settings.MAX_PAGE_LIMIT)
            page = self.request("GET", path, c.Page[type_], params={**params, "offset": offset, "limit": want})
            items.extend(page.items)
            offset += page.count
            if not page.has_more or page.count == 0 or (limit is not None and len(items) >= limit):
                return items

    # --- service ---------------------------------------------------------------------

    def ping(self) -> dict[str, str]:
        return self.request("GET", "/ping")

    def spec_schema(self) -> dict[str, Any]:
        return self.request("GET", "/workflow_spec_schema")

    # --- workflows -------------------------------------------------------------------

    def create_workflow_from_spec(self, spec: str | dict, spec_format: str | None = None, *,
                                  working_dir: str | None = None, user: str | None = None,
                                  progress: Callable[[c.Creation], None] | None = None,
                                  request_id: str | None = None) -> c.Workflow:  # fmt: skip
        """Create a workflow from spec text (YAML, JSON, JSON5 or KDL) or a spec dict, in one request.

        There is no time limit: a million jobs take minutes. `progress(creation)` is called about twice a
        second while the server works (`creation.stage`, `.done`, `.total`). If this call is interrupted
        (Ctrl-C, a killed process), the server stops and undoes the creation: nothing is left behind. A
        retry with the same `request_id` (default: a new UUID) returns the workflow if it was made.
        """
        text = json.dumps(spec) if isinstance(spec, dict) else spec
        fmt = "json" if isinstance(spec, dict) else spec_format
        request_id = request_id or uuid.uuid4().hex
        watcher = _CreationWatcher(self, request_id, progress) if progress else None
        params = {"format": fmt, "working_dir": working_dir or str(Path.cwd()), "user": user or _user(),
                  "request_id": request_id}  # fmt: skip
        try:
            for pause in CREATE_RETRY_SECONDS:
                try:
                    return self._post_spec(text, params)
                except errors.ServerUnavailable as error:
                    # The server is up but lost its database for a moment: with the same request id a retry
                    # returns the workflow if the first try made it, and never makes a second one.
                    if not error.database:
                        raise
                    time.sleep(pause)
            return self._post_spec(text, params)
        finally:
            if watcher:
                watcher.stop()

    def _post_spec(self, text: str, params: dict[str, Any]) -> c.Workflow:
        return self.request("POST", "/workflows/specs", c.Workflow, content=text.encode(), params=params,
                            headers={"content-type": "text/plain; charset=utf-8"},
                            timeout=httpx.Timeout(self.http.timeout.connect, read=None))  # fmt: skip

    def creation(self, request_id: str) -> c.Creation:
        """How far the server is in creating the workflow of a `create_workflow_from_spec(request_id=...)`."""
        return self.request("GET", f"/workflows/creations/{request_id}", c.Creation)

    def create_workflow_from_file(self, path: str | Path, *, working_dir: str | None = None) -> c.Workflow:
        """Create a workflow from a spec file; the format comes from its extension."""
        path = Path(path)
        return self.create_workflow_from_spec(path.read_text(), format_from_filename(path.name),
                                              working_dir=working_dir or str(Path.cwd()))  # fmt: skip

    def list_workflows(self, *, name: str | None = None, user: str | None = None, is_archived: bool = False,
                       offset: int = 0, limit: int | None = None) -> list[c.Workflow]:  # fmt: skip
        return self._page_all("/workflows", c.Workflow, {"name": name, "user": user, "is_archived": is_archived,
                                                         "offset": offset}, limit)  # fmt: skip

    def get_workflow(self, workflow_id: int) -> c.Workflow:
        return self.request("GET", f"/workflows/{workflow_id}", c.Workflow)

    def update_workflow(self, workflow_id: int, **changes: Any) -> c.Workflow:
        return self.request("PATCH", f"/workflows/{workflow_id}", c.Workflow, body=c.WorkflowUpdate(**changes))

    def delete_workflow(self, workflow_id: int) -> c.Workflow:
        return self.request("DELETE", f"/workflows/{workflow_id}", c.Workflow)

    def initialize_workflow(self, workflow_id: int, *, force: bool = False) -> c.InitializeResult:
        return self.request("POST", f"/workflows/{workflow_id}/initialize", c.InitializeResult,
                            params={"force": force})  # fmt: skip

    def reset_workflow_status(self, workflow_id: int, *, failed_only: bool = False,
                              force: bool = False) -> c.ResetResult:  # fmt: skip
        """Failed, canceled and terminated jobs (or all) and their downstream back to uninitialized."""
        return self.request("POST", f"/workflows/{workflow_id}/reset_status", c.ResetResult,
                            params={"failed_only": failed_only, "force": force})  # fmt: skip

    def reinitialize_workflow(self, workflow_id: int, *, dry_run: bool = False,
                              force: bool = False) -> c.ReinitializeResult:  # fmt: skip
        """A new run of only what changed or failed; with dry_run, the jobs that would rerun and why."""
        return self.request("POST", f"/workflows/{workflow_id}/reinitialize", c.ReinitializeResult,
                            params={"dry_run": dry_run, "force": force})  # fmt: skip

    def workflow_status(self, workflow_id: int) -> c.WorkflowStatus:
        return self.request("GET", f"/workflows/{workflow_id}/status", c.WorkflowStatus)

    def cancel_workflow(self, workflow_id: int) -> c.WorkflowStatus:
        return self.request("PUT", f"/workflows/{workflow_id}/cancel", c.WorkflowStatus)

    def wait(self, workflow_id: int, *, poll_interval: float = 1.0, timeout: float | None = None) -> c.WorkflowStatus:
        """Block until the workflow is complete (or canceled); returns its final status."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            status = self.workflow_status(workflow_id)
            if status.is_complete:
                return status
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"workflow {workflow_id} is not complete after {timeout} s: {status.job_counts}")
            time.sleep(poll_interval)

    # --- jobs ------------------------------------------------------------------------

    def list_jobs(self, workflow_id: int, *, status: str | None = None, name: str | None = None, offset: int = 0,
                  limit: int | None = None) -> list[c.Job]:  # fmt: skip
        return self._page_all("/jobs", c.Job, {"workflow_id": workflow_id, "status": status, "name": name,
                                               "offset": offset}, limit)  # fmt: skip

    def jobs_page(self, workflow_id: int, *, status: str | None = None, name: str | None = None,
                  name_pattern: str | None = None, downstream_of: int | None = None, offset: int = 0,
                  limit: int = 100) -> c.Page[c.Job]:  # fmt: skip
        """One page of jobs with its totals (for tables that page); `name_pattern` is a part of names, or a glob;
        `downstream_of` a job whose direct downstream jobs are listed."""
        params = {"workflow_id": workflow_id, "status": status, "name": name, "name_pattern": name_pattern,
                  "downstream_of": downstream_of, "offset": offset, "limit": limit}  # fmt: skip
        return self.request("GET", "/jobs", c.Page[c.Job], params=params)

    def get_job(self, job_id: int) -> c.Job:
        return self.request("GET", f"/jobs/{job_id}", c.Job)

    def create_job(self, workflow_id: int, name: str, command: str, **fields: Any) -> c.Job:
        return self.request("POST", "/jobs", c.Job,
                            body=c.JobCreate(workflow_id=workflow_id, name=name, command=command, **fields))

    def update_job(self, job_id: int, **changes: Any) -> c.Job:
        return self.request("PATCH", f"/jobs/{job_id}", c.Job, body=c.JobUpdate(**changes))

    def delete_job(self, job_id: int) -> c.Job:
        return self.request("DELETE", f"/jobs/{job_id}", c.Job)

    # --- files, user_data, resource requirements, results ----------------------------

    def list_files(self, workflow_id: int, *, name: str | None = None, offset: int = 0,
                   limit: int | None = None) -> list[c.File]:  # fmt: skip
        return self._page_all("/files", c.File, {"workflow_id": workflow_id, "name": name, "offset": offset}, limit)

    def get_file(self, file_id: int) -> c.File:
        return self.request("GET", f"/files/{file_id}", c.File)

    def create_file(self, workflow_id: int, name: str, path: str) -> c.File:
        return self.request("POST", "/files", c.File, body=c.FileCreate(workflow_id=workflow_id, name=name, path=path))

    def update_file(self, file_id: int, **changes: Any) -> c.File:
        return self.request("PATCH", f"/files/{file_id}", c.File, body=c.FileUpdate(**changes))

    def delete_file(self, file_id: int) -> c.File:
        return self.request("DELETE", f"/files/{file_id}", c.File)

    def list_user_data(self, workflow_id: int, *, name: str | None = None, consumer_job_id: int | None = None,
                       producer_job_id: int | None = None, offset: int = 0,
                       limit: int | None = None) -> list[c.UserData]:  # fmt: skip
        return self._page_all("/user_data", c.UserData, {
            "workflow_id": workflow_id, "name": name, "consumer_job_id": consumer_job_id,
            "producer_job_id": producer_job_id, "offset": offset}, limit)  # fmt: skip

    def get_user_data(self, user_data_id: int) -> c.UserData:
        return self.request("GET", f"/user_data/{user_data_id}", c.UserData)

    def create_user_data(self, workflow_id: int, name: str, data: Any = None, *, is_ephemeral: bool = False) -> c.UserData:
        return self.request("POST", "/user_data", c.UserData, body=c.UserDataCreate(
            workflow_id=workflow_id, name=name, data=jsonvalues.check(data, f"user_data {name!r}"),
            is_ephemeral=is_ephemeral))  # fmt: skip

    def update_user_data(self, user_data_id: int, *, data: Any = UNSET, name: Any = UNSET,
                         is_ephemeral: Any = UNSET) -> c.UserData:  # fmt: skip
        return self.request("PATCH", f"/user_data/{user_data_id}", c.UserData, body=c.UserDataUpdate(
            data=jsonvalues.check(data, f"user_data {user_data_id}"), name=name, is_ephemeral=is_ephemeral))  # fmt: skip

    def delete_user_data(self, user_data_id: int) -> c.UserData:
        return self.request("DELETE", f"/user_data/{user_data_id}", c.UserData)

    def list_resource_requirements(self, workflow_id: int, *, name: str | None = None, offset: int = 0,
                                   limit: int | None = None) -> list[c.ResourceRequirements]:  # fmt: skip
        return self._page_all("/resource_requirements", c.ResourceRequirements,
                              {"workflow_id": workflow_id, "name": name, "offset": offset}, limit)  # fmt: skip

    def get_resource_requirements(self, rr_id: int) -> c.ResourceRequirements:
        return self.request("GET", f"/resource_requirements/{rr_id}", c.ResourceRequirements)

    def create_resource_requirements(self, workflow_id: int, name: str, **fields: Any) -> c.ResourceRequirements:
        return self.request("POST", "/resource_requirements", c.ResourceRequirements,
                            body=c.ResourceRequirementsCreate(workflow_id=workflow_id, name=name, **fields))

    def update_resource_requirements(self, rr_id: int, **changes: Any) -> c.ResourceRequirements:
        return self.request("PATCH", f"/resource_requirements/{rr_id}", c.ResourceRequirements,
                            body=c.ResourceRequirementsUpdate(**changes))  # fmt: skip

    def delete_resource_requirements(self, rr_id: int) -> c.ResourceRequirements:
        return self.request("DELETE", f"/resource_requirements/{rr_id}", c.ResourceRequirements)

    def list_results(self, workflow_id: int, *, job_id: int | None = None, run_id: int | None = None,
                     status: str | None = None, return_code: int | None = None, all_runs: bool = False,
                     offset: int = 0, limit: int | None = None) -> list[c.Result]:  # fmt: skip
        return self._page_all("/results", c.Result, {
            "workflow_id": workflow_id, "job_id": job_id, "run_id": run_id, "status": status,
            "return_code": return_code, "all_runs": all_runs, "offset": offset}, limit)  # fmt: skip

    def get_result(self, result_id: int) -> c.Result:
        return self.request("GET", f"/results/{result_id}", c.Result)

    def list_resource_series(self, workflow_id: int, *, job_id: int | None = None,
                             all_runs: bool = False) -> list[c.ResourceSeries]:  # fmt: skip
        """Jobs' time series of resource samples (`granularity: time_series`), the latest attempt of each job unless
        `all_runs`; fetched a page of `SERIES_PAGE` jobs at a time (each may hold thousands of samples)."""
        items: list[c.ResourceSeries] = []
        while True:
            page = self.request("GET", "/results/samples", c.Page[c.ResourceSeries], params={
                "workflow_id": workflow_id, "job_id": job_id, "all_runs": all_runs, "offset": len(items),
                "limit": SERIES_PAGE})  # fmt: skip
            items.extend(page.items)
            if not page.has_more or not page.count:
                return items

    # --- events ----------------------------------------------------------------------

    def list_events(self, workflow_id: int, *, after: int = 0, limit: int = 1000,
                    category: str | None = None) -> c.Page[c.Event]:  # fmt: skip
        """Events after the id `after`, oldest first; only those of one `category` if given."""
        return self.request("GET", f"/workflows/{workflow_id}/events", c.Page[c.Event],
                            params={"after": after, "limit": limit, "category": category})  # fmt: skip

    def add_event(self, workflow_id: int, message: str, *, category: str = "user", **data: Any) -> c.Event:
        return self.request("POST", f"/workflows/{workflow_id}/events", c.Event,
                            body=c.EventCreate(category=category, message=message, data=data))  # fmt: skip

    def follow_events(self, workflow_id: int, *, after: int = 0) -> Iterator[c.Event]:
        """Events as they happen, from the server's event stream (runs until you stop iterating)."""
        url = f"{self.url}/workflows/{workflow_id}/events/stream"
        try:
            with self.http.stream("GET", url, params={"after": after}, timeout=None) as response:
                if response.status_code >= 400:
                    response.read()
                    raise errors.from_problem(response.status_code, _problem(response))
                for line in response.iter_lines():
                    if line.startswith("data:"):
                        yield msgspec.json.decode(line[5:].strip(), type=c.Event)
        except httpx.TransportError as error:
            raise errors.ServerUnavailable(self.url, type(error).__name__) from None

    # --- dependency questions --------------------------------------------------------

    def job_why(self, job_id: int, *, max_roots: int | None = None) -> c.JobWhy:
        """What a job waits for: unfinished upstream jobs, the unblocked jobs behind them, missing inputs."""
        return self.request("GET", f"/jobs/{job_id}/why", c.JobWhy, params={"max_roots": max_roots})

    def execution_plan(self, workflow_id: int, *, names_per_stage: int | None = None) -> c.ExecutionPlan:
        """The stages in which a workflow's jobs run (the server reads every job once)."""
        return self.request("GET", f"/workflows/{workflow_id}/execution_plan", c.ExecutionPlan,
                            params={"names_per_stage": names_per_stage})  # fmt: skip


def _param(value: Any) -> Any:
    return str(value).lower() if isinstance(value, bool) else value


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if not isinstance(problem, dict):
        problem = {"title": response.reason_phrase, "status": response.status_code,
                   "detail": response.text[:500] or response.reason_phrase}  # fmt: skip
    return problem


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name is not an error worth stopping for
        return ""


class _CreationWatcher:
    """Polls a creation's progress from a thread (the client's pool gives it its own connection)."""

    INTERVAL = 0.5

    def __init__(self, client: Client, request_id: str, progress: Callable[[c.Creation], None]) -> None:
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._poll, args=(client, request_id, progress), daemon=True)
        self.thread.start()

    def _poll(self, client: Client, request_id: str, progress: Callable[[c.Creation], None]) -> None:
        while not self.done.wait(self.INTERVAL):
            try:
                progress(client.creation(request_id))
            except errors.ApiError:
                continue  # not begun yet, or the server is busy: ask again

    def stop(self) -> None:
        self.done.set()
        self.thread.join(timeout=5)

