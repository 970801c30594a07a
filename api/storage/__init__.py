"""The storage layer: the only code that knows MongoDB.

Every filter, update, sort and index lives in this package, and each module exposes
intent (`claim`, `complete`, `release`) rather than raw queries. Documents are
addressed by `_id` or by `$in` over ids already known wherever a path is hot: the
embedded database evaluates a query that matches many documents in Python, so a
hot path must never ask "the first ready job of 100,000" (see docs/design.md).
"""

from api.storage.db import Database

__all__ = ["Database"]
