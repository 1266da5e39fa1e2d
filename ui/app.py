"""Docent's web app: `docent ui` starts it (Streamlit). Pages: Chat, Compare, Documents, Tune, Evaluate.

The app only calls Docent's own functions (`assistant.service.Docent`); models load once per server.
"""

from __future__ import annotations

import hmac
import os
from pathlib import Path

import streamlit as st

from ui.common import docent, friendly_errors, workspace

HERE = Path(__file__).resolve().parent

st.set_page_config(page_title="Docent", page_icon=":material/menu_book:", layout="wide")


def signed_in() -> bool:
    """When the server was started with a password (DOCENT_PASSWORD), ask for it once per browser session."""
    password = os.environ.get("DOCENT_PASSWORD", "")
    if not password or st.session_state.get("signed_in"):
        return True
    st.title("Docent")
    given = st.text_input("Password", type="password")
    if given:
        if hmac.compare_digest(given.encode(), password.encode()):
            st.session_state.signed_in = True
            st.rerun()
        st.error("That password is not right.")
    return False


if signed_in():
    pages = [
        st.Page(str(HERE / "pages" / "chat.py"), title="Chat", icon=":material/chat:", default=True),
        st.Page(str(HERE / "pages" / "compare.py"), title="Compare", icon=":material/view_column:"),
        st.Page(str(HERE / "pages" / "documents.py"), title="Documents", icon=":material/folder_open:"),
        st.Page(str(HERE / "pages" / "tune.py"), title="Tune", icon=":material/model_training:"),
        st.Page(str(HERE / "pages" / "evaluate.py"), title="Evaluate", icon=":material/analytics:"),
    ]
    page = st.navigation(pages)
    with st.sidebar:
        st.markdown(f"### Docent\n`{workspace().name}` workspace")
        with friendly_errors("reading the workspace"):
            status = docent().status()
            st.caption(f"{status['documents']} documents · {status['chunks']} chunks · {status['pairs']} Q&A pairs")
            run = status["run"]
            st.caption(f"Tuned model: run {run.id}" if run else "Not tuned yet")
            if status["unseen"]:
                st.warning(f"The tuned model has not seen {len(status['unseen'])} new or changed documents.")
    page.run()
