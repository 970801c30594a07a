"""The wire records of access control: access groups, their members and the workflows shared with them."""

from __future__ import annotations

from msgspec import Struct

from torc_client.contract.base import Name, Record


class AccessGroup(Record):
    """A named set of users; the workflows linked to it are theirs to use too."""

    id: int
    name: str
    description: str | None = None
    #: user -> role (`member`, or `admin`: may change the members)
    members: dict[str, str] = {}
    workflow_ids: list[int] = []
    created_at: str = ""


class AccessGroupCreate(Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    description: str | None = None


class MemberChange(Struct, kw_only=True, forbid_unknown_fields=True):
    user: Name
    role: str = "member"


class AccessCheck(Record):
    workflow_id: int
    user: str
    allowed: bool
