"""The Client's calls for access groups (servers with `--enforce-access-control`); `Client` inherits them."""

from __future__ import annotations

from typing import Any

from torc_client.contract import access as a


class AccessGroupCalls:
    """Access groups: who may use which workflows. Needs the `request` method of `Client`."""

    request: Any

    def create_access_group(self, name: str, description: str | None = None) -> a.AccessGroup:
        return self.request("POST", "/access_groups", a.AccessGroup,
                            body=a.AccessGroupCreate(name=name, description=description))

    def list_access_groups(self) -> list[a.AccessGroup]:
        return self.request("GET", "/access_groups", list[a.AccessGroup])

    def delete_access_group(self, group_id: int) -> a.AccessGroup:
        return self.request("DELETE", f"/access_groups/{group_id}", a.AccessGroup)

    def add_group_member(self, group_id: int, user: str, role: str = "member") -> a.AccessGroup:
        return self.request("POST", f"/access_groups/{group_id}/members", a.AccessGroup,
                            body=a.MemberChange(user=user, role=role))

    def remove_group_member(self, group_id: int, user: str) -> a.AccessGroup:
        return self.request("DELETE", f"/access_groups/{group_id}/members/{user}", a.AccessGroup)

    def share_workflow(self, group_id: int, workflow_id: int) -> a.AccessGroup:
        return self.request("POST", f"/access_groups/{group_id}/workflows/{workflow_id}", a.AccessGroup)

    def unshare_workflow(self, group_id: int, workflow_id: int) -> a.AccessGroup:
        return self.request("DELETE", f"/access_groups/{group_id}/workflows/{workflow_id}", a.AccessGroup)

    def check_access(self, workflow_id: int, user: str) -> a.AccessCheck:
        return self.request("GET", f"/access_groups/check/{workflow_id}/{user}", a.AccessCheck)
