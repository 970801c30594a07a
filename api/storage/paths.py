"""What the server may tell about files on its machine, and to whom.

Initialisation and reinitialisation look at the files a workflow names: whether its
inputs exist, and their modification times. Without access control that is the local,
single-user server, and every path is checked. With `--enforce-access-control`, users
are other people, and a check must not tell anyone whether a path exists that is not
theirs: a path is checked only when the file it names is owned by the OS account of the
workflow's owner (an account of the same name on the server's machine). Any other path
(another user's, the system's, one in a directory the server cannot enter) is left
unchecked, and the answer is the same whether it exists or not. Symbolic links are followed
first: a link in the owner's directory to a path of someone else's is someone else's path.
"""

from __future__ import annotations

import os
import pwd
from enum import Enum
from pathlib import Path


class Unchecked(Enum):
    """A path the server did not check (see the module's rule)."""

    UNCHECKED = "unchecked"


UNCHECKED = Unchecked.UNCHECKED


def resolve_path(path: str, working_dir: str | None) -> Path:
    """A file record's path on this machine: relative paths are relative to the workflow's working directory."""
    p = Path(path).expanduser()
    return p if p.is_absolute() or not working_dir else Path(working_dir) / p


def mtime(path: str, working_dir: str | None, owner: str, private: bool) -> float | None | Unchecked:
    """The file's modification time; None if it does not exist; UNCHECKED if `private` and it is not the owner's."""
    uid = _uid_of(owner) if private else None
    if private and uid is None:
        return UNCHECKED
    resolved = resolve_path(path, working_dir)
    if private:  # where a link leads decides whose the path is, not the directory the link is in
        resolved = Path(os.path.realpath(resolved))
    try:
        st = os.stat(resolved)
    except FileNotFoundError:
        # Missing from a directory of the owner's: theirs to know. Anywhere else, the same answer as a file that is there.
        return None if not private or _nearest_owner(resolved) == uid else UNCHECKED
    except OSError:
        return UNCHECKED if private else None
    if private and st.st_uid != uid:
        return UNCHECKED
    return st.st_mtime


def _nearest_owner(path: Path) -> int | None:
    """The owner of the deepest directory above `path` that exists."""
    for parent in path.parents:
        try:
            return os.stat(parent).st_uid
        except OSError:
            continue
    return None


def _uid_of(user: str) -> int | None:
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        return None
