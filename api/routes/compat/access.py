"""Torc's access-control calls beside `/access_groups`: a group's members, a user's groups, the groups a workflow
is shared with (share, list, stop sharing), and the access check at Torc's path."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.params import Parameter

from api.access import rules
from api.routes.access import admins, scope
from api.routes.params import Offset
from api.storage import Database, groups, workflows
from torc_client.contract import (
    AccessAnswer,
    AccessGroup,
    ListPage,
    Membership,
    TorcAccessGroup,
    WorkflowGroupLink,
)
from torc_client.core.errors import Forbidden, InvalidRequest

#: Torc's page size for these listings.
GroupLimit = Annotated[int, Parameter(ge=1, le=10_000, description="Largest page (at most 10000).")]


class TorcAccessController(Controller):
    tags = ["access_groups"]

    @get("/access_groups/{group_id:int}/members", opt=rules.CALLER)
    async def list_group_members(self, request: Request, db: Database, caller: str | None, group_id: int,
                                 offset: Offset = 0, limit: GroupLimit = 100) -> ListPage[Membership]:  # fmt: skip
        """A group's members and their roles (with access control, to its members and the admin users)."""
        group = await groups.get_visible(db, group_id, scope(request, caller))
        members = [Membership(user_name=user, group_id=group.id, role=role, created_at=group.created_at)
                   for user, role in group.members.items()]  # fmt: skip
        return _page(members, offset, limit)

    @get("/users/{user_name:str}/groups", opt=rules.CALLER)
    async def list_user_groups(self, request: Request, db: Database, caller: str | None, user_name: str,
                               offset: Offset = 0, limit: GroupLimit = 100) -> ListPage[TorcAccessGroup]:  # fmt: skip
        """The groups a user belongs to (with access control, only their own, unless the caller is an admin)."""
        seen_by = scope(request, caller)
        if seen_by is not None and seen_by != user_name:
            raise Forbidden(f"only {user_name} and the admin users list {user_name}'s groups")
        found = [_group(groups.to_record(doc)) for doc in sorted(await groups.groups_of(db, user_name),
                                                                 key=lambda d: d["_id"])]  # fmt: skip
        return _page(found, offset, limit)

    @post("/workflows/{workflow_id:int}/access_groups", status_code=200, opt=rules.WORKFLOW)
    async def add_workflow_to_group(self, request: Request, db: Database, caller: str | None, workflow_id: int,
                                    data: WorkflowGroupLink) -> WorkflowGroupLink:  # fmt: skip
        """Share the workflow with a group (its owner, or an admin user)."""
        if data.workflow_id != workflow_id:
            raise InvalidRequest(f"the body names workflow {data.workflow_id} but the path says {workflow_id}")
        group = await groups.link(db, caller, admins(request), data.group_id, workflow_id, True)
        return WorkflowGroupLink(workflow_id=workflow_id, group_id=group.id, created_at=group.created_at)

    @post("/workflows/{workflow_id:int}/access_groups/{group_id:int}", status_code=200, opt=rules.WORKFLOW)
    async def add_workflow_to_group_by_path(self, request: Request, db: Database, caller: str | None,
                                            workflow_id: int, group_id: int) -> WorkflowGroupLink:  # fmt: skip
        """Share the workflow with a group, both named in the path (its owner, or an admin user)."""
        group = await groups.link(db, caller, admins(request), group_id, workflow_id, True)
        return WorkflowGroupLink(workflow_id=workflow_id, group_id=group.id, created_at=group.created_at)

    @get("/workflows/{workflow_id:int}/access_groups", opt=rules.WORKFLOW)
    async def list_workflow_groups(self, request: Request, db: Database, caller: str | None,
                                   workflow_id: int) -> ListPage[TorcAccessGroup]:  # fmt: skip
        """The groups the workflow is shared with (with access control, those the caller belongs to)."""
        await workflows.get_doc(db, workflow_id)
        found = [_group(g) for g in await groups.sharing(db, workflow_id, scope(request, caller))]
        return _page(found, 0, max(1, len(found)))

    @delete("/workflows/{workflow_id:int}/access_groups/{group_id:int}", status_code=200, opt=rules.WORKFLOW)
    async def remove_workflow_from_group(self, request: Request, db: Database, caller: str | None, workflow_id: int,
                                         group_id: int) -> dict[str, Any]:  # fmt: skip
        """Stop sharing the workflow with a group."""
        await groups.link(db, caller, admins(request), group_id, workflow_id, False)
        return {"workflow_id": workflow_id, "group_id": group_id}

    @get("/access_check/{workflow_id:int}/{user_name:str}", opt=rules.WORKFLOW)
    async def check_workflow_access(self, request: Request, db: Database, workflow_id: int,
                                    user_name: str) -> AccessAnswer:  # fmt: skip
        """Whether a user may use the workflow."""
        wf = await workflows.get_doc(db, workflow_id)
        allowed = await groups.may_use(db, wf, user_name, admins(request))
        return AccessAnswer(has_access=allowed, user_name=user_name, workflow_id=workflow_id)


def _group(group: AccessGroup) -> TorcAccessGroup:
    return TorcAccessGroup(id=group.id, name=group.name, description=group.description, created_at=group.created_at)


def _page(items: list, offset: int, limit: int) -> ListPage:
    shown = items[offset : offset + limit]
    return ListPage(items=shown, offset=offset, limit=limit, total_count=len(items),
                    has_more=offset + len(shown) < len(items))  # fmt: skip
