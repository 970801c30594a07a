"""Collect the problems of a spec so that all of them are reported at once, each with its location."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from torc_client.core.errors import SpecError

T = TypeVar("T")


class Problems:
    """SpecErrors gathered while a spec is checked; `raise_any()` raises them as one."""

    def __init__(self) -> None:
        self.errors: list[SpecError] = []

    def add(self, error: SpecError) -> None:
        self.errors.append(error)

    def attempt(self, check: Callable[..., T], *args: Any, default: T | None = None) -> T | None:
        """`check(*args)`, or `default` after recording the SpecError it raised."""
        try:
            return check(*args)
        except SpecError as error:
            self.errors.append(error)
            return default

    def raise_any(self) -> None:
        if self.errors:
            raise SpecError.combine(self.errors)
