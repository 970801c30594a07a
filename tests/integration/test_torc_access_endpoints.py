"""Torc's access-control calls over plain HTTP, on a server that enforces access control."""

from __future__ import annotations

import uuid

from tests.integration.test_access_walk import http_as
from tests.integration.test_access_walk import walked_server as guarded  # noqa: F401 - the guarded server fixture
from tests.integration.test_auth import users_file  # noqa: F401 - the users file the guarded server reads
from tests.integration.torc_http import http, new_workflow, ok, refused

__all__ = ["http"]  # the fixture


def test_sharing_a_workflow_through_torcs_calls_lets_the_groups_members_use_it(guarded) -> None:  # noqa: F811
    with http_as(guarded, "alice") as alice, http_as(guarded, "bob") as bob, http_as(guarded, "ada") as admin:
        wid = alice.post("/workflows", json={"name": "shared"}).json()["id"]
        name = f"team-{uuid.uuid4().hex[:6]}"
        group = admin.post("/access_groups", json={"name": name}).json()["id"]
        ok(admin.post(f"/access_groups/{group}/members", json={"user": "bob"}))
        ok(admin.post(f"/access_groups/{group}/members", json={"user": "alice", "role": "admin"}))
        members = ok(bob.get(f"/access_groups/{group}/members"))
        assert [(m["user_name"], m["role"]) for m in members["items"]] == [("alice", "admin"), ("bob", "member")]
        assert (members["total_count"], members["has_more"], members["limit"]) == (2, False, 100)
        assert ok(bob.get(f"/access_groups/{group}/members", params={"offset": 1, "limit": 1}))["items"][0][
            "user_name"] == "bob"  # fmt: skip
        assert name in [g["name"] for g in ok(bob.get("/users/bob/groups"))["items"]]
        refused(bob.get("/users/alice/groups"), 403, "alice's groups")
        assert name in [g["name"] for g in ok(admin.get("/users/alice/groups"))["items"]]
        check = ok(alice.get(f"/access_check/{wid}/bob"))
        assert check == {"has_access": False, "user_name": "bob", "workflow_id": wid}
        refused(bob.post(f"/workflows/{wid}/access_groups", json={"workflow_id": wid, "group_id": group}), 403)
        link = ok(alice.post(f"/workflows/{wid}/access_groups", json={"workflow_id": wid, "group_id": group}))
        assert (link["workflow_id"], link["group_id"]) == (wid, group)
        assert ok(alice.get(f"/access_check/{wid}/bob"))["has_access"] is True
        assert [g["id"] for g in ok(bob.get(f"/workflows/{wid}/access_groups"))["items"]] == [group]
        ok(bob.get(f"/workflows/{wid}/is_complete"))  # shared: bob may use it now
        ok(alice.delete(f"/workflows/{wid}/access_groups/{group}"))
        refused(bob.get(f"/workflows/{wid}/is_complete"), 403)
        assert ok(alice.get(f"/workflows/{wid}/access_groups"))["items"] == []


def test_torcs_access_calls_refuse_bad_input(guarded) -> None:  # noqa: F811
    with http_as(guarded, "alice") as alice, http_as(guarded, "bob") as bob:
        wid = alice.post("/workflows", json={"name": "mine"}).json()["id"]
        other = alice.post("/workflows", json={"name": "also-mine"}).json()["id"]
        refused(alice.post(f"/workflows/{wid}/access_groups", json={"workflow_id": other, "group_id": 1}), 422,
                "must be of one workflow")  # fmt: skip
        refused(alice.post(f"/workflows/{wid}/access_groups", json={"workflow_id": wid, "group_id": 10**12}), 404,
                "access_group")  # fmt: skip
        refused(alice.post(f"/workflows/{wid}/access_groups", json={"workflow_id": wid}), 400, "group_id")
        refused(alice.get(f"/access_groups/{10**12}/members"), 404, "access_group")
        refused(alice.get(f"/access_groups/1/members", params={"limit": 0}), 400, "limit")
        refused(bob.get(f"/access_check/{wid}/bob"), 403)
        refused(alice.get(f"/access_check/{10**12}/bob"), 404, "workflow")


def test_sharing_names_one_workflow_in_path_and_body_without_access_control_too(http) -> None:
    wid, other = new_workflow(http), new_workflow(http, "other")
    refused(http.post(f"/workflows/{wid}/access_groups", json={"workflow_id": other, "group_id": 1}), 422,
            "path says")  # fmt: skip
    assert ok(http.get(f"/access_check/{wid}/anyone")) == {"has_access": False, "user_name": "anyone",
                                                           "workflow_id": wid}  # fmt: skip
