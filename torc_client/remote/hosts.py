"""Worker addresses as Torc writes them: `[user@]host[:port]`, an IPv6 host in brackets (`[::1]:2222`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from torc_client.core.errors import InvalidRequest

_ADDRESS = re.compile(r"^(?:(?P<user>[^@\s\[\]]+)@)?(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^@:\s\[\]]+))"
                      r"(?::(?P<port>\d+))?$")  # fmt: skip


@dataclass(frozen=True)
class Host:
    """One SSH host: the address as written, and its parts."""

    address: str
    host: str
    user: str | None = None
    port: int | None = None

    @property
    def target(self) -> str:
        """What `ssh` is given as the destination (`user@host`)."""
        return f"{self.user}@{self.host}" if self.user else self.host

    @property
    def slug(self) -> str:
        """The address as a file name part (`alice_host_2222`)."""
        return re.sub(r"[^A-Za-z0-9.-]+", "_", self.address).strip("_")


def parse(address: str) -> Host:
    """A Host from `[user@]host[:port]`; InvalidRequest says what is wrong with a bad one."""
    text = address.strip()
    found = _ADDRESS.match(text)
    if found is None:
        raise InvalidRequest(f"worker address {address!r} is not [user@]host[:port] (an IPv6 host in brackets)")
    port = int(found["port"]) if found["port"] else None
    if port is not None and not 1 <= port <= 65535:
        raise InvalidRequest(f"worker address {address!r}: port {port} is not between 1 and 65535")
    return Host(text, found["v6"] or found["host"], found["user"], port)


def parse_file(text: str, source: str = "worker file") -> list[Host]:
    """The hosts of a worker file: one address a line; blank lines and `#` comments are skipped; no duplicates."""
    hosts: list[Host] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            host = parse(line)
        except InvalidRequest as error:
            raise InvalidRequest(f"{source}, line {number}: {error.message}") from None
        if host.address in seen:
            raise InvalidRequest(f"{source}, line {number}: {host.address} is listed twice (also line "
                                 f"{seen[host.address]})")  # fmt: skip
        seen[host.address] = number
        hosts.append(host)
    if not hosts:
        raise InvalidRequest(f"{source} lists no worker addresses")
    return hosts
