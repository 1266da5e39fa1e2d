"""Docent's web app: `docent ui` starts it (Streamlit). Pages: Chat, Compare, Documents, Tune, Evaluate, People.

The app only calls Docent's own functions (`assistant.service.Docent`); models load once per server.

The pages live in `ui/views/`, not in the `pages/` folder Streamlit would serve by itself: every address goes through
this script, which lists the pages only for a signed-in session. Before sign-in the only page is the password form,
whatever address was opened, and `docent()` (ui/common.py), which every page needs to read the workspace, stops
any page that is run without a sign-in.
"""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from assistant import access
from ui.common import docent, engine, friendly_errors, sign_out, signed_in, single_sign_on, viewer, workspace

HERE = Path(__file__).resolve().parent

st.set_page_config(page_title="Docent", page_icon=":material/menu_book:", layout="wide")


def sign_in() -> None:
    """The sign-in form: a person's name and password, or the server's password alone for the workspace's owner.
    Wrong guesses per address and per name slow down, then lock out (assistant/access.py)."""
    st.title("Docent")
    address = st.context.ip_address  # None for the machine itself
    address = address if isinstance(address, str) else "localhost"
    app = engine(str(workspace()))
    db = app.library.db()
    if single_sign_on():
        if st.session_state.get("sso_refused"):
            st.error(st.session_state.sso_refused)
        if st.button("Sign in with single sign-on", type="primary"):
            st.session_state.pop("sso_refused", None)
            st.login()
    accounts = access.has_accounts(db)
    if not accounts and access.server_secret() is None:
        return  # single sign-on alone
    with st.form("sign-in"):
        name = st.text_input("Name", help="Leave it empty to sign in as the workspace's owner with the server's "
                             "password") if accounts else ""  # fmt: skip
        given = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    try:
        who = access.sign_in(db, name, given, address, app.library.audit)
    except access.SignInError as err:
        st.error(str(err))
        return
    now = time.time()
    st.session_state.update(signed_in=True, person=who.name, signed_at=now, last_seen=now)
    st.rerun()


VIEWS = HERE / "views"
ADMIN_PAGES = {"tune", "people"}  # tuning trains on every collection; people and grants: for the owner and admins
PAGES = [  # (file in ui/views, title, icon); the first is the default
    ("chat", "Chat", ":material/chat:"),
    ("compare", "Compare", ":material/view_column:"),
    ("documents", "Documents", ":material/folder_open:"),
    ("tune", "Tune", ":material/model_training:"),
    ("evaluate", "Evaluate", ":material/analytics:"),
    ("people", "People", ":material/group:"),
]

if not signed_in():  # every page's address shows the password form, then the page that was asked for
    locked = [st.Page(sign_in, title="Sign in", url_path=name, default=i == 0) for i, (name, _, _) in enumerate(PAGES)]
    st.navigation(locked, position="hidden").run()
    st.stop()

who = viewer()
pages = [
    st.Page(str(VIEWS / f"{name}.py"), title=title, icon=icon, default=i == 0)
    for i, (name, title, icon) in enumerate(PAGES)
    if name not in ADMIN_PAGES or who.owner or who.admin
]
page = st.navigation(pages)
with st.sidebar:
    st.markdown(f"### Docent\n`{workspace().name}` workspace")
    if st.session_state.get("signed_in"):
        st.caption(f"Signed in as {who.shown()}")
        if st.button("Sign out"):
            docent().library.audit(who.name, "sign-out", {})
            sign_out()
            if single_sign_on() and st.user.is_logged_in:
                st.logout()  # the identity cookie too, or the next page view would sign in again
            st.rerun()
    with friendly_errors("reading the workspace"):
        status = docent().library.status(who)
        st.caption(f"{status['documents']} documents · {status['chunks']} chunks · {status['pairs']} Q&A pairs")
        run = status["run"]
        st.caption(f"Tuned model: run {run.id}" if run else "Not tuned yet")
        if status["unseen"]:
            st.warning(f"The tuned model has not seen {len(status['unseen'])} new or changed documents.")
page.run()
