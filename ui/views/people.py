"""People: the workspace's admins add and remove people, set their groups and passwords, grant and revoke groups'
access to collections, rename collections, and read the audit log. The same functions as `docent users`, `docent
grant` and `docent audit` (assistant/people.py), each change logged under the admin's name."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from assistant import people
from ingest import store
from ingest.store import EVERYONE
from ui.common import docent, friendly_errors, viewer

st.title("People and access")
app = docent()
who = viewer()
if not (who.owner or who.admin):  # the page is not listed for them; its address alone opens nothing
    st.error("Managing people and access is for the workspace's admins.")
    st.stop()
workspace, by = app.workspace, who.name


def done(message: str) -> None:
    """Said on the next run of the page, which shows the change."""
    st.session_state.people_done = message
    st.rerun()


if "people_done" in st.session_state:
    st.success(st.session_state.pop("people_done"))
db = app.library.db()
listed = store.people(db)
collections = store.collections(db)
granted = store.grants(db)
groups = sorted({g for p in listed for g in p.groups} | {g for g, _, _ in granted} | {EVERYONE})

st.subheader("People")
if listed:
    rows: list[dict[str, object]] = [
        {
            "name": p.name,
            "admin": "admin" if p.admin else "",
            "groups": ", ".join(p.groups),
            "reads": ", ".join(sorted(store.access_of(db, p.name).collections or ())),
            "password": "set" if p.has_password else "none (single sign-on or API key only)",
            "added": p.created_at,
        }
        for p in listed
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, use_container_width=True)
else:
    st.info("No people yet: add the first below. Everyone added is in the group `everyone`, which reads `general`.")

with st.expander("Add a person"), st.form("add-person", clear_on_submit=True):
    name = st.text_input("Name", help="e.g. alice, or alice@example.com to match single sign-on")
    chosen = st.text_input("Groups", help="comma-separated, e.g. hr, support")
    admin = st.checkbox("Admin", help="manages people, grants and tuning")
    password = st.text_input("Password (optional)", type="password", help="hashed before it is stored")
    if st.form_submit_button("Add", type="primary"):
        with friendly_errors("adding the person"):
            added = people.add_user(
                workspace, name, admin, [g for g in chosen.split(",") if g.strip()], password or None, by=by
            )
            done(f"Added {added.name}.")

if listed:
    with st.expander("Change a person"):
        name = st.selectbox("Person", [p.name for p in listed])
        current = next(p for p in listed if p.name == name)
        with st.form("groups"):
            chosen = st.text_input("Groups", ", ".join(current.groups))
            if st.form_submit_button("Set the groups"):
                with friendly_errors("setting the groups"):
                    people.set_groups(workspace, name, [g for g in chosen.split(",") if g.strip()], by=by)
                    done(f"{name}'s groups are set; they count from the next question.")
        with st.form("password", clear_on_submit=True):
            password = st.text_input("New password", type="password")
            if st.form_submit_button("Set the password") and password:
                with friendly_errors("setting the password"):
                    people.set_password(workspace, name, password, by=by)
                    done(f"{name}'s password is changed.")
        sure = st.checkbox(f"Remove {name}: their groups go and their API keys answer no more")
        if sure and st.button(f"Remove {name}", type="primary"):
            with friendly_errors("removing the person"):
                people.remove_user(workspace, name, by=by)
                done(f"Removed {name}.")

st.subheader("Access to collections")
readers: dict[str, list[str]] = {}
for group, collection, write in granted:
    readers.setdefault(collection, []).append(group + (" (writes too)" if write else ""))
shown: list[dict[str, object]] = [
    {"collection": c, "documents": n, "read by": ", ".join(readers.get(c, [])) or "the owner alone"}
    for c, n in collections.items()
]
st.dataframe(pd.DataFrame(shown), hide_index=True, use_container_width=True)
left, right = st.columns(2)
with left, st.form("grant"):
    group = st.selectbox("Group", groups, accept_new_options=True)
    collection = st.selectbox("Collection", list(collections), accept_new_options=True)
    write = st.checkbox("May add and remove documents too")
    if st.form_submit_button("Grant") and group and collection:
        with friendly_errors("granting"):
            people.grant(workspace, group, collection, write, by=by)
            done(f"{group} now {'reads and writes' if write else 'reads'} {collection}, from the next question.")
with right, st.form("revoke"):
    chosen_grant = st.selectbox("Grant", [f"{g} → {c}" for g, c, _ in granted])
    if st.form_submit_button("Revoke") and chosen_grant:
        group, collection = chosen_grant.split(" → ")
        with friendly_errors("revoking"):
            people.revoke(workspace, group, collection, by=by)
            done(f"{group} no longer reads {collection}, from the next question.")
with st.expander("Rename a collection"), st.form("rename"):
    old = st.selectbox("Collection", list(collections))
    new = st.text_input("New name")
    if st.form_submit_button("Rename") and old and new:
        with friendly_errors("renaming the collection"):
            moved = people.rename_collection(workspace, old, new, by=by)
            done(f"Renamed {old} to {new}: {moved} documents and its grants moved.")

st.subheader("Audit log")
person = st.selectbox("Of", ["everyone", "the owner", *[p.name for p in listed]])
lines = store.audit_log(db, "", None if person == "everyone" else "" if person == "the owner" else person)
if lines:
    st.dataframe(pd.DataFrame(lines[::-1][:500]), hide_index=True, use_container_width=True)
    st.download_button(f"Download all {len(lines)} lines as CSV", pd.DataFrame(lines).to_csv(index=False), "audit.csv")
else:
    st.caption("Nothing logged yet.")
