"""Access groups: named sets of users with which workflows are shared (`--enforce-access-control`).

A group document holds its members (user -> role, `member` or `admin`) and the ids of
the workflows linked to it. A user may use a workflow they own, one linked to a group
they belong to, or any workflow if they are an admin user of the server. Only admin
users create and delete groups; admins and a group's own `admin` members change its
members; a workflow's owner (or an admin) links it to a group.
"""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from api.storage.db import Database, iso_now
from torc_client.contract import AccessGroup
from torc_client.core.errors import Conflict, Forbidden, InvalidRequest, NotFound

ROLES = ("member", "admin")


def to_record(doc: dict[str, Any]) -> AccessGroup:
    return AccessGroup(id=doc["_id"], name=doc["name"], description=doc.get("description"),
                       members=dict(sorted(doc["members"].items())), workflow_ids=sorted(doc["workflows"]),
                       created_at=doc["created_at"])  # fmt: skip


async def groups_of(db: Database, user: str) -> list[dict[str, Any]]:
    return [doc async for doc in db.access_groups.find({f"members.{user}": {"$exists": True}})]


async def may_use(db: Database, wf: dict[str, Any], user: str | None, admins: frozenset[str]) -> bool:
    """Whether `user` may use the workflow document `wf` (which has at least `user`)."""
    if user is None:
        return False
    if user in admins or wf.get("user") == user:
        return True
    return any(wf["_id"] in g["workflows"] for g in await groups_of(db, user))


async def visible_filter(db: Database, user: str) -> dict[str, Any]:
    """The workflows `user` may see: their own and those shared with their groups."""
    shared = sorted({wid for g in await groups_of(db, user) for wid in g["workflows"]})
    return {"$or": [{"user": user}, {"_id": {"$in": shared}}]}


async def create(db: Database, caller: str | None, admins: frozenset[str], name: str,
                 description: str | None) -> AccessGroup:  # fmt: skip
    _admin_only(caller, admins, "create access groups")
    gid = await db.allocate_ids("access_groups", 1)
    doc = {"_id": gid, "name": name, "description": description, "members": {}, "workflows": [],
           "created_at": iso_now()}  # fmt: skip
    if await db.access_groups.find_one({"name": name}, {"_id": 1}):
        raise Conflict(f"an access group named {name!r} exists")
    try:
        await db.access_groups.insert_one(doc)
    except DuplicateKeyError:
        raise Conflict(f"an access group named {name!r} exists") from None
    return to_record(doc)


async def sharing(db: Database, wid: int, member: str | None) -> list[AccessGroup]:
    """The groups workflow `wid` is shared with (only those `member` belongs to, unless None)."""
    query: dict[str, Any] = {"workflows": wid}
    if member is not None:
        query[f"members.{member}"] = {"$exists": True}
    return [to_record(doc) async for doc in db.access_groups.find(query).sort("_id", 1)]


async def get_doc(db: Database, gid: int) -> dict[str, Any]:
    doc = await db.access_groups.find_one({"_id": gid})
    if doc is None:
        raise NotFound("access_group", gid)
    return doc


async def list_visible(db: Database, member: str | None) -> list[AccessGroup]:
    """The groups `member` belongs to (every group when None)."""
    query = {} if member is None else {f"members.{member}": {"$exists": True}}
    return [to_record(doc) async for doc in db.access_groups.find(query).sort("_id", 1)]


async def get_visible(db: Database, gid: int, member: str | None) -> AccessGroup:
    """Group `gid`, if `member` belongs to it (or is None); to anyone else it does not exist."""
    doc = await get_doc(db, gid)
    if member is not None and member not in doc["members"]:
        raise NotFound("access_group", gid)
    return to_record(doc)


async def delete(db: Database, caller: str | None, admins: frozenset[str], gid: int) -> AccessGroup:
    _admin_only(caller, admins, "delete access groups")
    doc = await get_doc(db, gid)
    await db.access_groups.delete_one({"_id": gid})
    return to_record(doc)


async def set_member(db: Database, caller: str | None, admins: frozenset[str], gid: int, user: str,
                     role: str | None) -> AccessGroup:  # fmt: skip
    """Add `user` with `role`, or remove them (role None); by an admin user or an `admin` member of the group."""
    doc = await get_doc(db, gid)
    if caller not in admins and doc["members"].get(caller or "") != "admin":
        raise Forbidden(f"only admin users and the group's admin members change the members of {doc['name']!r}")
    if role is not None and role not in ROLES:
        raise InvalidRequest(f"a member's role is one of {', '.join(ROLES)}, not {role!r}")
    if role is None and user not in doc["members"]:
        raise NotFound("access_group member", user)
    change = {"$set": {f"members.{user}": role}} if role else {"$unset": {f"members.{user}": ""}}
    await db.access_groups.update_one({"_id": gid}, change)
    return to_record(await get_doc(db, gid))


async def link(db: Database, caller: str | None, admins: frozenset[str], gid: int, wid: int,
               linked: bool) -> AccessGroup:  # fmt: skip
    """Share workflow `wid` with the group (or stop sharing it); by its owner or an admin user."""
    doc = await get_doc(db, gid)
    wf = await db.workflows.find_one({"_id": wid}, {"user": 1})
    if wf is None:
        raise NotFound("workflow", wid)
    if caller not in admins and wf.get("user") != caller:
        raise Forbidden(f"only the owner of workflow {wid} ({wf.get('user')}) and admin users share it")
    await db.access_groups.update_one({"_id": gid}, {"$addToSet" if linked else "$pull": {"workflows": wid}})
    return to_record(await get_doc(db, doc["_id"]))


def _admin_only(caller: str | None, admins: frozenset[str], what: str) -> None:
    if caller not in admins:
        raise Forbidden(f"only admin users (--admin-user) {what}")
