"""Requests served together outside transactions (`api.storage.batches`), played step by step in one event loop."""

from __future__ import annotations

import asyncio

import pytest

from api.storage.batches import Batches


class Server:
    """A serve function that records each batch and answers each item with its double; it waits on `gate`."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self, db: object, items: list[int]) -> list[object]:
        self.batches.append(list(items))
        await self.gate.wait()
        if -1 in items:
            raise RuntimeError("the whole batch failed")
        return [ValueError(f"item {i} refused") if i == 13 else 2 * i for i in items]


def test_items_arriving_while_a_batch_is_served_go_together_into_the_next() -> None:
    async def scenario():
        batches, server = Batches(), Server()
        server.gate.clear()
        first = asyncio.ensure_future(batches.together(None, "k", 1, server))
        await asyncio.sleep(0)  # the first batch is being served, and waits
        rest = [asyncio.ensure_future(batches.together(None, "k", i, server)) for i in (2, 3, 4)]
        other = asyncio.ensure_future(batches.together(None, "other kind", 5, server))
        await asyncio.sleep(0)
        server.gate.set()
        return await asyncio.gather(first, *rest, other), server.batches, batches.served

    answers, served, count = asyncio.run(scenario())
    assert answers == [2, 4, 6, 8, 10]
    assert sorted(served) == [[1], [2, 3, 4], [5]] and count == 3


def test_a_failed_batch_fails_its_items_only_and_an_item_refused_fails_alone() -> None:
    async def scenario():
        batches, server = Batches(), Server()
        server.gate.clear()
        first = asyncio.ensure_future(batches.together(None, "k", -1, server))
        await asyncio.sleep(0)
        later = [asyncio.ensure_future(batches.together(None, "k", i, server)) for i in (12, 13)]
        await asyncio.sleep(0)
        server.gate.set()
        return await asyncio.gather(first, *later, return_exceptions=True)

    failed, twelve, thirteen = asyncio.run(scenario())
    assert isinstance(failed, RuntimeError) and str(failed) == "the whole batch failed"
    assert twelve == 24
    assert isinstance(thirteen, ValueError) and str(thirteen) == "item 13 refused"


def test_a_batch_never_exceeds_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from api.storage import batches as module

    monkeypatch.setattr(module, "BATCH_MAX", 3)

    async def scenario():
        batches, server = Batches(), Server()
        server.gate.clear()
        tasks = [asyncio.ensure_future(batches.together(None, "k", i, server)) for i in range(8)]
        await asyncio.sleep(0)
        server.gate.set()
        return await asyncio.gather(*tasks), server.batches

    answers, served = asyncio.run(scenario())
    assert answers == [2 * i for i in range(8)]
    assert served == [[0, 1, 2], [3, 4, 5], [6, 7]]
