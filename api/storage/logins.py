"""Failed logins, counted per user and per address, so that passwords cannot be guessed at speed.

Each key (`user:NAME`, `address:IP`) has one document: the failures in its current window
and when that window began. Once a key has `limit` failures in a window, logins for it are
refused until the window ends, whatever the password; a password verified before (and still
remembered by the API process) keeps working. Kept in the database, so every API process
counts the same failures.
"""

from __future__ import annotations

import time

from pymongo.errors import DuplicateKeyError

from api.storage.db import Database


async def locked_until(db: Database, keys: list[str], limit: int, window: float) -> float | None:
    """When the lockout of the first locked key among `keys` ends (None: none is locked)."""
    now = time.time()
    async for doc in db.login_failures.find({"_id": {"$in": keys}}):
        if doc["count"] >= limit and doc["since"] + window > now:
            return doc["since"] + window
    return None


async def record_failure(db: Database, keys: list[str], window: float) -> None:
    """Count one failed login against each key, starting a new window where the last one ended."""
    now = time.time()
    for key in keys:
        fresh = await db.login_failures.update_one({"_id": key, "since": {"$lte": now - window}},
                                                   {"$set": {"count": 1, "since": now}})  # fmt: skip
        if fresh.matched_count:
            continue
        try:
            await db.login_failures.update_one({"_id": key}, {"$inc": {"count": 1}, "$setOnInsert": {"since": now}},
                                               upsert=True)  # fmt: skip
        except DuplicateKeyError:  # a concurrent first failure inserted it: count this one on top
            await db.login_failures.update_one({"_id": key}, {"$inc": {"count": 1}})
