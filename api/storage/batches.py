"""Requests of one kind served together outside transactions: one command does the work of many.

A fleet's exchanges each make the same small write before their transaction (a runner's
lease renewed on arrival). Made one by one, hundreds of them run at once in the database
beside the workflow's transactions, and the embedded server, which runs commands in
threads of one Python process, shares its time among all of them: the transactions that
every exchange waits for slowed tenfold (`python -m bench --only fleet`). Here the calls of
a kind that arrive while one batch is being served wait and are served by the next, a
batch at a time, so a kind keeps at most one command in the database however many
requests arrive, and its cost per request falls as they grow.

This is this process's batching alone: what a batch writes must be as correct for each
item as the command it replaces would have been.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

#: Most items one batch serves.
BATCH_MAX = 500

Serve = Callable[[Any, list[Any]], Awaitable[list[Any]]]


class Batches:
    """The waiting items of each kind and the task serving them (one per `Database`, that is per event loop)."""

    def __init__(self) -> None:
        self._waiting: dict[Hashable, list[tuple[Any, asyncio.Future]]] = {}
        self._leaders: dict[Hashable, asyncio.Task] = {}
        #: Batches served, for diagnostics and tests.
        self.served = 0

    async def together(self, db: Any, kind: Hashable, item: Any, serve: Serve) -> Any:
        """`serve(db, items)[i]` for this item, served with the others of `kind` waiting at the same time.

        `serve` answers with one result per item, in order; an exception it raises reaches
        every item of its batch, and a result that is an exception reaches only its own item.
        """
        waiter: asyncio.Future = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(kind, []).append((item, waiter))
        leader = self._leaders.get(kind)
        if leader is None or leader.done():
            self._leaders[kind] = asyncio.ensure_future(self._lead(db, kind, serve))
        return await asyncio.shield(waiter)

    async def _lead(self, db: Any, kind: Hashable, serve: Serve) -> None:
        while self._waiting.get(kind):
            waiting = self._waiting[kind]
            batch, self._waiting[kind] = waiting[:BATCH_MAX], waiting[BATCH_MAX:]
            self.served += 1
            try:
                results = await serve(db, [item for item, _ in batch])
            except Exception as error:  # noqa: BLE001 - every waiter hears how its batch ended
                for _, waiter in batch:
                    if not waiter.done():
                        waiter.set_exception(error)
                continue
            except BaseException as error:
                for _, waiter in batch:
                    if not waiter.done():
                        waiter.set_exception(error)
                raise
            for (_, waiter), result in zip(batch, results, strict=True):
                if waiter.done():
                    continue
                if isinstance(result, BaseException):
                    waiter.set_exception(result)
                else:
                    waiter.set_result(result)
        self._waiting.pop(kind, None)
