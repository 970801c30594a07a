"""A fleet of simulated runners in one process, speaking the runner protocol as `runner/` does.

Each simulated runner registers a compute node with 4 CPUs, then exchanges with the
server as the real runner loop does: one request in flight at a time, each request
reporting the jobs launched (`starts`) and finished (`outcomes`) since the previous
one and claiming what fits the free slots plus a backlog. How many jobs it asks for and
when it comes back are decided by the runner's own pacing (`runner.pace`), so the
fleet obeys the server's pacing hint exactly as real runners do. A job takes
`job_seconds` of wall time and no process.

The fleet counts what a benchmark or a test needs: completions the server accepted,
exchange latencies, errors, lease losses, and jobs handed to a runner while another
runner still held them.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import msgspec

from runner.pace import Pace, exchange_due, heartbeat_seconds, wanted
from torc_client import contract as c
from torc_client.core.resources import Capacity

CPUS = 4
MEMORY_GB = 8.0
#: Longest a simulated runner waits between contacts when it has nothing to say (the runner's heartbeat).
HEARTBEAT_SECONDS = 5.0


@dataclass
class FleetStats:
    """What a fleet saw; `window` restricts completions and latencies to a time span (monotonic seconds)."""

    window: tuple[float, float] = (0.0, float("inf"))
    completed: int = 0  # accepted completions inside the window
    completed_total: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, exchanges that ended inside the window
    exchanges: int = 0
    errors: list[str] = field(default_factory=list)
    lease_losses: int = 0
    rejected: int = 0
    handed_twice: int = 0
    completed_twice: int = 0
    hints: list[float] = field(default_factory=list)
    #: Jobs handed out in exchanges that ended inside the window (as many as `latencies`), and how many of those
    #: exchanges found the runner with a slot idle and no backlog.
    granted: int = 0
    starved: int = 0
    #: How late the simulator's own event loop woke up (seconds, inside the window): when these grow, the
    #: latencies above are the simulator's, not the server's.
    lags: list[float] = field(default_factory=list)
    answered: set[int] = field(default_factory=set)  # runners that have had an answer

    def inside(self, t: float) -> bool:
        return self.window[0] <= t < self.window[1]


class Fleet:
    """`n` simulated runners of one workflow; `await fleet.run(until)` runs them until `until` (monotonic)."""

    def __init__(self, url: str, workflow_id: int, n: int, job_seconds: float = 5.0,
                 auth: tuple[str, str] | None = None, timeout: float = 300.0) -> None:  # fmt: skip
        self.url, self.workflow_id, self.n, self.job_seconds = url.rstrip("/"), workflow_id, n, job_seconds
        self.stats = FleetStats()
        self.holder: dict[int, int] = {}  # job id -> runner index holding it now
        self.done: set[int] = set()
        self._auth = httpx.BasicAuth(*auth) if auth else None
        self._timeout = timeout

    async def run(self, until: float) -> FleetStats:
        # A client (one connection) per runner, as real runners have: one pool of a thousand connections would cost
        # the simulator a scan of the pool per request. They share one TLS context (unused over plain HTTP): each
        # client would otherwise load the certificate store, tens of milliseconds of the simulator's CPU apiece.
        tls = ssl.create_default_context()
        self._http = [httpx.AsyncClient(timeout=self._timeout, auth=self._auth, verify=tls) for _ in range(self.n)]
        watch = asyncio.ensure_future(self._watch_lag())
        try:
            sem = asyncio.Semaphore(32)

            async def register(i: int) -> int:
                async with sem:
                    return await self._register(i)

            nodes = await asyncio.gather(*(register(i) for i in range(self.n)))
            await asyncio.gather(*(self._runner(i, node, until) for i, node in enumerate(nodes)))
        finally:
            watch.cancel()
            await asyncio.gather(*(http.aclose() for http in self._http), return_exceptions=True)
        return self.stats

    async def _watch_lag(self, every: float = 0.1) -> None:
        """Sample how late this process's event loop runs a timer (the simulator's own delay)."""
        while True:
            t0 = time.monotonic()
            await asyncio.sleep(every)
            t1 = time.monotonic()
            if self.stats.inside(t1):
                self.stats.lags.append(max(0.0, t1 - t0 - every))

    async def _post(self, index: int, path: str, body: object, type_: type) -> object:
        response = await self._http[index].post(f"{self.url}{path}", content=msgspec.json.encode(body),
                                                headers={"content-type": "application/json"})  # fmt: skip
        if response.status_code >= 400:
            raise _Refused(response.status_code, response.text[:300])
        return msgspec.json.decode(response.content, type=type_)

    async def _register(self, index: int) -> int:
        """A new compute node; a dropped connection is tried again after a second, as the runner does (counted)."""
        record = c.ComputeNodeCreate(workflow_id=self.workflow_id, hostname="fleet", pid=index, num_cpus=CPUS,
                                     memory_gb=MEMORY_GB)  # fmt: skip
        for _ in range(60):
            try:
                node = await self._post(index, "/compute_nodes", record, c.ComputeNode)
                return node.id  # type: ignore[attr-defined]
            except httpx.TransportError as error:
                self.stats.errors.append(f"registering: {type(error).__name__}: {error}")
                await asyncio.sleep(1.0)
        raise RuntimeError("the server did not register a compute node for a minute")

    async def _runner(self, index: int, node: int, until: float) -> None:
        running: dict[int, tuple[float, c.ClaimedJob]] = {}
        backlog: list[c.ClaimedJob] = []
        starts: dict[int, c.JobStart] = {}
        outcomes: list[c.JobOutcome] = []
        pace = Pace()
        hint: float | None = None
        last_answer = time.monotonic()
        claim_after = 0.0
        stats = self.stats
        while time.monotonic() < until:
            now = time.monotonic()
            for jid, (end, job) in list(running.items()):
                if end <= now:
                    del running[jid]
                    starts.pop(jid, None)
                    pace.finished(self.job_seconds)
                    outcomes.append(c.JobOutcome(job_id=jid, claim_token=job.claim_token, status="completed",
                                                 return_code=0, exec_time_minutes=self.job_seconds / 60,
                                                 completion_time="2026-01-01T00:00:00.000Z"))  # fmt: skip
            while backlog and len(running) < CPUS:
                job = backlog.pop(0)
                running[job.id] = (now + self.job_seconds, job)
                starts[job.id] = c.JobStart(job_id=job.id, claim_token=job.claim_token)
            pace.running(len(running))
            free = Capacity.from_gb(CPUS - len(running), MEMORY_GB, 0, 1)
            want_now, want_later = wanted(pace, None, len(running), len(backlog), free, hint) \
                if now >= claim_after or outcomes else (0, 0)  # fmt: skip
            heartbeat = now - last_answer >= heartbeat_seconds(HEARTBEAT_SECONDS, hint)
            has_news = bool(starts or outcomes or want_now or want_later)
            if (has_news and exchange_due(last_answer, hint, now)) or heartbeat:
                request = c.ClaimRequest(compute_node_id=node, limit=want_now, backlog=want_later, num_cpus=free.cpus,
                                         memory_gb=MEMORY_GB, starts=list(starts.values()), outcomes=outcomes,
                                         request_id=uuid.uuid4().hex)  # fmt: skip
                sent_starts, sent_outcomes = starts, outcomes
                starts, outcomes = {}, []
                t0 = time.monotonic()
                try:
                    answer = await self._post(index, f"/workflows/{self.workflow_id}/claim", request, c.ClaimResponse)
                except _Refused as error:
                    if error.status == 409 and "lease" in error.text.lower() or "no longer active" in error.text:
                        stats.lease_losses += 1
                        for jid in list(running) + [j.id for j in backlog]:
                            self.holder.pop(jid, None)
                        running.clear()
                        backlog.clear()
                        node = await self._register(index)
                    else:
                        stats.errors.append(f"{error.status}: {error.text}")
                        starts, outcomes = {**sent_starts, **starts}, sent_outcomes + outcomes
                        await asyncio.sleep(1.0)
                    continue
                except httpx.HTTPError as error:
                    stats.errors.append(f"{type(error).__name__}: {error}")
                    starts, outcomes = {**sent_starts, **starts}, sent_outcomes + outcomes
                    await asyncio.sleep(1.0)
                    continue
                t1 = time.monotonic()
                last_answer = t1
                stats.answered.add(index)
                pace.exchanged(t1 - t0)
                stats.exchanges += 1
                if stats.inside(t1):
                    stats.latencies.append(t1 - t0)
                    stats.granted += len(answer.jobs)  # type: ignore[attr-defined]
                    stats.starved += len(running) < CPUS and not backlog
                self._take_answer(index, answer, sent_outcomes, t1)  # type: ignore[arg-type]
                hint = answer.next_exchange_seconds  # type: ignore[attr-defined]
                if hint is not None:
                    stats.hints.append(hint)
                backlog.extend(answer.jobs)  # type: ignore[attr-defined]
                asked = want_now + want_later
                if asked and len(answer.jobs) < asked:  # type: ignore[attr-defined]
                    claim_after = t1 + 1.0
                    if answer.is_complete and not answer.jobs and not running and not backlog:  # type: ignore[attr-defined]
                        return
                continue
            wake = [claim_after if claim_after > now else now + HEARTBEAT_SECONDS]
            if running:
                wake.append(min(end for end, _ in running.values()))
            if hint is not None:
                wake.append(last_answer + hint)
            wake.append(last_answer + heartbeat_seconds(HEARTBEAT_SECONDS, hint))
            await asyncio.sleep(max(0.0, min(wake) - time.monotonic()) + 0.001)

    def _take_answer(self, index: int, answer: c.ClaimResponse, sent: list[c.JobOutcome], t: float) -> None:
        stats = self.stats
        report = answer.report
        if report is not None:
            for jid in report.accepted:
                if jid in self.done:
                    stats.completed_twice += 1
                self.done.add(jid)
                self.holder.pop(jid, None)
                stats.completed_total += 1
                if stats.inside(t):
                    stats.completed += 1
            stats.rejected += len(report.rejected)
        for job in answer.jobs:
            if self.holder.get(job.id, index) != index or job.id in self.done:
                stats.handed_twice += 1
            self.holder[job.id] = index


class _Refused(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"{status}: {text}")
        self.status, self.text = status, text


def run_fleet(url: str, workflow_id: int, n: int, seconds: float, warmup: float = 0.0, job_seconds: float = 5.0,
              auth: tuple[str, str] | None = None, on_window: Callable[[], None] | None = None) -> FleetStats:  # fmt: skip
    """Run `n` simulated runners until `seconds` after a warm-up; completions and latencies count in those `seconds`
    only. The warm-up starts once nine in ten runners have had their first answer (a big fleet takes a while to
    register and claim for the first time). `on_window` is called when the window opens and when it closes (to
    read what the processes used in it)."""

    async def main() -> FleetStats:
        fleet = Fleet(url, workflow_id, n, job_seconds, auth)
        start = time.monotonic()
        # Registration takes a while for a big fleet: the window starts after it, at the first exchange.
        fleet.stats.window = (float("inf"), float("inf"))

        async def frame() -> None:
            while len(fleet.stats.answered) < 0.9 * n:
                await asyncio.sleep(0.05)
            t = time.monotonic()
            fleet.stats.window = (t + warmup, t + warmup + seconds)
            if on_window is not None:
                await asyncio.sleep(warmup)
                on_window()

        framing = asyncio.ensure_future(frame())
        # Run generously, then stop at the window's end.
        task = asyncio.ensure_future(fleet.run(start + 3600))
        await asyncio.wait([framing, task], return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            framing.cancel()
            return task.result()
        await asyncio.sleep(max(0.0, fleet.stats.window[1] - time.monotonic()))
        if on_window is not None:
            on_window()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        return fleet.stats

    return asyncio.run(main())
