"""Who may come in: the web app's passwords, kept only as scrypt hashes, and a limit on wrong guesses per address
and per name.

A workspace with people (`docent users add NAME --password`) signs each of them in by name and password, and the
session reads as that person (`store.access_of`). The server's own password, when `docent ui --password` gave one,
signs in the workspace's owner (the name left empty). A session ends after SESSION_IDLE_S without a page view, and
after SESSION_MAX_S in any case.

`docent ui --password` asks for the password twice, refuses an empty one, and hands the server its hash
(DOCENT_PASSWORD_HASH), so the password itself is never in the server's environment or logs. A server started
with a plain DOCENT_PASSWORD hashes it once, when it starts.

Wrong guesses from one address are free up to `free`; after that the address must wait before each further try
(2 s, then 4, 8, ...), and after `lock_after` wrong guesses it is locked out for `lock_s` seconds. A try made while
the address must wait is refused without looking at the password, so it tells the guesser nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ingest import store
from ingest.records import OWNER, Access

MAX_ADDRESSES = 100_000  # records kept at most, about 20 MB
SESSION_IDLE_S = 3600.0  # a session unused this long must sign in again
SESSION_MAX_S = 12 * 3600.0  # and any session after this long: a working day
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}  # 38 ms a check here: slow for a guesser, quick for a person


def hash_password(password: str) -> str:
    if not password:
        raise ValueError("an empty password would leave the web app open to anyone; give one")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify(password: str, stored: str) -> bool:
    kind, _, rest = stored.partition("$")
    salt, _, digest = rest.partition("$")
    if kind != "scrypt" or not salt or not digest:
        return False
    given = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **SCRYPT)
    return hmac.compare_digest(given, bytes.fromhex(digest))


_from_plain: dict[str, str] = {}


def server_secret() -> str | None:
    """The hash the web app checks passwords against, or None when it was started without a password."""
    stored = os.environ.get("DOCENT_PASSWORD_HASH", "")
    if stored:
        return stored
    plain = os.environ.get("DOCENT_PASSWORD", "")
    if not plain:
        return None
    if plain not in _from_plain:  # hashed once per server, not at every page view
        _from_plain.clear()
        _from_plain[plain] = hash_password(plain)
    return _from_plain[plain]


@dataclass
class Record:
    failures: int = 0
    last: float = 0.0  # when the last wrong guess came
    until: float = 0.0  # no try is taken before this time


@dataclass
class Limiter:
    """Wrong guesses per address, in memory (a restart forgets them); one per server process."""

    free: int = 5  # wrong guesses that cost nothing
    lock_after: int = 10  # wrong guesses that lock the address out
    lock_s: float = 900.0  # how long a lock-out lasts; a record is forgotten this long after its last wrong guess
    clock: Callable[[], float] = time.monotonic
    records: dict[str, Record] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, address: str) -> float:
        """Seconds before `address` may try again; 0 when it may try now."""
        with self.lock:
            now = self.clock()
            self._forget(now)
            record = self.records.get(address)
            return max(record.until - now, 0.0) if record else 0.0

    def failed(self, address: str) -> None:
        with self.lock:
            now = self.clock()
            self._forget(now)
            record = self.records.setdefault(address, Record())
            record.failures += 1
            record.last = now
            if record.failures >= self.lock_after:
                record.until = now + self.lock_s
            elif record.failures > self.free:
                record.until = now + 2.0 ** (record.failures - self.free)

    def succeeded(self, address: str) -> None:
        with self.lock:
            self.records.pop(address, None)

    def _forget(self, now: float) -> None:
        for address in [a for a, r in self.records.items() if now - r.last > self.lock_s and now >= r.until]:
            del self.records[address]
        if len(self.records) > MAX_ADDRESSES:  # guesses from a whole address range: the quietest are forgotten
            quietest = sorted(self.records, key=lambda a: self.records[a].last)
            for address in quietest[: len(self.records) - MAX_ADDRESSES // 2]:
                del self.records[address]


LIMITER = Limiter()


_UNKNOWN = hash_password("no one has this password")  # checked for an unknown name, so it takes as long as a known one


def sign_in(
    db: sqlite3.Connection,
    name: str,
    password: str,
    address: str,
    audit: Callable[[str, str, dict[str, str]], None],
    limiter: Limiter | None = None,
) -> Access:
    """The signed-in person's access (the owner's for an empty name and the server's password), or SignInError
    with the sentence to show. Wrong guesses are counted per address and per name, so that neither many names from
    one address nor one name from many addresses guesses freely; a try made while either must wait is refused
    without looking at the password. Every try goes to `audit(who, action, detail)`, the password never."""
    limiter = limiter or LIMITER
    name = name.strip()
    keys = [address, "name:" + name.lower()]
    wait = max(limiter.wait(k) for k in keys)
    if wait > 0:
        raise SignInError(f"Too many wrong passwords: try again in {wait:.0f} s.")
    if name:
        stored = store.password_of(db, name)
        right = verify(password, stored or _UNKNOWN) and stored is not None
    else:
        secret = server_secret()
        right = secret is not None and verify(password, secret)
    if not right:
        for k in keys:
            limiter.failed(k)
        audit(name, "sign-in-failed", {"address": address})
        raise SignInError("That name and password do not match." if name else "That password is not right.")
    for k in keys:
        limiter.succeeded(k)
    audit(name, "sign-in", {"address": address})
    return store.access_of(db, name) if name else OWNER


def single_sign_on(db: sqlite3.Connection, email: str, audit: Callable[[str, str, dict[str, str]], None]) -> Access:
    """The access of the person the identity provider vouched for (Streamlit's st.login, OIDC): the person of this
    workspace named by that address. The provider says who someone is; what they may read is still the workspace's
    grants, so an address with no person here is refused."""
    found = {p.name.lower(): p.name for p in store.people(db)}.get(email.strip().lower())
    if found is None:
        audit(email, "sign-in-failed", {"via": "single sign-on"})
        raise SignInError(
            f"{email} signed in with single sign-on but is not a person of this workspace: an admin adds them "
            f"with `docent users add {email}`"
        )
    audit(found, "sign-in", {"via": "single sign-on"})
    return store.access_of(db, found)


class SignInError(ValueError):
    """A sign-in refused; the message is what to show."""


def has_accounts(db: sqlite3.Connection) -> bool:
    """Whether people sign in by name: once any person has a password, no session reads without signing in."""
    return any(p.has_password for p in store.people(db))


def expired(signed_at: float, last_seen: float, now: float) -> bool:
    return now - last_seen > SESSION_IDLE_S or now - signed_at > SESSION_MAX_S
