"""The CLI's commands for people, grants, collections and the audit log (cli.py lists them with the others).

    docent users add alice --groups hr --password     a person, her groups, a password for the web app
    docent grant hr hr                                 the group hr reads the collection hr (--write: and changes it)
    docent revoke everyone general                     general is no longer for everyone
    docent collections                                 the collections, their documents, who reads them
    docent audit --since 2026-12-01                    who asked what, signed in, granted and revoked

The CLI acts as the workspace's owner: whoever may run it on the workspace's folder owns the files anyway. `--user
NAME` on search, ask, eval, pairs and runs shows what that person would see.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys

from assistant import people
from ingest import store
from ingest.config import workspace_path
from ingest.records import OWNER, Access
from ingest.store import Workspace


def acting_as(args: argparse.Namespace) -> Access:
    """`--user NAME`: what that person may read, looked up now; the workspace's owner without it."""
    name = getattr(args, "user", None)
    if not name:
        return OWNER
    return store.access_of(Workspace(workspace_path(args.workspace)).connect(), name.strip())


def cmd_users(args: argparse.Namespace) -> int:
    workspace = workspace_path(args.workspace)
    if args.action != "list" and not args.name:
        raise SystemExit(f"docent users {args.action}: give the person's NAME, e.g. docent users {args.action} alice")
    groups = [g for g in (args.groups or "").split(",") if g.strip()]
    if args.action == "add":
        password = new_password(f"Password for {args.name} (the web app's sign-in): ") if args.password else None
        added = people.add_user(workspace, args.name, args.admin, groups, password)
        print(f"added {added.name}{' (admin)' if added.admin else ''}, groups: {', '.join(added.groups) or 'none'}")
    elif args.action == "remove":
        people.remove_user(workspace, args.name)
        print(f"removed {args.name.strip()}; their API keys answer no more")
    elif args.action == "groups":
        people.set_groups(workspace, args.name, groups)
        print(f"{args.name.strip()} is now in: {', '.join(sorted(groups)) or 'no group but everyone'}")
    elif args.action == "password":
        people.set_password(workspace, args.name, new_password(f"New password for {args.name}: "))
        print(f"{args.name.strip()}'s password is changed")
    else:
        db = Workspace(workspace).connect(create=True)
        listed = store.people(db)
        for p in listed:
            readable = sorted(store.access_of(db, p.name).collections or ())
            flags = ("admin " if p.admin else "") + ("password" if p.has_password else "no password")
            print(
                f"{p.name:24s} groups: {', '.join(p.groups) or '-':20s} reads: {', '.join(readable) or '-':24s} {flags}"
            )
        if not listed:
            print("no people yet: `docent users add NAME --groups GROUP` adds one")
    return 0


def cmd_grant(args: argparse.Namespace) -> int:
    workspace = workspace_path(args.workspace)
    if args.list or not args.group:
        for group, collection, write in store.grants(Workspace(workspace).connect(create=True)):
            print(f"{group:20s} {'reads and writes' if write else 'reads':16s} {collection}")
        return 0
    if not args.collection:
        raise SystemExit("docent grant: give the GROUP and the COLLECTION, e.g. docent grant hr hr")
    people.grant(workspace, args.group, args.collection, args.write)
    print(f"{args.group} now {'reads and writes' if args.write else 'reads'} {args.collection}, from the next question")
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    people.revoke(workspace_path(args.workspace), args.group, args.collection)
    print(f"{args.group} no longer reads {args.collection}, from the next question")
    return 0


def cmd_collections(args: argparse.Namespace) -> int:
    workspace = workspace_path(args.workspace)
    if args.action == "rename":
        if len(args.names) != 2:
            raise SystemExit("docent collections rename: give the OLD and the NEW name")
        moved = people.rename_collection(workspace, *args.names)
        print(f"renamed {args.names[0]} to {args.names[1]}: {moved} documents and its grants moved")
    elif args.action == "empty":
        if len(args.names) != 1:
            raise SystemExit("docent collections empty: give the collection's NAME")
        print(f"removed {people.empty_collection(workspace, args.names[0])} documents of {args.names[0]}")
    else:
        db = Workspace(workspace).connect(create=True)
        readers: dict[str, list[str]] = {}
        for group, collection, write in store.grants(db):
            readers.setdefault(collection, []).append(group + (" (write)" if write else ""))
        for name, n in store.collections(db).items():
            print(f"{name:24s} {n:5d} documents   read by: {', '.join(readers.get(name, [])) or 'the owner alone'}")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    db = Workspace(workspace_path(args.workspace)).connect()
    lines = store.audit_log(db, args.since or "", args.user.strip() if args.user else None)
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(open(args.out, "w", encoding="utf-8", newline="")) if args.out else sys.stdout
        writer = csv.writer(out)
        if args.format == "csv":
            writer.writerow(["at", "who", "action", "detail"])
        for line in lines:
            detail = {k: v for k, v in line.items() if k not in ("at", "who", "action")}
            if args.format == "jsonl":
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
            elif args.format == "csv":
                writer.writerow([line["at"], line["who"], line["action"], json.dumps(detail, ensure_ascii=False)])
            else:
                shown = ", ".join(f"{k}={v}" for k, v in detail.items())
                out.write(f"{line['at']}  {line['who'] or '(owner)':16s} {line['action']:16s} {shown}\n")
    if args.out:
        print(f"wrote {len(lines)} lines to {args.out}")
    return 0


def new_password(prompt: str) -> str:
    import getpass

    password = getpass.getpass(prompt)
    if not password:
        raise ValueError("an empty password would leave the web app open to anyone; give one")
    if getpass.getpass("The same password again: ") != password:
        raise ValueError("the two passwords differ; nothing was changed or started")
    return password


def configure(parsers: dict[str, argparse.ArgumentParser]) -> None:
    """The flags of the commands above, and `--user` on the commands that show content."""
    u = parsers["users"]
    u.add_argument("action", nargs="?", default="list", choices=["add", "remove", "list", "groups", "password"])
    u.add_argument("name", nargs="?", help="the person's name, e.g. alice")
    u.add_argument("--admin", action="store_true", help="with add: manages people, grants and tuning runs")
    u.add_argument("--groups", help="with add and groups: comma-separated groups, e.g. hr,support")
    u.add_argument("--password", action="store_true", help="with add: ask for a password for the web app")
    g = parsers["grant"]
    g.add_argument("group", nargs="?", help="a group (everyone holds every person)")
    g.add_argument("collection", nargs="?", help="a collection")
    g.add_argument("--write", action="store_true", help="also add and remove the collection's documents")
    g.add_argument("--list", action="store_true", help="list the grants")
    r = parsers["revoke"]
    r.add_argument("group")
    r.add_argument("collection")
    c = parsers["collections"]
    c.add_argument("action", nargs="?", default="list", choices=["list", "rename", "empty"])
    c.add_argument("names", nargs="*", help="rename: OLD NEW; empty: NAME")
    a = parsers["audit"]
    a.add_argument("--since", help="from this time on (ISO, e.g. 2026-12-01)")
    a.add_argument("--format", default="text", choices=["text", "jsonl", "csv"])
    a.add_argument("--out", help="write to this file")
    a.add_argument("--user", metavar="NAME", help="only this person's lines")
    for name in ("search", "ask", "eval", "pairs", "runs"):
        parsers[name].add_argument(
            "--user", metavar="NAME", help="act as this person: only what they may read (default: the owner)"
        )
