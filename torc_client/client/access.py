"""The Client's calls for access groups (servers with `--enforce-access-control`); `Client` inherits them."""

from __future__ import annotations

from typing import Any

from torc_client import contract as c


class AccessGroupCalls:
    """Access groups: who may use which workflows. Needs the `request` method of `Client`."""

    request: Any

    def create_access_group(self, name: str, description: str | None = None) -> c.AccessGroup:
        return self.request("POST", "/access_groups", c.AccessGroup,
                            body=c.AccessGroupCreate(name=name, description=description))

    def list_access_groups(self) -> list[c.AccessGroup]:
        return self.request("GET", "/access_groups", list[c.AccessGroup])

    def delete_access_group(self, group_id: int) -> c.AccessGroup:
        return self.request("DELETE", f"/access_groups/{group_id}", c.AccessGroup)

    def add_group_member(self, group_id: int, user: str, role: str = "member") -> c.AccessGroup:
        return self.request("POST", f"/access_groups/{group_id}/members", c.AccessGroup,
                            body=c.MemberChange(user=user, role=role))

    def remove_group_member(self, group_id: int, user: str) -> c.AccessGroup:
        return self.request("DELETE", f"/access_groups/{group_id}/members/{user}", c.AccessGroup)

    def share_workflow(self, group_id: int, workflow_id: int) -> c.AccessGroup:
        return self.request("POST", f"/access_groups/{group_id}/workflows/{workflow_id}", c.AccessGroup)

    def unshare_workflow(self, group_id: int, workflow_id: int) -> c.AccessGroup:
        return self.request("DELETE", f"/access_groups/{group_id}/workflows/{workflow_id}", c.AccessGroup)

    def check_access(self, workflow_id: int, user: str) -> c.AccessCheck:
        return self.request("GET", f"/access_groups/check/{workflow_id}/{user}", c.AccessCheck)
