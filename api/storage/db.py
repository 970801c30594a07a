"""The database handle: collections, indexes, id allocation and transactions."""

from __future__ import annotations

import asyncio
import copy
import functools
import itertools
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pymongo
from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import ConnectionFailure, DuplicateKeyError, PyMongoError

from api.storage.batches import Batches
from api.storage.indexes import INDEXES
from torc_client.core.units import iso_from_epoch, iso_now  # noqa: F401 - re-exported for storage modules

#: How long a request waits for the database before the API answers 503.
SERVER_SELECTION_TIMEOUT_MS = 4000
#: A pooled connection idle this long is closed rather than reused: a database may have closed it meanwhile (the
#: embedded one closes connections idle for 300 s), and the first request after a quiet spell must not fail on it.
MAX_IDLE_TIME_MS = 60_000
#: How long closing waits for the database to hear the goodbye (a database that is gone never answers).
CLOSE_TIMEOUT_SECONDS = 1.0
#: Tries at reserving ids when concurrent first uses race to create a counter.
ALLOCATE_ATTEMPTS = 10
#: How long a transaction that keeps conflicting with other processes' is tried again.
TRANSACTION_SECONDS = 30.0
#: How long ending a failed transaction's session may take (the database may be down).
KILL_SECONDS = 1.0
#: A transaction that conflicts this long waits for one a dead API process left open: end those.
ORPHAN_SECONDS = 3.0
#: For this long after a conflict, a workflow's transactions hold its document from their first statement.
CONTENDED_SECONDS = 2.0
#: Most transactions of one workflow run together as one (group commit).
GROUP_MAX = 64

T = TypeVar("T")
log = logging.getLogger("torc.api")


class TransactionsUnsupported(RuntimeError):
    """The MongoDB server cannot run multi-document transactions (a standalone `mongod`)."""


