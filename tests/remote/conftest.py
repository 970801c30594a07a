"""An sshd started on loopback for the test, with a throwaway host key and an authorized key made here."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.embedded import free_port

SSHD = "/usr/sbin/sshd"
#: Longest wait for sshd to accept connections (a guard against hanging, not a timing check).
START_WAIT = 30.0


@dataclass(frozen=True)
class Sshd:
    port: int
    user: str
    #: Options for every `ssh` call ($TORC_SSH_OPTIONS): this test's key, known hosts and no ~/.ssh/config.
    options: str

    def address(self, host: str) -> str:
        return f"{self.user}@{host}:{self.port}"


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    if not (Path(SSHD).exists() and shutil.which("ssh") and shutil.which("ssh-keygen")):
        missing = "openssh-server is not installed (scripts/install-system.sh installs it)"
        if os.environ.get("CI") or os.environ.get("TORC_REQUIRE_SSHD"):  # `make test` requires it
            pytest.fail(missing)
        pytest.skip(missing)
    home = tmp_path_factory.mktemp("sshd")
    _keygen(home / "host_key")
    _keygen(home / "user_key")
    (home / "authorized_keys").write_text((home / "user_key.pub").read_text())
    port = free_port()
    user = getpass.getuser()
    (home / "sshd_config").write_text(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {home / 'host_key'}
AuthorizedKeysFile {home / 'authorized_keys'}
PidFile {home / 'sshd.pid'}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
""")  # fmt: skip
    (home / "ssh_config").write_text(f"""Host *
    IdentityFile {home / 'user_key'}
    IdentitiesOnly yes
    UserKnownHostsFile {home / 'known_hosts'}
    LogLevel ERROR
""")  # fmt: skip
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
    log = open(home / "sshd.log", "wb")  # noqa: SIM115 - held by the daemon until it stops
    daemon = subprocess.Popen([SSHD, "-D", "-e", "-f", str(home / "sshd_config")], stdout=log, stderr=log)
    deadline = time.monotonic() + START_WAIT
    while True:
        assert daemon.poll() is None, f"sshd exited: {(home / 'sshd.log').read_text()}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, f"sshd never listened: {(home / 'sshd.log').read_text()}"
            time.sleep(0.1)
    yield Sshd(port, user, f"-F {home / 'ssh_config'}")
    daemon.terminate()
    daemon.wait(10)
    log.close()
