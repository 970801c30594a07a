"""Users and passwords: a server started with --auth-file and --require-auth, used as two users would."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid

import httpx
import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from api.embedded import free_port
from tests.claims.test_http_claims import independent
from tests.conftest import BIN, start_server, stop_server
from torc_client import Client
from torc_client.core.errors import ApiError

PASSWORDS = {"alice": "wonderland-7", "bob": "builder-42", "ada": "lovelace-1815", "root": "the-machine-0",
             "nobody": "no-body-65534"}  # fmt: skip


def htpasswd(*args: str, password: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TORC_PASSWORD"}
    extra = ["--password", password] if password is not None else []
    return subprocess.run([str(BIN / "torc-htpasswd"), *args, *extra], capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def users_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("auth") / "users.htpasswd"
    for user, password in PASSWORDS.items():
        assert htpasswd("add", str(path), user, password=password).returncode == 0
    return path


@pytest.fixture(scope="module")
def auth_server(mongo_uri, users_file, tmp_path_factory):
    server = start_server(mongo_uri, f"torc_auth_{uuid.uuid4().hex[:8]}", tmp_path_factory.mktemp("auth-server"),
                          extra_args=("--auth-file", str(users_file), "--require-auth"))  # fmt: skip
    yield server
    stop_server(server)


def answering(client: Client) -> None:
    """Wait until a server started in the background answers (it is still starting, or its database is)."""
    for _ in range(100):
        try:
            client.ping()
            return
        except ApiError:
            time.sleep(0.1)
    client.ping()


def as_user(server, user: str) -> Client:
    return Client(server.url, user=user, password=PASSWORDS[user])


def test_without_a_password_only_ping_answers(auth_server) -> None:
    assert httpx.get(f"{auth_server.url}/ping").status_code == 200
    response = httpx.get(f"{auth_server.url}/workflows")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="torc"'
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "TORC_PASSWORD" in response.json()["detail"]
    body = response.json()  # Torc's clients read these fields
    assert (body["errorNum"], body["code"], body["errorMessage"]) == (401, 401, body["detail"])
    assert body["error"] == {"error": "Unauthorized", "message": body["detail"]}


def test_a_wrong_password_is_refused_and_changes_nothing(auth_server) -> None:
    with as_user(auth_server, "alice") as alice:
        before = len(alice.list_workflows())
    with Client(auth_server.url, user="alice", password="guess") as mallory:
        with pytest.raises(ApiError) as refused:
            mallory.create_workflow_from_spec(independent(1))
    assert refused.value.status_code == 401 and "wrong user name or password" in refused.value.message
    with as_user(auth_server, "alice") as alice:
        assert len(alice.list_workflows()) == before


def test_a_workflow_belongs_to_the_authenticated_user_not_the_name_sent(auth_server, tmp_path) -> None:
    with as_user(auth_server, "bob") as bob:
        wf = bob.create_workflow_from_spec(independent(1), user="alice", working_dir=str(tmp_path))
        assert wf.user == "bob"
        in_spec = bob.create_workflow_from_spec({**independent(1), "user": "alice"}, working_dir=str(tmp_path))
        assert in_spec.user == "bob"  # nor the `user:` a spec names


def test_cli_and_runner_and_jobs_authenticate_from_the_environment(auth_server, tmp_path) -> None:
    env = {**os.environ, "TORC_API_URL": auth_server.url, "TORC_USER": "alice", "PATH": f"{BIN}:{os.environ['PATH']}"}
    env.pop("TORC_PASSWORD", None)
    spec = tmp_path / "wf.yaml"
    # The job itself calls the API: it must be let in with the runner's credentials, which it inherits.
    spec.write_text("name: authed\njobs:\n  - name: asks\n    command: torc -f json workflows get $TORC_WORKFLOW_ID > seen.json\n")
    refused = subprocess.run([str(BIN / "torc"), "workflows", "list"], env=env, capture_output=True, text=True)
    assert refused.returncode == 1 and "TORC_PASSWORD" in refused.stderr
    env["TORC_PASSWORD"] = PASSWORDS["alice"]
    ran = subprocess.run([str(BIN / "torc"), "run", str(spec), "--poll-interval", "0.2"], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert '"user": "alice"' in (tmp_path / "seen.json").read_text().replace('":"', '": "')
    assert PASSWORDS["alice"] not in ran.stdout + ran.stderr


def test_prompt_password_asks_once_and_lets_the_command_in(auth_server) -> None:
    env = {**os.environ, "TORC_API_URL": auth_server.url, "TORC_USER": "bob"}
    env.pop("TORC_PASSWORD", None)
    listed = subprocess.run([str(BIN / "torc"), "--prompt-password", "workflows", "list"], env=env,
                            input=PASSWORDS["bob"] + "\n", capture_output=True, text=True)  # fmt: skip
    assert listed.returncode == 0, listed.stderr


def test_htpasswd_lists_verifies_and_removes_and_the_server_follows_at_once(auth_server, users_file) -> None:
    assert htpasswd("add", str(users_file), "carol", password="c-pass-1").returncode == 0
    assert htpasswd("list", str(users_file)).stdout.split() == ["ada", "alice", "bob", "carol", "nobody", "root"]
    assert htpasswd("verify", str(users_file), "carol", password="c-pass-1").returncode == 0
    wrong = htpasswd("verify", str(users_file), "carol", password="nope")
    assert wrong.returncode == 1 and "wrong password" in wrong.stderr
    assert oct(users_file.stat().st_mode & 0o777) == "0o600"
    with Client(auth_server.url, user="carol", password="c-pass-1") as carol:
        carol.list_workflows()
        assert htpasswd("remove", str(users_file), "carol").returncode == 0
        with pytest.raises(ApiError) as refused:
            carol.list_workflows()  # the cached check does not outlive the file's change
        assert refused.value.status_code == 401


def test_a_server_refuses_auth_options_that_cannot_work(mongo_uri, tmp_path) -> None:
    bad = tmp_path / "bad.htpasswd"
    bad.write_text("alice:plaintext\n")
    for args, said in ((["--require-auth"], "--require-auth needs --auth-file"),
                       (["--auth-file", str(bad)], "line 1")):  # fmt: skip
        result = subprocess.run([str(BIN / "torc-server"), "--mongo-uri", mongo_uri, "--port", str(free_port()),
                                 *args], capture_output=True, text=True, timeout=60)  # fmt: skip
        assert result.returncode != 0 and said in result.stderr, result.stderr


def test_listening_beyond_loopback_without_auth_is_announced_loudly(mongo_uri, tmp_path) -> None:
    port = free_port()
    process = subprocess.Popen([str(BIN / "torc-server"), "--host", "0.0.0.0", "--port", str(port), "--mongo-uri",
                                mongo_uri, "--database", "torc_open"], stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        first = process.stderr.readline()
        assert first.startswith("WARNING: listening on 0.0.0.0 without --require-auth"), first
    finally:
        process.terminate()
        process.wait(15)
        process.stderr.close()


def test_https_with_a_private_authority_and_its_bundle(mongo_uri, users_file, tmp_path) -> None:
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)  # fmt: skip
    port = free_port()
    process = subprocess.Popen([str(BIN / "torc-server"), "--port", str(port), "--mongo-uri", mongo_uri, "--database",
                                "torc_tls", "--tls-cert", str(cert), "--tls-key", str(key), "--auth-file",
                                str(users_file), "--require-auth"], stderr=subprocess.PIPE, text=True)  # fmt: skip
    url = f"https://127.0.0.1:{port}/torc-service/v1"
    try:
        assert process.stderr.readline().startswith(f"Torc API at {url} (passwords required")
        with Client(url, user="alice", password=PASSWORDS["alice"], ca_bundle=str(cert)) as alice:
            answering(alice)
            assert alice.list_workflows() == []
        with Client(url, user="alice", password=PASSWORDS["alice"]) as unverified, pytest.raises(ApiError):
            unverified.ping()  # the system does not know this authority: the connection is refused, not trusted
        env = {**os.environ, "TORC_API_URL": url, "TORC_USER": "alice", "TORC_PASSWORD": PASSWORDS["alice"]}
        listed = subprocess.run([str(BIN / "torc"), "--ca-bundle", str(cert), "workflows", "list"], env=env,
                                capture_output=True, text=True)  # fmt: skip
        assert listed.returncode == 0, listed.stderr
    finally:
        process.terminate()
        process.wait(15)
        process.stderr.close()


@pytest.fixture(scope="module")
def guarded_server(mongo_uri, users_file, tmp_path_factory):
    # The admins come as a user of the server would set them for a team: comma-separated in the environment.
    server = start_server(mongo_uri, f"torc_acl_{uuid.uuid4().hex[:8]}", tmp_path_factory.mktemp("acl-server"),
                          extra_args=("--auth-file", str(users_file), "--require-auth", "--enforce-access-control"),
                          env={"TORC_ADMIN_USERS": "operator,ada"})  # fmt: skip
    yield server
    stop_server(server)


def http_as(server, user: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, auth=(user, PASSWORDS[user]), timeout=30)


def test_another_users_workflow_cannot_be_read_changed_or_run_and_stays_as_it_was(guarded_server, tmp_path) -> None:
    with as_user(guarded_server, "alice") as alice:
        wf = alice.create_workflow_from_spec(independent(2), working_dir=str(tmp_path))
        job = alice.list_jobs(wf.id)[0]
    node = {"workflow_id": wf.id, "hostname": "h", "pid": 1}
    attempts = [("get", f"/workflows/{wf.id}", None), ("put", f"/workflows/{wf.id}", {"name": "mine"}),
                ("delete", f"/workflows/{wf.id}", None), ("post", f"/workflows/{wf.id}/initialize", None),
                ("get", f"/jobs/{job.id}", None), ("put", f"/jobs/{job.id}", {"command": "rm -rf ~"}),
                ("post", "/jobs", {"workflow_id": wf.id, "name": "extra", "command": "true"}),
                ("get", "/jobs", None), ("get", f"/workflows/{wf.id}/events", None),
                ("post", f"/workflows/{wf.id}/events", {"category": "user", "message": "hi"}),
                ("get", f"/workflows/{wf.id}/events/stream", None), ("post", "/compute_nodes", node),
                ("post", "/user_data", {"workflow_id": wf.id, "name": "x", "data": 1})]  # fmt: skip
    with http_as(guarded_server, "bob") as bob:
        for method, path, body in attempts:
            params = {"workflow_id": wf.id} if path == "/jobs" and method == "get" else None
            response = bob.request(method, path, json=body, params=params)
            assert response.status_code == 403, (method, path, response.text)
            assert "belongs to another user" in response.json()["detail"]
        assert wf.id not in [w["id"] for w in bob.get("/workflows").json()["items"]]
    with as_user(guarded_server, "alice") as alice:
        assert alice.get_workflow(wf.id).name == wf.name
        assert [j.command for j in alice.list_jobs(wf.id)] == ["true", "true"]
        assert len(alice.list_user_data(wf.id)) == 0 and len(alice.list_compute_nodes(wf.id)) == 0


def test_an_admin_reaches_every_workflow_and_owners_run_their_own(guarded_server, tmp_path) -> None:
    env = {**os.environ, "TORC_API_URL": guarded_server.url, "TORC_USER": "alice",
           "TORC_PASSWORD": PASSWORDS["alice"], "PATH": f"{BIN}:{os.environ['PATH']}"}  # fmt: skip
    spec = tmp_path / "own.yaml"
    spec.write_text("name: own\njobs:\n  - name: j\n    command: torc -f json workflows get $TORC_WORKFLOW_ID\n")
    ran = subprocess.run([str(BIN / "torc"), "run", str(spec), "--poll-interval", "0.2"], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    with http_as(guarded_server, "ada") as ada:
        listed = ada.get("/workflows").json()["items"]
        assert "alice" in {w["user"] for w in listed}
        assert ada.get(f"/workflows/{listed[0]['id']}").status_code == 200


def test_a_workflow_shared_with_a_group_is_used_by_its_members_until_unshared(guarded_server, tmp_path) -> None:
    env = {**os.environ, "TORC_API_URL": guarded_server.url, "TORC_USER": "ada", "TORC_PASSWORD": PASSWORDS["ada"]}
    made = subprocess.run([str(BIN / "torc"), "-f", "json", "access-groups", "create", f"team-{uuid.uuid4().hex[:6]}"],
                          env=env, capture_output=True, text=True)  # fmt: skip
    assert made.returncode == 0, made.stderr
    gid = json.loads(made.stdout)["id"]
    added = subprocess.run([str(BIN / "torc"), "access-groups", "add-user", str(gid), "bob"], env=env,
                           capture_output=True, text=True)  # fmt: skip
    assert added.returncode == 0, added.stderr
    with as_user(guarded_server, "alice") as alice, as_user(guarded_server, "bob") as bob:
        wf = alice.create_workflow_from_spec(independent(1), working_dir=str(tmp_path))
        with pytest.raises(ApiError) as refused:
            bob.get_workflow(wf.id)
        assert refused.value.status_code == 403
        with pytest.raises(ApiError) as not_his:
            bob.share_workflow(gid, wf.id)  # only the owner (or an admin) shares a workflow
        assert not_his.value.status_code == 403
        with pytest.raises(ApiError) as no_groups:
            bob.create_access_group("mine")  # only admin users make groups
        assert no_groups.value.status_code == 403
        alice.share_workflow(gid, wf.id)
        assert bob.get_workflow(wf.id).id == wf.id
        assert wf.id in [w.id for w in bob.list_workflows()]
        bob.initialize_workflow(wf.id)  # a member runs it, with a runner of his own
        bob_env = {**os.environ, "TORC_API_URL": guarded_server.url, "TORC_USER": "bob",
                   "TORC_PASSWORD": PASSWORDS["bob"], "PATH": f"{BIN}:{os.environ['PATH']}"}  # fmt: skip
        ran = subprocess.run([str(BIN / "torc"), "run", str(wf.id), "--poll-interval", "0.2"], env=bob_env,
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        assert alice.workflow_status(wf.id).is_complete
        assert bob.check_access(wf.id, "bob").allowed
        alice.unshare_workflow(gid, wf.id)
        with pytest.raises(ApiError) as again:
            bob.get_workflow(wf.id)
        assert again.value.status_code == 403
    checked = subprocess.run([str(BIN / "torc"), "access-groups", "check", str(wf.id), "bob"], env=env,
                             capture_output=True, text=True)  # fmt: skip
    assert checked.returncode == 1


def reader_of(*paths: str) -> dict:
    files = [{"name": f"f{i}", "path": p} for i, p in enumerate(paths)]
    return {"name": "reads", "files": files,
            "jobs": [{"name": "r", "command": "true", "input_files": [f["name"] for f in files]}]}  # fmt: skip


def test_file_checks_answer_owners_about_their_own_files_and_nobody_about_others(guarded_server, tmp_path) -> None:
    # alice has no account on the server's machine: whether a path exists is never hers to learn, there or not.
    with as_user(guarded_server, "alice") as alice:
        answers = []
        for path in ("/etc/shadow", "/etc/no-such-file"):
            wf = alice.create_workflow_from_spec(reader_of(path), working_dir=str(tmp_path))
            answers.append(alice.initialize_workflow(wf.id).warnings)
            assert [f.st_mtime for f in alice.list_files(wf.id)] == [None]
        assert answers[0] == answers[1] and "not checked" in answers[0][0]
    # root owns the files it makes here: it is told as before that one is missing, and its time once it is there.
    mine = tmp_path / "mine.txt"
    with as_user(guarded_server, "root") as root:
        wf = root.create_workflow_from_spec(reader_of(str(mine)), working_dir=str(tmp_path))
        with pytest.raises(ApiError) as missing:
            root.initialize_workflow(wf.id)
        assert missing.value.status_code == 422 and "1 input file that no job produces does not exist" in missing.value.message
        mine.write_text("data")
        root.initialize_workflow(wf.id)
        assert root.list_files(wf.id)[0].st_mtime == pytest.approx(mine.stat().st_mtime)


def test_a_link_in_the_owners_directory_tells_nothing_about_where_it_leads(guarded_server, tmp_path) -> None:
    # `nobody` has an account on the server's machine and owns this directory; /etc is not theirs.
    home = tmp_path / "nobody"
    home.mkdir()
    (home / "to-shadow").symlink_to("/etc/shadow")
    (home / "to-nothing").symlink_to("/etc/shadow_nope")
    (home / "own.txt").write_text("mine")
    for path in (home, *home.iterdir()):
        os.chown(path, 65534, 65534, follow_symlinks=False)
    with as_user(guarded_server, "nobody") as owner:
        answers = []
        for name in ("to-shadow", "to-nothing"):
            wf = owner.create_workflow_from_spec(reader_of(str(home / name)), working_dir=str(home))
            answers.append(owner.initialize_workflow(wf.id).warnings)
        assert answers[0] == answers[1] and "not checked" in answers[0][0]
        wf = owner.create_workflow_from_spec(reader_of(str(home / "own.txt")), working_dir=str(home))
        assert owner.initialize_workflow(wf.id).warnings == []
        assert owner.list_files(wf.id)[0].st_mtime == pytest.approx((home / "own.txt").stat().st_mtime)


def test_a_server_that_requires_passwords_locks_its_embedded_database(users_file, tmp_path) -> None:
    data, port = tmp_path / "data", free_port()
    args = [str(BIN / "torc-server"), "--port", str(port), "--data-dir", str(data), "--auth-file", str(users_file),
            "--require-auth"]  # fmt: skip
    for start in range(2):  # the first start gives the database its user; the second finds it
        process = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
        try:
            said = process.stderr.readline()
            assert "password required: only this server can use it" in said, said
            port_of_db = int(said.split(" at ")[1].split(" ")[0].split(":")[1])
            assert "db-password" not in said and data.joinpath("db-password").read_text().strip() not in said
            with MongoClient(f"mongodb://127.0.0.1:{port_of_db}/?directConnection=true",
                             serverSelectionTimeoutMS=3000) as stranger:  # fmt: skip
                with pytest.raises(OperationFailure, match="requires authentication"):
                    stranger.torc.workflows.find_one()
            url = f"http://127.0.0.1:{port}/torc-service/v1"
            with Client(url, user="alice", password=PASSWORDS["alice"]) as alice:
                answering(alice)
                alice.create_workflow_from_spec(independent(1), working_dir=str(tmp_path))
                assert len(alice.list_workflows()) == start + 1
        finally:
            process.terminate()
            process.wait(30)
            process.stderr.close()
    assert oct(data.stat().st_mode & 0o777) == "0o700"
    assert oct(data.joinpath("db-password").stat().st_mode & 0o777) == "0o600"


def test_the_client_raises_the_servers_own_kinds_of_error(guarded_server, tmp_path) -> None:
    """A 403 is a ForbiddenError (and a Forbidden); a missing record a NotFoundError with its kind and key."""
    from torc_client.core import errors

    with as_user(guarded_server, "alice") as alice:
        wf = alice.create_workflow_from_spec(independent(1), working_dir=str(tmp_path))
    with as_user(guarded_server, "bob") as bob:
        with pytest.raises(errors.ForbiddenError) as refused:
            bob.get_workflow(wf.id)
        assert isinstance(refused.value, errors.Forbidden) and refused.value.status_code == 403
        with pytest.raises(errors.NotFoundError) as missing:
            bob.get_job(2**40)
        assert isinstance(missing.value, errors.NotFound)
        assert (missing.value.kind, missing.value.key) == ("job", 2**40)
    with Client(guarded_server.url, user="alice", password="not-hers") as stranger:
        with pytest.raises(errors.UnauthorizedError):
            stranger.get_workflow(wf.id)