class Database:
    """One MongoDB database, opened once per event loop."""

    def __init__(self, uri: str, name: str) -> None:
        # Every write here is guarded or idempotent, so driver-level retries add nothing, and the
        # embedded server's bookkeeping of retryable writes halves its throughput once it fills.
        options: dict = {} if "retrywrites" in uri.lower() else {"retryWrites": False}
        if "serverselectiontimeoutms" not in uri.lower():  # a database that is down gets a 503 soon, not after 30 s
            options["serverSelectionTimeoutMS"] = SERVER_SELECTION_TIMEOUT_MS
        if "maxidletimems" not in uri.lower():
            options["maxIdleTimeMS"] = MAX_IDLE_TIME_MS
        # Acknowledged means journaled: a killed database loses no change a runner or user was told of (without
        # this the embedded server lost the last few acknowledged writes when killed).
        if "journal=" not in uri.lower() and "j=" not in uri.lower():
            options["journal"] = True
        self.client: AsyncMongoClient = AsyncMongoClient(uri, tz_aware=True, connect=False, **options)
        self.db = self.client[name]
        #: The transaction this handle's operations belong to (see `atomic`), and what runs once it commits.
        self.session: AsyncClientSession | None = None
        self.after: list[tuple[Callable[..., Awaitable[Any]], tuple]] = []
        self._groups: dict[int, _Group] = {}
        #: Requests of a kind served together outside transactions (`batches`).
        self.batches = Batches()
        #: Transactions run (each a group of one or more bodies), for diagnostics.
        self.groups_run = 0
        #: In a transaction: what runs just before it commits, and what `workflows.record` gathers until then.
        self.before_commit: list[Callable[[Database], Awaitable[Any]]] = []
        self.tally: dict[str, Any] | None = None
        #: Access control is enforced: file checks answer only about the workflow owner's files (see `paths`).
        self.private_files = False
        self._conflicts: dict[int, float] = {}

    def __getattr__(self, collection: str) -> AsyncCollection:
        if collection.startswith("_"):
            raise AttributeError(collection)
        return self.collection(collection)

    def collection(self, name: str) -> AsyncCollection:
        """A collection; inside `atomic`, one whose every operation belongs to the transaction."""
        return self.db[name] if self.session is None else _InSession(self.db[name], self.session)  # type: ignore

    async def update_and_read(self, name: str, query: dict[str, Any], update: Any,
                              projection: dict[str, Any] | None = None, *, own: bool = False) -> dict[str, Any] | None:  # fmt: skip
        """The document `query` names by `_id`, updated (`find_one_and_update` returning the document after), as an
        update and a read by `_id`.

        The embedded database answers findAndModify by reading every document of the
        collection (`python -m bench --only writes`: 20–50 ms at 2,000 documents, where an
        update and a read by `_id` take 2–3 ms together), so a renewal per exchange over a fleet's compute nodes, or a
        count over a server's workflows, would cost more as either grows. Inside a
        transaction the read sees this update and no other writer's (a concurrent writer
        conflicts); outside one it may also see a later write, which most callers accept (they
        need the document as it is now). With `own`, the caller needs this update's own result
        (a position it reserved): outside a transaction that takes findAndModify.
        """
        collection = self.collection(name)
        if own and self.session is None:
            return await collection.find_one_and_update(query, update, projection=projection,
                                                        return_document=ReturnDocument.AFTER)  # fmt: skip
        if not (await collection.update_one(query, update)).matched_count:
            return None
        return await collection.find_one({"_id": query["_id"]}, projection)

    async def ping(self) -> None:
        await self.client.admin.command("ping")

    async def check_transactions(self) -> None:
        """Refuse a server without multi-document transactions, which keep counts and jobs consistent."""
        refusal = transactions_refusal(await self.client.admin.command("hello"))
        if refusal:
            raise TransactionsUnsupported(refusal)

    async def atomic(self, wid: int, body: Callable[[Database], Awaitable[T]]) -> T:
        """Run `body` as one transaction: the jobs it changes and the counts it records commit together or not at all.

        `body` gets a handle whose operations belong to the transaction; it may run more
        than once (a conflict with another API process retries it), so it must decide from
        what it reads, as every guarded update here does. What it hands to `after_commit`
        runs once, after the commit. A body already inside a transaction joins it.

        Group commit: transactions on one workflow are serialized within this process (they
        all write its document, and would otherwise abort each other), and those that arrive
        while one runs are run together, one after the other, in the next transaction (at most
        `GROUP_MAX` of them): one commit, one update of the workflow document (see
        `workflows.record`) for all of them, so the cost of a transaction is shared by the
        concurrent requests of a workflow and falls per request as load rises. Bodies that are
        `Combined` go further: those of one kind are served by one call, with the commands of
        one request doing the work of all (the runners' exchanges: `claims.serve_exchanges`,
        which serves their reports and then their claims). A body that
        fails makes its group's transaction abort; the group's bodies are then run each in a
        transaction of its own, so one request's error is never another's. Correctness still
        rests on the guarded updates alone: the grouping is only this process's batching.

        Across processes, a transaction that conflicted is tried again holding the workflow
        document from its first statement, so a long one cannot be starved by short ones, and
        so are the workflow's transactions for a while after a conflict. A transaction of an
        API process killed mid-way stays open in the database, holding its documents, until
        the database times it out: a transaction that keeps conflicting for `ORPHAN_SECONDS`
        ends such orphans (`end_orphans`), as every API process does when it starts.
        """
        if self.session is not None:
            return await body(self)
        group = self._groups.setdefault(wid, _Group())
        waiter: asyncio.Future = asyncio.get_running_loop().create_future()
        group.waiting.append((body, waiter))
        if group.leader is None or group.leader.done():
            group.leader = asyncio.ensure_future(self._lead(wid, group))
        return await asyncio.shield(waiter)

    async def _lead(self, wid: int, group: _Group) -> None:
        """Run a workflow's waiting transactions, a group at a time, until none waits."""
        while group.waiting:
            batch, group.waiting = group.waiting[:GROUP_MAX], group.waiting[GROUP_MAX:]
            self.groups_run += 1
            try:
                await self._run_group(wid, batch)
            except BaseException as error:  # noqa: BLE001 - every waiter must hear how its transaction ended
                for _, waiter in batch:
                    if not waiter.done():
                        waiter.set_exception(error)
                if not isinstance(error, Exception):
                    raise

    async def _run_group(self, wid: int, batch: list[tuple[Callable, asyncio.Future]]) -> None:
        async with self.client.start_session() as session:
            started = time.monotonic()
            orphans_ended = False
            for attempt in itertools.count():
                view = copy.copy(self)
                view.session, view.after, view.before_commit, view.tally = session, [], [], {}
                contended = attempt > 0 or time.monotonic() < self._conflicts.get(wid, -CONTENDED_SECONDS) + CONTENDED_SECONDS
                try:
                    results = await _attempt(view, wid, [body for body, _ in batch], contended)
                except PyMongoError as error:
                    if not _transient(error) or time.monotonic() > started + TRANSACTION_SECONDS:
                        await _forget(self.client, session)
                        if len(batch) > 1:
                            break
                        raise
                    self._conflicts[wid] = time.monotonic()
                    if not orphans_ended and time.monotonic() > started + ORPHAN_SECONDS:
                        orphans_ended = True  # live transactions last milliseconds: this one waits for a dead one
                        await self.end_orphans(f"a transaction on workflow {wid} conflicted for {ORPHAN_SECONDS:.0f} s")
                    log.debug("a transaction on workflow %s conflicted with another process's (try %d): %s", wid,
                              attempt + 1, error)  # fmt: skip
                    await asyncio.sleep(random.uniform(0.5, 1.5) * 0.001 * 2 ** min(attempt, 5))
                    continue
                except Exception:
                    await _forget(self.client, session)
                    if len(batch) > 1:
                        break  # one body failed: run each alone, below
                    raise
                except BaseException:
                    await _forget(self.client, session)
                    raise
                for fn, args in view.after:
                    await fn(self, *args)
                for (_, waiter), result in zip(batch, results):
                    if not waiter.done():
                        waiter.set_result(result)
                return
        for one in batch:
            try:
                await self._run_group(wid, [one])
            except Exception as error:  # noqa: BLE001 - told to its own waiter
                if not one[1].done():
                    one[1].set_exception(error)

    async def end_orphans(self, why: str, quiet: bool = False) -> None:
        """Abort the open transactions of this database user: those of an API process that died keep their documents
        until the database times them out (a minute), and a live one aborted here is simply tried again. Best effort:
        a MongoDB user without the `killAnySession` privilege leaves them to time out."""
        try:
            with pymongo.timeout(KILL_SECONDS):
                status = await self.client.admin.command("connectionStatus")
                users = [{"user": u["user"], "db": u["db"]} for u in status["authInfo"]["authenticatedUsers"]]
                await self.client.admin.command("killAllSessions", users)  # no users: no authentication, all
            (log.info if quiet else log.warning)("%s: ended the open transactions of processes that may have died", why)
        except PyMongoError as error:
            log.warning("%s: could not end open transactions (%s); a dead process's end within a minute", why, error)

    async def after_commit(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run `fn(db, *args)` once the current transaction has committed (now, outside one)."""
        if self.session is None:
            await fn(self, *args)
        else:
            self.after.append((fn, args))

    async def ensure_indexes(self) -> None:
        for collection, specs in INDEXES.items():
            for keys, unique in specs:
                await self.db[collection].create_index(keys, unique=unique)

    async def close(self) -> None:
        """Close the connections; with the database gone, give up after `CLOSE_TIMEOUT_SECONDS` (a stop stays fast)."""
        try:
            await asyncio.wait_for(self.client.close(), CLOSE_TIMEOUT_SECONDS)
        except (asyncio.TimeoutError, PyMongoError):
            log.warning("the database did not answer while its connections were closed")

    async def allocate_ids(self, kind: str, count: int) -> int:
        """Reserve `count` consecutive integer ids for `kind`; returns the first.

        Concurrent first uses race to create the counter: the embedded server may then
        answer an upsert with no document (having applied it or not), and MongoDB may
        refuse the losing insert. Either way the counter exists afterwards, so the request
        is made again; an increment that was applied unseen only leaves a gap in the ids.
        """
        for _ in range(ALLOCATE_ATTEMPTS):
            try:
                doc = await self.db.counters.find_one_and_update(
                    {"_id": kind}, {"$inc": {"seq": count}}, upsert=True, return_document=ReturnDocument.AFTER
                )
            except DuplicateKeyError:
                continue
            if doc is not None:
                return int(doc["seq"]) - count + 1
        raise RuntimeError(f"could not reserve {count} {kind} ids after {ALLOCATE_ATTEMPTS} attempts")


def transactions_refusal(hello: dict[str, Any]) -> str | None:
    """Why a MongoDB server (its `hello` answer) cannot hold Torc's data, or None when it can."""
    if hello.get("setName") or hello.get("msg") == "isdbgrid":
        return None
    return ("this MongoDB server is a standalone mongod, which cannot run the transactions that keep a workflow's job "
            "counts and results consistent through crashes: use a replica set (one member is enough: start mongod "
            "with `--replSet rs0` and run `rs.initiate()` once), MongoDB Atlas, or the embedded database")


class Combined:
    """A transaction body that can be served together with the others of its `kind` in a group (see
    `Database.atomic`): `serve(db, items)` does the work of all their `item`s with a few commands in all, and returns
    one result per item, in order. Alone (or run again after its group failed), it is served by itself."""

    __slots__ = ("kind", "item", "serve")

    def __init__(self, kind: Any, item: Any, serve: Callable[[Database, list[Any]], Awaitable[list[Any]]]) -> None:
        self.kind, self.item, self.serve = kind, item, serve

    async def __call__(self, db: Database) -> Any:
        return (await self.serve(db, [self.item]))[0]


class _Group:
    """A workflow's transactions waiting to run in this process, and the task running them."""

    __slots__ = ("waiting", "leader")

    def __init__(self) -> None:
        self.waiting: list[tuple[Callable, asyncio.Future]] = []
        self.leader: asyncio.Future | None = None


class _InSession:
    """A collection whose operations all pass the transaction's session."""

    __slots__ = ("_collection", "_session")

    def __init__(self, collection: AsyncCollection, session: AsyncClientSession) -> None:
        self._collection, self._session = collection, session

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._collection, name)
        return functools.partial(attr, session=self._session) if callable(attr) else attr


