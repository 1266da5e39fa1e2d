"""API keys for `docent serve`: made by `docent keys create LABEL`, shown once, kept in the workspace as a hash.

A key is 32 random bytes (`secrets`), so a fast hash is enough to keep it: SHA-256 of a random 256-bit key
cannot be reversed or guessed, unlike a person's password, which needs a slow hash (access.py). A fast hash
lets every request be checked in microseconds, before anything else is read.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
from datetime import datetime, timezone

from ingest import store
from ingest.records import ApiKey

PREFIX = "docent-"
LABEL = re.compile(r"^[\w.@' -]{1,64}$")


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create(db: sqlite3.Connection, label: str, person: str | None = None) -> str:
    """A new key for `label`, answering as `person` (None = the workspace's owner), stored as its hash; the key
    itself is returned to be shown once."""
    label = label.strip()
    if person is not None and store.person(db, person) is None:
        raise ValueError(f"{person!r} is not a person of this workspace: add them first (docent users add {person})")
    if not LABEL.match(label):
        raise ValueError(
            f"the label {label!r} must be 1 to 64 letters, digits, spaces or . _ - @ ': say who or what uses the key"
        )
    key = PREFIX + secrets.token_urlsafe(32)
    store.add_key(db, ApiKey(label, digest(key), key[: len(PREFIX) + 4], _now(), person=person))
    store.audit(db, "", "key-create", {"label": label, "person": person}, _now())
    return key


def check(db: sqlite3.Connection, key: str) -> ApiKey | None:
    """The key's record when it is a key of this workspace that was not revoked; None otherwise."""
    if not key.startswith(PREFIX) or len(key) > 200:
        return None
    return store.active_key(db, digest(key))


def revoke(db: sqlite3.Connection, label: str) -> None:
    if not store.revoke_key(db, label.strip(), _now()):
        raise ValueError(f"no key in use is labelled {label!r}: `docent keys list` shows them")
    store.audit(db, "", "key-revoke", {"label": label.strip()}, _now())


def any_active(db: sqlite3.Connection) -> bool:
    return any(k.revoked_at is None for k in store.api_keys(db))


def required(db: sqlite3.Connection) -> bool:
    """Whether requests need a key: once a workspace has had one. Revoking the last key locks the API; it never
    opens it again."""
    return store.has_keys(db)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
