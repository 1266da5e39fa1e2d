"""Docent's web app: `docent ui` starts it (Streamlit). Pages: Chat, Compare, Documents, Tune, Evaluate.

The app only calls Docent's own functions (`assistant.service.Docent`); models load once per server.

The pages live in `ui/views/`, not in the `pages/` folder Streamlit would serve by itself: every address goes through
this script, which lists the pages only for a signed-in session. Before sign-in the only page is the password form,
whatever address was opened, and `docent()` (ui/common.py), which every page needs to read the workspace, stops
any page that is run without a sign-in.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from assistant import access
from ui.common import docent, friendly_errors, signed_in, workspace

HERE = Path(__file__).resolve().parent

st.set_page_config(page_title="Docent", page_icon=":material/menu_book:", layout="wide")


def sign_in() -> None:
    """The password form; wrong guesses from one address slow down, then lock it out (assistant/access.py)."""
    st.title("Docent")
    address = st.context.ip_address  # None for the machine itself
    address = address if isinstance(address, str) else "localhost"
    with st.form("sign-in"):
        given = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    wait = access.LIMITER.wait(address)
    if wait > 0:
        st.error(f"Too many wrong passwords from your address: try again in {wait:.0f} s.")
        return
    secret = access.server_secret()
    if secret is not None and access.verify(given, secret):
        access.LIMITER.succeeded(address)
        st.session_state.signed_in = True
        st.rerun()
    access.LIMITER.failed(address)
    st.error("That password is not right.")


VIEWS = HERE / "views"
PAGES = [  # (file in ui/views, title, icon); the first is the default
    ("chat", "Chat", ":material/chat:"),
    ("compare", "Compare", ":material/view_column:"),
    ("documents", "Documents", ":material/folder_open:"),
    ("tune", "Tune", ":material/model_training:"),
    ("evaluate", "Evaluate", ":material/analytics:"),
]

if not signed_in():  # every page's address shows the password form, then the page that was asked for
    locked = [st.Page(sign_in, title="Sign in", url_path=name, default=i == 0) for i, (name, _, _) in enumerate(PAGES)]
    st.navigation(locked, position="hidden").run()
    st.stop()

pages = [
    st.Page(str(VIEWS / f"{name}.py"), title=title, icon=icon, default=i == 0)
    for i, (name, title, icon) in enumerate(PAGES)
]
page = st.navigation(pages)
with st.sidebar:
    st.markdown(f"### Docent\n`{workspace().name}` workspace")
    with friendly_errors("reading the workspace"):
        status = docent().library.status()
        st.caption(f"{status['documents']} documents · {status['chunks']} chunks · {status['pairs']} Q&A pairs")
        run = status["run"]
        st.caption(f"Tuned model: run {run.id}" if run else "Not tuned yet")
        if status["unseen"]:
            st.warning(f"The tuned model has not seen {len(status['unseen'])} new or changed documents.")
page.run()
