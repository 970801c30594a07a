"""Helpers for driving the console with Textual's pilot against a real server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual.pilot import Pilot

from tests.console.screens import screen_text

#: Longest wait for the console to show what the server holds (a guard against hanging, not a timing check).
WAIT = 60.0


async def until(pilot: Pilot, check: Callable[[], bool], what: str) -> None:
    """Let the console run until `check()` holds; fails saying `what` never happened."""
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, f"never happened: {what}\n{screen_text(pilot.app)}"
        await pilot.pause(0.05)


def run(scenario) -> None:
    asyncio.run(scenario())
