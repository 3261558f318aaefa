"""Team accounts: who may sign in to `litrev team serve`, with what role.

Passwords are hashed with argon2id (argon2-cffi's PasswordHasher, its default
parameters); only the hash is stored. Failed sign-ins are slowed down per name
in memory (`LoginThrottle`), so guessing a password over HTTP is impractical.
"""

import os
import secrets
import stat
import threading
import time
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlite_utils import Database

from litrev.db import now, write_transaction
from litrev.errors import LitrevError
from litrev.screen.settings import ReviewSettings

ROLES = ("reviewer", "lead")
MIN_PASSWORD = 8
SECRET_ENV = "LITREV_SECRET"
_hasher = PasswordHasher()


class AccountError(LitrevError):
    """A team account command or sign-in that cannot be done as asked."""


def add_member(db: Database, settings: ReviewSettings, name: str, password: str, *,
               lead: bool = False) -> dict[str, Any]:
    """Add a team member; the name must be one review.toml knows (when it lists reviewers)."""
    name = settings.check_reviewer(name)
    check_password(password)
    if find_member(db, name):
        raise AccountError(f"{name!r} is already a team member. Use `litrev team password {name}` "
                           "to change the password, or another name.")
    row = {"name": name, "role": "lead" if lead else "reviewer",
           "password_hash": _hasher.hash(password), "created_at": now()}
    with write_transaction(db):
        db["team_members"].insert(row)
    return row


def remove_member(db: Database, name: str) -> None:
    """Remove an account; the member's decisions stay (they are the review's record)."""
    _require(db, name)
    with write_transaction(db):
        db.execute("delete from team_members where name = ?", [name])


def set_password(db: Database, name: str, password: str) -> None:
    _require(db, name)
    check_password(password)
    with write_transaction(db):
        db.execute("update team_members set password_hash = ? where name = ?",
                   [_hasher.hash(password), name])


def list_members(db: Database) -> list[dict[str, Any]]:
    return list(db.query("select name, role, created_at from team_members order by name"))


def find_member(db: Database, name: str) -> dict[str, Any] | None:
    rows = list(db.query("select * from team_members where name = ?", [name]))
    return rows[0] if rows else None


def check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"The password is shorter than {MIN_PASSWORD} characters. Choose a longer one.")


def password_matches(member: dict[str, Any] | None, password: str) -> bool:
    """Whether `password` is the member's (a missing member costs the same hashing time,
    so the answer's timing does not say whether a name exists)."""
    stored = member["password_hash"] if member else _DUMMY_HASH
    try:
        return _hasher.verify(stored, password or "") and member is not None
    except (VerificationError, InvalidHashError):
        return False


def _require(db: Database, name: str) -> dict[str, Any]:
    member = find_member(db, name)
    if member is None:
        known = ", ".join(m["name"] for m in list_members(db)) or "none yet"
        raise AccountError(f"No team member {name!r} (members: {known}). Check `litrev team list`.")
    return member


_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class LoginThrottle:
    """A slow-down after repeated failed sign-ins for one name.

    After FREE failures, each further attempt must wait 2^(failures - FREE) seconds
    (capped at MAX_WAIT) since the last failure; a success clears the count.
    """

    FREE = 5
    MAX_WAIT = 300.0

    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self.failures: dict[str, tuple[int, float]] = {}
        self.lock = threading.Lock()

    def wait_seconds(self, name: str) -> float:
        with self.lock:
            count, last = self.failures.get(name.lower(), (0, 0.0))
        if count < self.FREE:
            return 0.0
        wait = min(2.0 ** (count - self.FREE), self.MAX_WAIT)
        return max(0.0, last + wait - self.clock())

    def failed(self, name: str) -> None:
        with self.lock:
            count, _ = self.failures.get(name.lower(), (0, 0.0))
            self.failures[name.lower()] = (count + 1, self.clock())

    def succeeded(self, name: str) -> None:
        with self.lock:
            self.failures.pop(name.lower(), None)


def server_secret(db_path: str | Path, given: str | None = None) -> str:
    """The signing secret for session cookies: --secret, $LITREV_SECRET, or one generated
    once and kept next to the database (mode 0600), so sign-ins survive a restart."""
    if given or os.environ.get(SECRET_ENV):
        return given or os.environ[SECRET_ENV]
    path = secret_path(db_path)
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    value = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value + "\n")
    return value


def secret_path(db_path: str | Path) -> Path:
    path = Path(db_path)
    return path.with_name(path.name + ".secret")
