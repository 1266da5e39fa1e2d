"""What every page of the web app shares: the one Docent engine of the server, and errors told as sentences."""

from __future__ import annotations

import html
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from assistant import access
from assistant.client import DocentApi
from assistant.config import READS_SOURCES
from assistant.service import Docent
from ingest import store
from ingest.config import workspace_path
from ingest.records import OWNER, Access
from ingest.store import WorkspaceError, private_file

log = logging.getLogger("docent.ui")


def workspace() -> Path:
    return workspace_path(os.environ.get("DOCENT_WORKSPACE"))


@st.cache_resource(show_spinner="Loading Docent…")
def engine(path: str) -> Docent:
    """One per server process: every browser session shares the loaded models and index."""
    env = os.environ.get
    api = DocentApi(env("DOCENT_API_URL", ""), env("DOCENT_API_KEY")) if env("DOCENT_API_URL") else None
    app = Docent(Path(path), env("DOCENT_LLM", "embedded"), env("DOCENT_LLM_URL", ""), env("DOCENT_LLM_KEY"), api)
    app.library.ws.make_root()
    handler = logging.FileHandler(private_file(app.workspace / "ui.log"))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return app


def single_sign_on() -> bool:
    """Whether the server is configured for single sign-on: an [auth] section in .streamlit/secrets.toml (OIDC)."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


def sign_in_needed() -> bool:
    """Whether a session must sign in: the server was given a password or single sign-on, or the workspace has
    people with a password."""
    if access.server_secret() is not None or single_sign_on():
        return True
    return access.has_accounts(engine(str(workspace())).library.db())


def signed_in() -> bool:
    """True when no sign-in is needed, or this browser session signed in (ui/app.py) and has not expired."""
    if not sign_in_needed():
        return True
    state = st.session_state
    if not state.get("signed_in") and single_sign_on() and st.user.is_logged_in and not state.get("sso_refused"):
        app = engine(str(workspace()))
        try:
            who = access.single_sign_on(app.library.db(), str(st.user.email or ""), app.library.audit)
        except access.SignInError as err:
            state.sso_refused = str(err)
            return False
        now = time.time()
        state.update(signed_in=True, person=who.name, signed_at=now, last_seen=now)
    if not state.get("signed_in"):
        return False
    now = time.time()
    if access.expired(state.signed_at, state.last_seen, now):
        sign_out()
        return False
    state.last_seen = now
    return True


def sign_out() -> None:
    """This browser session signs in again at its next page view."""
    for key in ("signed_in", "person", "signed_at", "last_seen"):
        st.session_state.pop(key, None)


def viewer() -> Access:
    """Who this browser session reads as, looked up at each page view, so that a grant or a revoke counts at once:
    the signed-in person, or the workspace's owner (signed in with the server's password, or on a server that needs
    none). A person removed meanwhile is signed out."""
    name = st.session_state.get("person") or ""
    if not name:
        return OWNER
    try:
        return store.access_of(engine(str(workspace())).library.db(), name)
    except WorkspaceError:
        sign_out()
        st.stop()
        raise


def docent() -> Docent:
    """The engine, for a signed-in session only: a page run without a sign-in stops here, before any content."""
    if not signed_in():
        st.stop()
    return engine(str(workspace()))


@contextmanager
def friendly_errors(action: str) -> Iterator[None]:
    """Any failure inside becomes one sentence on the page; the traceback goes to WORKSPACE/ui.log."""
    try:
        yield
    except Exception as err:  # the page must survive; the log keeps the details
        log.exception("%s failed", action)
        reason = str(err).strip().rstrip(".") or type(err).__name__
        st.error(f"Sorry, {action} did not work: {reason}. The details are in {workspace() / 'ui.log'}.")


def show_sources(result, mode: str) -> None:  # type: ignore[no-untyped-def]
    """Beside an answer: what it read and which sentences hold it, or plainly that it stands on nothing."""
    if mode not in READS_SOURCES:  # said beside the answer, so that it is not taken for one drawn from the documents
        st.caption(f"No sources: the {mode} mode answers from the model's memory, not from your documents.")
        return
    if not result.covered:
        places = "; ".join(f"**{s.doc}** › {s.heading or s.title}" for s in result.nearby)
        st.info(f"{result.why}, so the model was not asked. You may look here: {places}")
        return
    if result.reread:
        st.caption("Read again by the base model: the tuned model's answer had no support in the sources.")
    if result.unsupported:
        st.warning("Not supported: no sentence of the sources holds this answer. Check it before relying on it.")
    for found in result.support:
        st.caption(f"Supported by [{found.rank}]: “{found.sentence}”")
    if not result.sources:
        return
    with st.expander(f"Sources ({len(result.sources)})"):
        for s in result.sources:
            st.markdown(
                f"**[{s.rank}] {s.doc}** › {s.heading or s.title}  \n<small>score {s.score:.3f}</small>",
                unsafe_allow_html=True,
            )
            st.caption(s.snippet(300))
            with st.popover("Full passage"):
                st.html(highlighted(s.text, [f.sentence for f in result.support if f.rank == s.rank]))


def highlighted(text: str, sentences: list[str]) -> str:
    """The passage as safe HTML, its supporting sentences marked."""
    shown = html.escape(text)
    for sentence in sentences:
        shown = shown.replace(html.escape(sentence), f"<mark>{html.escape(sentence)}</mark>", 1)
    return f'<div style="white-space: pre-wrap">{shown}</div>'


def latency_line(result) -> str:  # type: ignore[no-untyped-def]
    t = result.timing
    if not result.covered:
        return f"retrieval {result.retrieve_s * 1000:.0f} ms · the model was not asked"
    parts = [f"first token {t.first_token_s:.2f} s", f"{t.tokens} tokens in {t.total_s:.1f} s"]
    if result.sources:
        parts.insert(0, f"retrieval {result.retrieve_s * 1000:.0f} ms")
    return " · ".join(parts)


MODE_HELP = {
    "base": "the model alone, as it came",
    "tuned": "the model fine-tuned on your documents",
    "retrieval": "the model reading the passages search finds",
    "both": "the fine-tuned model reading the passages search finds",
}
