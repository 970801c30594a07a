"""`WorkflowDashboard`: every view of one workflow, fed by one poller.

    from torc_client.notebook import WorkflowDashboard
    display(WorkflowDashboard(workflow_id))

The dashboard reads snapshots through `fetch` and hands them to its views; the views only
draw. One background thread (`Poller`) refreshes the overview, the job table, the open job
detail and whichever tab is open, and stops when the workflow ends or the dashboard is
closed. The buttons have method twins (`start`, `cancel`, `preview_rerun`, `reinitialize`,
`refresh`, `wait`, `close`) so a notebook can drive it from code.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import ipywidgets as w

from torc_client import contract as c
from torc_client.analysis import series
from torc_client.analysis.diagnosis import group_usage
from torc_client.client import Client
from torc_client.core import errors, settings
from torc_client.core.units import count
from torc_client.notebook import plots, series_plots
from torc_client.notebook.panels import GraphView, ResourcesView, UserDataView
from torc_client.notebook.theme import CSS
from torc_client.notebook.views import JobDetailView, JobTableView, OverviewView
from torc_client.operations import recovery
from torc_client.watching import fetch, launch
from torc_client.watching.layout import DEFAULT_MAX_NODES, layout_graph
from torc_client.watching.paging import DEFAULT_PAGE_SIZE, JobQuery
from torc_client.watching.poller import Poller
from torc_client.watching.snapshot import JobDetail, JobPage, Overview, RunClock

TABS = ("jobs", "graph", "user data", "resources")
#: Up to this many jobs, the graph and resource tabs refresh on every change; above it, on demand.
LIVE_LIMIT = 5000
#: Fewest seconds between two automatic redraws of the resource plots.
RESOURCES_EVERY_SECONDS = 5.0
USER_DATA_LIMIT = 500


class WorkflowDashboard(w.VBox):
    """A live view of one workflow: overview and buttons, job table and detail, graph, user_data, resources.

    `client` defaults to one built from `TORC_API_URL` (closed with the dashboard). `output_dir`
    is where runners write job stdout and stderr (the runner's `--output-dir`; relative paths
    are taken from the kernel's working directory). `runner_options` are `torc run` options for
    the Start button (`num_cpus=8, num_gpus=2, memory_gb=64`). Workflows with more than
    `live_limit` jobs redraw their graph and resource plots only on demand.
    """

    def __init__(self, workflow_id: int, *, client: Client | None = None,
                 output_dir: str | Path = settings.DEFAULT_OUTPUT_DIR, runner_options: Mapping[str, Any] | None = None,
                 poll_interval: float = settings.DEFAULT_POLL_INTERVAL, page_size: int = DEFAULT_PAGE_SIZE,
                 max_graph_nodes: int = DEFAULT_MAX_NODES, live_limit: int = LIVE_LIMIT,
                 watch: bool = True) -> None:  # fmt: skip
        self.workflow_id = workflow_id
        self.client = client or Client()
        self._owns_client = client is None
        self.output_dir = Path(output_dir).resolve()
        self.runner_options = dict(runner_options or {})
        self.max_graph_nodes, self.live_limit = max_graph_nodes, live_limit
        self.runner: subprocess.Popen | None = None
        self.overview: Overview | None = None
        self.page: JobPage | None = None
        self.detail: JobDetail | None = None
        self._lock = threading.RLock()
        self._clock = RunClock()
        self._seen: tuple | None = None
        self._names: dict[int, str] = {}
        self._job_id: int | None = None
        self._shown: set[str] = set()
        self._resources_at = 0.0
        self._recovery: recovery.RecoveryPlan | None = None
        self._name = self.client.get_workflow(workflow_id).name
        self._build_views(page_size)
        self.poller = Poller(self._tick, poll_interval, on_error=self._show_error, name=f"torc-dashboard-{workflow_id}")
        self.refresh()
        if watch:
            self.poller.start()

    def _build_views(self, page_size: int) -> None:
        self.overview_view, self.detail_view = OverviewView(), JobDetailView()
        self.table_view = JobTableView(page_size)
        self.graph_view, self.user_data_view, self.resources_view = GraphView(), UserDataView(), ResourcesView()
        jobs = w.VBox([self.table_view.box, self.detail_view.box])
        self.tabs = w.Tab(children=[jobs, self.graph_view.box, self.user_data_view.box, self.resources_view.box],
                          titles=[t.capitalize() for t in TABS])  # fmt: skip
        self.overview_view.on(self._guard(self.start), self._guard(self.cancel), self._guard(self.preview_rerun),
                              self._guard(self.reinitialize), self._guard(self.preview_recovery),
                              self._guard(self.recover))  # fmt: skip
        self.table_view.on(self._in_background(self._query_changed), self._guard(self.select_job))
        self.graph_view.on(self._in_background(lambda: self._refresh_panels({"graph"}, force=True)))
        self.resources_view.on(self._in_background(lambda: self._refresh_panels({"resources"}, force=True)))
        self.user_data_view.on(self._save_user_data)
        self.tabs.observe(self._in_background(self._tab_opened), names="selected_index")
        super().__init__([w.HTML(CSS), self.overview_view.box, self.tabs])

    # --- what the buttons do -----------------------------------------------------------

    def start(self) -> subprocess.Popen:
        """Initialise the workflow if it is not, start a runner here (`torc run`) and watch it."""
        with self._lock:
            if self.runner is not None and self.runner.poll() is None:
                self.overview_view.say(f"A runner started here is still running (pid {self.runner.pid}).")
                return self.runner
            if not self.client.get_workflow(self.workflow_id).is_initialized:
                self.client.initialize_workflow(self.workflow_id)
            self.runner = launch.start_runner(self.client, self.workflow_id, self.output_dir, self.runner_options)
            log = launch.log_path(self.output_dir, self.workflow_id)
            self.overview_view.say(f"Runner started (pid {self.runner.pid}), logging to {log.name} "
                                   "in the output directory.")  # fmt: skip
        self.poller.start()
        return self.runner

    def cancel(self) -> c.WorkflowStatus:
        """Cancel the workflow: nothing more starts, runners stop their jobs."""
        status = self.client.cancel_workflow(self.workflow_id)
        self.overview_view.say("Workflow canceled.")
        self.refresh()
        return status

    def preview_rerun(self) -> c.ReinitializeResult:
        """Show (and return) which jobs a reinitialisation would rerun, and why; changes nothing."""
        result = self.client.reinitialize_workflow(self.workflow_id, dry_run=True)
        self.overview_view.show_preview(result)
        return result

    def reinitialize(self) -> c.ReinitializeResult:
        """Start a new run of what changed or failed (press Start, or call `start()`, to run it)."""
        result = self.client.reinitialize_workflow(self.workflow_id)
        self.overview_view.show_preview(None)
        self.overview_view.say(f"Run {result.run_id}: {count(len(result.jobs), 'job')} will run again.")
        self.refresh()
        self.poller.start()
        return result

    def preview_recovery(self, **options: Any) -> recovery.RecoveryPlan:
        """Show (and return) what `torc recover` would do: each failed job's cause and its new request; changes nothing.

        `options` are `recovery.diagnose`'s (`memory_multiplier`, `runtime_multiplier`, `retry_unknown`).
        """
        self._recovery = recovery.diagnose(self.client, self.workflow_id, **options)
        self.overview_view.show_recovery(self._recovery)
        return self._recovery

    def recover(self) -> recovery.Outcome:
        """Carry out the recovery last previewed (or a fresh one): new requests, then a new run (press Start)."""
        plan = self._recovery or recovery.diagnose(self.client, self.workflow_id)
        outcome = recovery.apply(self.client, plan, output_dir=self.output_dir)
        self._recovery = None
        self.overview_view.show_recovery(None)
        where = (f"submitted Slurm allocations {', '.join(outcome.allocations)}" if outcome.allocations
                 else "press Start to run them")  # fmt: skip
        self.overview_view.say(f"Recovered: {count(outcome.rerun, 'job')} will run again; {where}.")
        self.refresh()
        self.poller.start()
        return outcome

    def select_job(self, job_id: int | None) -> JobDetail | None:
        """Show one job in the detail pane (None clears it)."""
        with self._lock:
            self._job_id = job_id
            self._refresh_detail()
            return self.detail

    def show_tab(self, name: str) -> None:
        """Open a tab by name (`jobs`, `graph`, `user data`, `resources`) and draw it now."""
        self.tabs.selected_index = TABS.index(name)
        self._refresh_panels({name}, force=True)

    def panel(self, name: str) -> w.Widget:
        """A tab's contents, drawn now and kept live, for a cell of its own: `display(dash.panel("graph"))`."""
        box = self.tabs.children[TABS.index(name)]
        self._shown.add(name)
        self._refresh_panels({name}, force=True)
        return box

    def refresh(self) -> None:
        """Redraw every view now (the open tab included)."""
        with self._lock:
            self._refresh_overview()
            self._refresh_table()
            self._refresh_detail()
            self._refresh_panels(self._open_panels(), force=True)

    def wait(self, timeout: float | None = None) -> c.WorkflowStatus:
        """Block until the workflow is done and the views show it; returns the final status."""
        if self.runner is not None:
            self.runner.wait(timeout)
        status = self.client.wait(self.workflow_id, poll_interval=0.5, timeout=timeout)
        self.poller.join(timeout)
        self.refresh()
        return status

    def close(self) -> None:
        """Stop polling, release the client the dashboard made, and close every widget (a runner keeps going)."""
        self.poller.stop()
        if self._owns_client:
            self.client.close()
        _close_children(self)
        super().close()

    # --- refreshing --------------------------------------------------------------------

    def _tick(self) -> bool:
        """One poll: redraw what changed; False once the workflow has ended (and the local runner exited)."""
        with self._lock:
            changed = self._refresh_overview()
            ended = self._ended()
            if changed:
                self._refresh_table()
                self._refresh_detail()
            self._refresh_panels(self._open_panels(), force=ended, changed=changed)
            return not ended

    def _ended(self) -> bool:
        status = self.overview.status if self.overview else None
        if status is None or not status.is_initialized:
            return False
        active = status.job_counts.get("running", 0) + status.job_counts.get("pending", 0)
        finished = status.is_complete or (status.is_canceled and not active)
        return finished and (self.runner is None or self.runner.poll() is not None)

    def _refresh_overview(self) -> bool:
        status = self.client.workflow_status(self.workflow_id)
        self._clock = fetch.advance_clock(self.client, self.workflow_id, self._clock)
        self.overview = Overview(self.workflow_id, self._name, status, self._clock, launch.describe(self.runner))
        self.overview_view.show(self.overview, int(time.time() * 1000))
        seen, self._seen = self._seen, (status, self._clock.last_event_id)
        return seen != self._seen

    def _refresh_table(self, query: JobQuery | None = None) -> None:
        if self.overview is None:
            return
        query = query or self.table_view.query
        if not self._names:
            self._names = fetch.requirement_names(self.client, self.workflow_id)
        self.page = fetch.job_page(self.client, self.workflow_id, query, self.overview.status.job_counts, self._names)
        self.table_view.show(self.page)

    def _refresh_detail(self) -> None:
        run_id = self.overview.status.run_id if self.overview else 0
        detail = None if self._job_id is None else fetch.job_detail(self.client, self._job_id, self.output_dir, run_id)
        if detail is not None and detail.job.workflow_id != self.workflow_id:
            self._job_id = None
            raise ValueError(f"job {detail.job.id} belongs to workflow {detail.job.workflow_id}, "
                             f"not to workflow {self.workflow_id}")  # fmt: skip
        self.detail = detail
        self.detail_view.show(detail)

    def _open_panels(self) -> set[str]:
        """The panels someone can see: the open tab and any displayed on their own."""
        return {TABS[self.tabs.selected_index or 0], *self._shown}

    def _refresh_panels(self, names: set[str], force: bool = False, changed: bool = False) -> None:
        with self._lock:
            live = self.overview is not None and self.overview.status.num_jobs <= self.live_limit
            if "graph" in names and (force or (changed and live)):
                self._refresh_graph(live)
            if "user data" in names and (force or changed):
                self.user_data_view.show(self.client.list_user_data(self.workflow_id, limit=USER_DATA_LIMIT))
            if "resources" in names and (force or (changed and live and self._resources_due())):
                self._refresh_resources()

    def _refresh_graph(self, live: bool) -> None:
        layout = layout_graph(fetch.graph_jobs(self.client, self.workflow_id), self.max_graph_nodes)
        self.graph_view.show(layout, live)

    def _resources_due(self) -> bool:
        return time.monotonic() - self._resources_at >= RESOURCES_EVERY_SECONDS

    def _refresh_resources(self) -> None:
        rows = fetch.usage(self.client, self.workflow_id)
        self.resources_view.show(plots.usage_png(rows), group_usage(rows), len(rows))
        found = fetch.resource_series(self.client, self.workflow_id)
        self.resources_view.show_series([(f"CPU and memory over time: resource group {group or '(none)'}",
                                          series_plots.series_png(f"{group or '(none)'}: {len(members)} jobs",
                                                                  members))
                                         for group, members in series.by_group(found).items()])  # fmt: skip
        self._resources_at = time.monotonic()

    # --- handlers ----------------------------------------------------------------------

    def _query_changed(self, query: JobQuery) -> None:
        with self._lock:
            self._refresh_table(query)

    def _tab_opened(self, change: object = None) -> None:
        self._refresh_panels({TABS[self.tabs.selected_index or 0]}, force=True)

    def _save_user_data(self, record_id: int, value: Any) -> None:
        self.client.update_user_data(record_id, data=value)
        self._in_background(lambda: self._refresh_panels({"user data"}, force=True))()

    def _show_error(self, error: Exception) -> None:
        text = error.message if isinstance(error, errors.TorcError) else f"{type(error).__name__}: {error}"
        self.overview_view.say(f"{time.strftime('%H:%M:%S')} {text}", error=True)

    def _guard(self, action: Callable[..., Any]) -> Callable[..., None]:
        """A button handler: errors are shown in the dashboard instead of vanishing into the kernel log."""

        def handler(*args: Any) -> None:
            try:
                action(*args)
            except Exception as error:  # noqa: BLE001 - shown to the person who pressed the button
                self._show_error(error)

        return handler

    def _in_background(self, action: Callable[..., None]) -> Callable[..., None]:
        """A handler that reads off the kernel's main thread (the whole graph, every result, a filtered page),
        so the notebook stays responsive however long the server takes."""
        guarded = self._guard(action)
        return lambda *args: threading.Thread(target=guarded, args=args, name="torc-dashboard-load",
                                              daemon=True).start()  # fmt: skip


def _close_children(widget: w.Widget) -> None:
    for child in getattr(widget, "children", ()):
        _close_children(child)
        child.close()
