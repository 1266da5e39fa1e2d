"""The web app in a real browser: started as the README starts it (`docent ui`), driven by Playwright in Debian's
headless Chromium, asking about the sample corpus in every mode with the embedded models. Screenshots of each page
land in tests/artifacts/."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from assistant.config import AnswerConfig
from ingest import store
from ingest.records import OWNER
from ingest.store import Workspace
from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]  # fmt: skip

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (make test installs it)"),
    pytest.mark.slow,  # the real embedded models behind a real browser
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_ui(workspace: Path, port: int = 0, cwd: Path | None = None, **env: str) -> tuple[str, subprocess.Popen]:
    """`docent ui` as the README starts it, on a free port (or `port`), in `cwd` (where Streamlit looks for
    .streamlit/secrets.toml); its address once it answers."""
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "ui", "--workspace", str(workspace), "--port", str(port)],
        env={**os.environ, "DOCENT_LLM": "embedded", "PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://localhost:{port}"
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=2)
            return url, process
        except OSError:
            assert process.poll() is None and time.time() < deadline, "the app did not start"
            time.sleep(1)


def stop_ui(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):  # anything the server started goes with its group, by force
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def server(sample_ws: Path, tmp_path_factory):
    """`docent ui` on a copy of the sample workspace, with a quickly tuned adapter so that every mode can answer."""
    from assistant.config import TuneConfig
    from assistant.tune import tune

    ws = tmp_path_factory.mktemp("browser") / "ws"
    shutil.copytree(sample_ws, ws)
    tune(
        TuneConfig(recipe="closed-book", epochs=1, max_pairs=16, batch_size=8, score_questions=0),
        ws,
        progress=False,
    )
    url, process = start_ui(ws)
    yield url
    stop_ui(process)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module (Playwright's sync API allows one running instance at a time)."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(server: str, browser):
    """A new tab on the chat page for each test, whatever page the test before left its tab on."""
    tab = browser.new_page(viewport={"width": 1366, "height": 900})
    tab.goto(server)
    tab.get_by_text("Chat with your documents").wait_for(timeout=120_000)
    yield tab
    tab.close()


@pytest.mark.parametrize("mode", ["base", "tuned", "retrieval", "both"])
def test_every_mode_answers_in_the_browser(page, mode: str) -> None:
    page.get_by_role("radio", name=mode, exact=True).click()
    page.get_by_text(f"Answering in {mode} mode").wait_for(timeout=60_000)
    box = page.get_by_placeholder("Ask a question about your documents")
    box.fill("How many days of annual leave do employees earn per month?")
    box.press("Enter")
    latency = page.get_by_text("first token").last
    latency.wait_for(timeout=180_000)
    answer = page.locator('[data-testid="stChatMessage"]').last
    text = answer.locator('[data-testid="stMarkdownContainer"]').first.inner_text().strip()
    assert text and "first token" not in text  # the answer itself, not the latency line waited for
    if mode in ("retrieval", "both"):
        sources = f"Sources ({AnswerConfig().top_k})"
        assert answer.get_by_text(sources).is_visible()
        answer.get_by_text(sources).click()
        answer.get_by_text("employee-handbook.pdf").first.wait_for(timeout=10_000)
    page.screenshot(path=str(SHOTS / f"chat-{mode}.png"), full_page=True)


@pytest.mark.parametrize("name", ["Compare", "Documents", "Tune", "Evaluate", "People"])
def test_every_page_opens(page, name: str) -> None:
    page.get_by_role("link", name=name).click()
    heading, content = {
        "Compare": ("Compare the modes", "Question"),
        "Documents": ("Documents", "Review Q&A pairs"),
        "Tune": ("Tune the model on your documents", "Runs"),
        "Evaluate": ("Evaluate the modes", "Run evaluation"),
        "People": ("People and access", "Access to collections"),
    }[name]
    page.get_by_role("heading", name=heading).wait_for(timeout=60_000)
    page.get_by_text(content, exact=True).first.wait_for(timeout=60_000)
    page.wait_for_function("!document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=60_000)
    assert not page.get_by_text("Traceback").count()
    page.screenshot(path=str(SHOTS / f"page-{name.lower()}.png"), full_page=True)


def test_no_page_address_shows_anything_without_the_password(own_sample_ws: Path, browser) -> None:
    """A fresh server with a password: every page's address opened directly, in a new session each, shows the
    password form and no document, passage or upload control. The pages are found in ui/views, so a page added
    later is tried too. Then the right password opens the page asked for, so the test sees content when it is
    there."""
    from assistant import access

    names = [d.name for d in store.documents(Workspace(own_sample_ws).connect(), OWNER)]
    views = sorted(p.stem for p in (ROOT / "ui" / "views").glob("*.py"))
    assert {"chat", "compare", "documents", "evaluate", "tune", "people"} <= set(views)
    url, process = start_ui(own_sample_ws, DOCENT_PASSWORD_HASH=access.hash_password("s3cret"))
    try:
        for path in ["", *views, "no-such-page"]:
            context = browser.new_context()  # a new browser session: nobody signed in
            tab = context.new_page()
            tab.goto(f"{url}/{path}")
            tab.get_by_label("Password", exact=True).wait_for(timeout=60_000)
            tab.wait_for_timeout(2_000)  # let anything else that would render, render
            text = tab.inner_text("body")
            assert not [n for n in names if n in text], path
            for widget in ("stFileUploader", "stChatInput", "stDataFrame", "stExpander", "stSidebar"):
                assert not tab.locator(f'[data-testid="{widget}"]').count(), (path, widget)
            tab.screenshot(path=str(SHOTS / f"locked-{path or 'root'}.png"), full_page=True)
            context.close()
        context = browser.new_context()
        tab = context.new_page()
        tab.goto(f"{url}/documents")
        tab.get_by_label("Password", exact=True).fill("s3cret")
        tab.get_by_role("button", name="Sign in").click()
        tab.get_by_text("Review Q&A pairs").wait_for(timeout=120_000)  # the page that was asked for
        tab.locator('[data-testid="stFileUploader"]').wait_for(timeout=60_000)  # fails if it never renders
        context.close()
    finally:
        stop_ui(process)


def test_each_person_signs_in_and_sees_only_their_collections(own_sample_ws: Path, browser, embedder) -> None:
    """alice (group hr) and bob sign in by name and password in their own browser sessions: bob is shown the 24
    general documents, alice all 30; a wrong password shows nothing."""
    from assistant import people
    from ingest.config import IngestConfig
    from ingest.pipeline import ingest
    from tests.conftest import SAMPLE

    ingest([SAMPLE / "hr"], IngestConfig(collection="hr"), own_sample_ws, progress=False, embedder=embedder)
    people.add_user(own_sample_ws, "alice", groups=["hr"], password="tulip-orbit-42")
    people.add_user(own_sample_ws, "bob", password="maple-river-7")
    people.grant(own_sample_ws, "hr", "hr")
    url, process = start_ui(own_sample_ws)
    try:
        for name, password, shown in (("bob", "tulip-orbit-42", None), ("bob", "maple-river-7", "24 documents"),
                                      ("alice", "tulip-orbit-42", "30 documents")):  # fmt: skip
            context = browser.new_context()
            tab = context.new_page()
            tab.goto(f"{url}/documents")
            tab.get_by_label("Name", exact=True).fill(name)
            tab.get_by_label("Password", exact=True).fill(password)
            tab.get_by_role("button", name="Sign in").click()
            if shown is None:
                tab.get_by_text("That name and password do not match").wait_for(timeout=60_000)
                assert not tab.locator('[data-testid="stSidebar"]').count()
            else:
                tab.get_by_text(f"Signed in as {name}").wait_for(timeout=120_000)
                tab.get_by_text(shown, exact=False).first.wait_for(timeout=60_000)
                tab.get_by_text("Review Q&A pairs").wait_for(timeout=120_000)
                assert not tab.get_by_role("link", name="Tune").count()  # tuning is for admins
                tab.screenshot(path=str(SHOTS / f"signed-in-{name}.png"), full_page=True)
            context.close()
    finally:
        stop_ui(process)


def test_single_sign_on_signs_a_person_in_through_an_identity_provider(own_sample_ws: Path, browser, tmp_path) -> None:
    """The whole round trip of st.login against a real OpenID Connect provider (oidc-provider-mock, in a thread):
    the provider vouches for an e-mail address, and the workspace's person of that address is signed in with what
    they may read; an address that names nobody in the workspace is refused with a sentence, and sees nothing."""
    import oidc_provider_mock

    from assistant import people

    people.add_user(own_sample_ws, "carol@example.com")
    port = free_port()
    with oidc_provider_mock.run_server_in_thread(
        user_claims=[
            oidc_provider_mock.User(sub="carol", claims={"email": "carol@example.com"}),
            oidc_provider_mock.User(sub="mallory", claims={"email": "mallory@example.com"}),
        ]
    ) as provider:
        streamlit = tmp_path / ".streamlit"
        streamlit.mkdir()
        (streamlit / "secrets.toml").write_text(
            "[auth]\n"
            f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
            'cookie_secret = "a-cookie-secret-for-this-test-only"\n'
            'client_id = "docent"\nclient_secret = "docent-secret"\n'
            f'server_metadata_url = "http://localhost:{provider.server_port}/.well-known/openid-configuration"\n'
        )
        url, process = start_ui(own_sample_ws, port, tmp_path)
        try:
            for sub, shown in (("mallory", None), ("carol", "Signed in as carol@example.com")):
                context = browser.new_context()
                tab = context.new_page()
                tab.goto(url)
                tab.get_by_role("button", name="Sign in with single sign-on").click()
                tab.locator('input[name="sub"]').fill(sub)  # the provider's own sign-in form
                tab.get_by_role("button", name="Authorize").click()
                if shown is None:
                    tab.get_by_text("is not a person of this workspace").wait_for(timeout=120_000)
                    assert not tab.locator('[data-testid="stSidebar"]').count()
                else:
                    tab.get_by_text(shown).wait_for(timeout=120_000)
                    tab.get_by_text("Chat with your documents").wait_for(timeout=120_000)
                tab.screenshot(path=str(SHOTS / f"single-sign-on-{sub}.png"), full_page=True)
                context.close()
        finally:
            stop_ui(process)
    logged = [(line["who"], line["action"]) for line in store.audit_log(Workspace(own_sample_ws).connect())]
    assert ("mallory@example.com", "sign-in-failed") in logged and ("carol@example.com", "sign-in") in logged