def _transient(error: PyMongoError) -> bool:
    """A conflict worth retrying; not a database that is down (that is answered at once with a 503)."""
    return error.has_error_label("TransientTransactionError") and not isinstance(error, ConnectionFailure)


async def _attempt(view: Database, wid: int, bodies: list[Callable[[Database], Awaitable[Any]]],
                   contended: bool) -> list[Any]:  # fmt: skip
    session = view.session
    assert session is not None
    await session.start_transaction()
    try:
        if contended:  # hold the workflow document from the first statement on
            await view.workflows.update_one({"_id": wid}, {"$inc": {"transactions_held": 1}})
        results = await _run_bodies(view, bodies)
        for fn in view.before_commit:
            await fn(view)
    except BaseException:
        if session.in_transaction:
            try:
                await session.abort_transaction()
            except PyMongoError:
                pass  # the server drops a transaction it cannot finish; nothing of it was applied
        raise
    await session.commit_transaction()  # the driver tries a commit whose answer was lost once more itself
    return results


async def _run_bodies(view: Database, bodies: list[Callable[[Database], Awaitable[Any]]]) -> list[Any]:
    """Run a group's bodies in arrival order; the `Combined` ones of a kind are served together, by one call, where
    the first of them stands."""
    results: list[Any] = [None] * len(bodies)
    served: set[int] = set()
    for i, body in enumerate(bodies):
        if i in served:
            continue
        if isinstance(body, Combined):
            same = [j for j in range(i, len(bodies)) if isinstance(bodies[j], Combined)
                    and bodies[j].kind == body.kind]  # type: ignore[attr-defined]  # fmt: skip
            outs = await body.serve(view, [bodies[j].item for j in same])  # type: ignore[attr-defined]
            for j, out in zip(same, outs):
                results[j] = out
            served.update(same)
        else:
            results[i] = await body(view)
    return results


async def _forget(client: AsyncMongoClient, session: AsyncClientSession) -> None:
    """End a transaction that failed for good, so that it cannot hold its documents until the server times it out
    (a commit cut off by a lost connection leaves it open); best effort: a database that is down has forgotten it."""
    try:
        with pymongo.timeout(KILL_SECONDS):
            await client.admin.command("killSessions", [session.session_id])
    except PyMongoError:
        pass


def now_ms() -> int:
    return int(time.time() * 1000)


def chunks(items: list[Any], size: int = 50) -> list[list[Any]]:
    """`items` cut into lists of at most `size`; `$in` costs grow faster than linearly on the embedded server: 50 ids is its sweet spot."""
    return [items[i : i + size] for i in range(0, len(items), size)]
