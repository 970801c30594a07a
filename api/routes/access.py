"""Access groups (`--enforce-access-control`): who shares which workflows, and an access check."""

from __future__ import annotations

from litestar import Controller, Request, delete, get, post

from api.access import rules
from api.storage import Database, groups, workflows
from torc_client.contract import (
    AccessCheck,
    AccessGroup,
    AccessGroupCreate,
    MemberChange,
)


def admins(request: Request) -> frozenset[str]:
    return request.app.state.admin_users


def scope(request: Request, caller: str | None) -> str | None:
    """The user whose groups a caller sees (None: every group, for admins and servers without access control)."""
    state = request.app.state
    return caller or "" if state.enforce_access and caller not in state.admin_users else None


class AccessGroupController(Controller):
    path = "/access_groups"
    tags = ["access_groups"]

    @post("/", status_code=200, opt=rules.CALLER)
    async def create_access_group(self, request: Request, db: Database, caller: str | None,
                                  data: AccessGroupCreate) -> AccessGroup:  # fmt: skip
        """Create a group (admin users only)."""
        return await groups.create(db, caller, admins(request), data.name, data.description)

    @get("/", opt=rules.CALLER)
    async def list_access_groups(self, request: Request, db: Database, caller: str | None) -> list[AccessGroup]:
        """The groups, with their members and workflows: with access control, only those the caller belongs to."""
        return await groups.list_visible(db, scope(request, caller))

    @get("/{group_id:int}", opt=rules.CALLER)
    async def get_access_group(self, request: Request, db: Database, caller: str | None,
                               group_id: int) -> AccessGroup:  # fmt: skip
        """One group (with access control, to its members and the admin users)."""
        return await groups.get_visible(db, group_id, scope(request, caller))

    @delete("/{group_id:int}", status_code=200, opt=rules.CALLER)
    async def delete_access_group(self, request: Request, db: Database, caller: str | None,
                                  group_id: int) -> AccessGroup:  # fmt: skip
        """Delete a group (admin users only); the workflows it shared stay with their owners."""
        return await groups.delete(db, caller, admins(request), group_id)

    @post("/{group_id:int}/members", status_code=200, opt=rules.CALLER)
    async def add_member(self, request: Request, db: Database, caller: str | None, group_id: int,
                         data: MemberChange) -> AccessGroup:  # fmt: skip
        """Add a user to a group, or change their role (admin users and the group's admin members)."""
        return await groups.set_member(db, caller, admins(request), group_id, data.user, data.role)

    @delete("/{group_id:int}/members/{user:str}", status_code=200, opt=rules.CALLER)
    async def remove_member(self, request: Request, db: Database, caller: str | None, group_id: int,
                            user: str) -> AccessGroup:  # fmt: skip
        """Remove a user from a group."""
        return await groups.set_member(db, caller, admins(request), group_id, user, None)

    @post("/{group_id:int}/workflows/{workflow_id:int}", status_code=200, opt=rules.CALLER)
    async def share_workflow(self, request: Request, db: Database, caller: str | None, group_id: int,
                             workflow_id: int) -> AccessGroup:  # fmt: skip
        """Share a workflow with a group (its owner, or an admin user)."""
        return await groups.link(db, caller, admins(request), group_id, workflow_id, True)

    @delete("/{group_id:int}/workflows/{workflow_id:int}", status_code=200, opt=rules.CALLER)
    async def unshare_workflow(self, request: Request, db: Database, caller: str | None, group_id: int,
                               workflow_id: int) -> AccessGroup:  # fmt: skip
        """Stop sharing a workflow with a group."""
        return await groups.link(db, caller, admins(request), group_id, workflow_id, False)

    @get("/check/{workflow_id:int}/{user:str}", opt=rules.WORKFLOW)
    async def access_check(self, request: Request, db: Database, workflow_id: int, user: str) -> AccessCheck:
        """Whether `user` may use the workflow."""
        wf = await workflows.get_doc(db, workflow_id)
        allowed = await groups.may_use(db, wf, user, admins(request))
        return AccessCheck(workflow_id=workflow_id, user=user, allowed=allowed)
