"""People, groups and collections: who may read what in a workspace.

A document belongs to one collection (`docent ingest PATH --collection hr`; `general` by default). A person
belongs to groups; a group is granted read (or write) on collections; the built-in group `everyone` holds every
person and reads `general` until that grant is revoked. What a person may read is looked up at each question
(`store.access_of`), so a grant or a revoke counts from the next one, without a restart.

Every change here is written to the audit log in the same transaction as the change itself, under the name of the
admin who made it (`by`; empty for the workspace's owner, as the CLI acts).
"""

from __future__ import annotations

import re
from pathlib import Path

from assistant import access as passwords
from assistant import runs
from ingest import store
from ingest.config import checked_name, collection_name
from ingest.records import Person
from ingest.store import EVERYONE, Workspace

PERSON = re.compile(r"^[A-Za-z0-9][\w.@-]{0,63}$")


def group_name(name: str) -> str:
    return checked_name(name, "group", "hr, support")


def person_name(name: str) -> str:
    name = name.strip()
    if not PERSON.match(name):
        raise ValueError(
            f"the name {name!r} must be 1 to 64 letters, digits, '.', '_', '-' or '@', beginning with a letter or "
            "digit: e.g. alice or alice@example.com"
        )
    return name


def add_user(
    workspace: Path,
    name: str,
    admin: bool = False,
    groups: list[str] | None = None,
    password: str | None = None,
    by: str = "",
) -> Person:
    """A new person; `password` (hashed here, never kept) lets them sign in to the web app."""
    name = person_name(name)
    chosen = sorted({group_name(g) for g in groups or []} - {EVERYONE})
    stored = passwords.hash_password(password) if password is not None else None
    with Workspace(workspace).writer() as db:
        store.add_person(db, name, stored, admin, runs.now())
        store.set_groups(db, name, chosen)
        store.audit(db, by, "user-add", {"name": name, "admin": admin, "groups": chosen}, runs.now())
    found = store.person(Workspace(workspace).connect(), name)
    assert found is not None
    return found


def remove_user(workspace: Path, name: str, by: str = "") -> None:
    """The person, their groups, and their API keys go."""
    with Workspace(workspace).writer() as db:
        if not store.remove_person(db, name.strip()):
            raise ValueError(f"{name!r} is not a person of this workspace: `docent users list` shows who is")
        store.audit(db, by, "user-remove", {"name": name.strip()}, runs.now())


def set_groups(workspace: Path, name: str, groups: list[str], by: str = "") -> None:
    chosen = sorted({group_name(g) for g in groups} - {EVERYONE})
    with Workspace(workspace).writer() as db:
        if store.person(db, name) is None:
            raise ValueError(f"{name!r} is not a person of this workspace: `docent users list` shows who is")
        store.set_groups(db, name, chosen)
        store.audit(db, by, "user-groups", {"name": name, "groups": chosen}, runs.now())


def set_password(workspace: Path, name: str, password: str | None, by: str = "") -> None:
    stored = passwords.hash_password(password) if password is not None else None
    with Workspace(workspace).writer() as db:
        if store.person(db, name) is None:
            raise ValueError(f"{name!r} is not a person of this workspace: `docent users list` shows who is")
        store.set_password(db, name, stored)
        store.audit(db, by, "user-password", {"name": name}, runs.now())  # that it changed; never the password


def grant(workspace: Path, group: str, collection: str, write: bool = False, by: str = "") -> None:
    group, collection = group_name(group), collection_name(collection)
    with Workspace(workspace).writer() as db:
        store.grant(db, group, collection, write)
        store.audit(db, by, "grant", {"group": group, "collection": collection, "write": write}, runs.now())


def revoke(workspace: Path, group: str, collection: str, by: str = "") -> None:
    group, collection = group_name(group), collection_name(collection)
    with Workspace(workspace).writer() as db:
        if not store.revoke(db, group, collection):
            raise ValueError(f"{group} has no grant on {collection}: `docent grant --list` shows the grants")
        store.audit(db, by, "revoke", {"group": group, "collection": collection}, runs.now())


def rename_collection(workspace: Path, old: str, new: str, by: str = "") -> int:
    """Its documents and grants move to the new name; how many documents moved. A run keeps the names it recorded,
    so a run trained on the old name answers only the owner until it is tuned again."""
    old, new = collection_name(old), collection_name(new)
    with Workspace(workspace).writer() as db:
        if old not in store.collections(db):
            raise ValueError(f"there is no collection {old!r}: `docent collections` lists them")
        if new in store.collections(db):
            raise ValueError(f"a collection {new!r} exists already: empty it first, or choose another name")
        moved = store.rename_collection(db, old, new)
        store.audit(db, by, "collection-rename", {"from": old, "to": new, "documents": moved}, runs.now())
    return moved


def empty_collection(workspace: Path, name: str, by: str = "") -> int:
    """Removes every document of the collection (with its chunks and pairs) from the workspace and its index."""
    from ingest.pipeline import remove

    name = collection_name(name)
    db = Workspace(workspace).connect()
    if name not in store.collections(db):
        raise ValueError(f"there is no collection {name!r}: `docent collections` lists them")
    removed = remove(workspace, store.documents_in(db, name))
    with Workspace(workspace).writer() as db:
        store.audit(db, by, "collection-empty", {"collection": name, "documents": removed}, runs.now())
    return removed
