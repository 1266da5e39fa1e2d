"""The web app, driven through Streamlit's AppTest: every page, with a tiny random LLM so answers come fast."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from assistant import runs
from assistant.config import AnswerConfig
from ingest.config import IngestConfig
from ingest.pipeline import ingest
from ingest.records import OWNER
from ingest.store import Workspace
from tests.conftest import ROOT
from tests.docs import write_all

APP = str(ROOT / "ui" / "app.py")
PAGES = ROOT / "ui" / "views"


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, embedder) -> Path:
    root = tmp_path_factory.mktemp("ui")
    write_all(root / "docs")
    ingest([root / "docs"], IngestConfig(holdout_share=0.3), root / "ws", progress=False, embedder=embedder)
    return root / "ws"


@pytest.fixture
def ui_ws(ingested: Path, tmp_path: Path) -> Path:
    """This test's own copy of the workspace: what one test stores (feedback, uploads, runs) no other test sees."""
    shutil.copytree(ingested, tmp_path / "ws")
    return tmp_path / "ws"


@pytest.fixture
def app(ui_ws: Path, tiny_llm: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("DOCENT_WORKSPACE", str(ui_ws))
    monkeypatch.setenv("DOCENT_LLM", str(tiny_llm))
    monkeypatch.delenv("DOCENT_PASSWORD", raising=False)
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception
    return at


def ask(at: AppTest, mode: str, question: str) -> AppTest:
    at.segmented_control[0].set_value(mode).run()
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def wait_for(condition, seconds: float = 240) -> None:  # type: ignore[no-untyped-def]
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(1)


def test_chat_in_base_and_retrieval_mode_shows_answers_sources_and_latency(app: AppTest, monkeypatch) -> None:
    def decode(self, batch):  # type: ignore[no-untyped-def]
        for request in batch:  # the tiny random model may well say nothing: this one always answers
            request.put("Purple elephants ")
            request.put("dance at noon.")

    monkeypatch.setattr("assistant.serving.Batcher._decode", decode)
    assert app.title[0].value == "Chat with your documents"
    assert app.segmented_control[0].options == ["base", "retrieval"]  # nothing tuned yet
    ask(app, "retrieval", "Where is the assembly point?")
    assistant = [m for m in app.chat_message if m.name == "assistant"]
    assert len(assistant) == 1 and assistant[0].markdown[0].value == "Purple elephants dance at noon."
    assert any(e.label.startswith(f"Sources ({AnswerConfig().top_k})") for e in app.expander)
    assert any("first token" in c.value for c in app.caption)
    assert not any(c.value.startswith("No sources") for c in app.caption)
    assert any(w.value.startswith("Not supported") for w in app.warning)  # a random model's words are in no source
    ask(app, "base", "Hello, who are you?")  # another mode: a new conversation
    assert len([m for m in app.chat_message if m.name == "assistant"]) == 1
    assert not any(e.label.startswith("Sources") for e in app.expander)
    assert any(c.value.startswith("No sources: the base mode answers from the model's memory") for c in app.caption)


def test_a_question_no_document_is_about_is_not_asked_and_says_where_to_look(app: AppTest) -> None:
    ask(app, "retrieval", "What is the capital of France?")
    (assistant,) = [m for m in app.chat_message if m.name == "assistant"]
    assert assistant.markdown[0].value == "The documents don't say."
    (told,) = app.info
    assert told.value.startswith("No document mentions “France”, so the model was not asked. You may look here")
    assert any("the model was not asked" in c.value for c in app.caption)  # and it took no model time
    assert not any(e.label.startswith("Sources") for e in app.expander)


def test_the_full_passage_marks_the_supporting_sentence_and_shows_no_markup() -> None:
    from ui.common import highlighted

    shown = highlighted("Ask <b>HR</b>. You earn 2.5 days a month.", ["You earn 2.5 days a month."])
    assert "<mark>You earn 2.5 days a month.</mark>" in shown and "&lt;b&gt;HR&lt;/b&gt;" in shown


def test_feedback_is_stored_with_mode_and_question(app: AppTest, ui_ws: Path) -> None:
    ask(app, "retrieval", "When does the canteen serve lunch?")
    app.feedback[0].set_value(1).run()
    app.text_input[0].set_value("Clear and right").run()
    next(b for b in app.button if b.label == "Send feedback").click().run()
    row = Workspace(ui_ws).connect().execute("SELECT question, mode, rating, comment FROM feedback").fetchone()
    assert tuple(row) == ("When does the canteen serve lunch?", "retrieval", 1, "Clear and right")


def test_documents_upload_a_good_and_a_bad_file(app: AppTest, ui_ws: Path) -> None:
    at = app.switch_page(str(PAGES / "documents.py")).run()
    at.file_uploader[0].set_value(
        [
            ("bikes.md", b"# Bikes\n\nBicycles are stored behind door B12.\n", "text/markdown"),
            ("../../escape.md", b"", "text/markdown"),
        ]
    ).run()
    next(b for b in at.button if b.label == "Ingest").click().run()
    assert not at.exception
    assert any("1 added" in s.value for s in at.success)
    assert any("escape.md" in e.value and "empty file" in e.value for e in at.error)
    assert (ui_ws / "uploads" / "bikes.md").exists() and not (ui_ws.parent / "escape.md").exists()
    names = {r[0] for r in Workspace(ui_ws).connect().execute("SELECT name FROM documents")}
    assert "bikes.md" in names


def test_unsupported_upload_is_refused_by_name(ui_ws: Path) -> None:
    from assistant.service import Docent

    report = Docent(ui_ws).library.upload([("run.sh", b"rm -rf /")], OWNER)
    assert report.failed == [
        ("run.sh", "'run.sh': Docent reads .docx .htm .html .markdown .md .pdf .text .txt files only")
    ]


def test_documents_page_lists_reviews_and_removes(app: AppTest, ui_ws: Path) -> None:
    at = app.switch_page(str(PAGES / "documents.py")).run()
    assert "md-doc.md" in at.dataframe[0].value["name"].tolist()
    at.selectbox(key="pairs-doc").set_value("md-doc.md").run()
    editor = at.data_editor[0]
    first = editor.value.iloc[0]
    at.session_state[editor.key] = {"edited_rows": {0: {"answer": "Locker 417"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    next(b for b in at.button if b.label == "Save changes to the pairs").click().run()
    row = Workspace(ui_ws).connect().execute("SELECT answer, status FROM pairs WHERE id = ?", (int(first["id"]),))
    assert tuple(row.fetchone()) == ("Locker 417", "edited")
    at.selectbox(key="remove-doc").set_value("txt-doc.txt").run()
    next(b for b in at.button if b.label.startswith("Remove it")).click().run()
    assert "txt-doc.txt" not in {r[0] for r in Workspace(ui_ws).connect().execute("SELECT name FROM documents")}


def test_tune_page_runs_in_the_background_then_all_modes_answer(app: AppTest, ui_ws: Path) -> None:
    at = app.switch_page(str(PAGES / "tune.py")).run()
    at.number_input[0].set_value(1.0)  # one epoch
    next(n for n in at.number_input if "budget" in n.label).set_value(30)
    at.form_submit_button[0].click().run()
    assert any("Tuning started" in s.value for s in at.success)
    wait_for(lambda: runs.latest_finished(ui_ws) is not None)
    assert runs.latest_finished(ui_ws).config["plan"]["budget_min"] == 30  # type: ignore[union-attr]
    at = app.switch_page(str(PAGES / "tune.py")).run()
    table = at.dataframe[0].value
    assert "finished" in table["status"].tolist() and table["expected"].notna().any()
    chat = app.switch_page(str(PAGES / "chat.py")).run()
    assert chat.segmented_control[0].options == ["base", "tuned", "retrieval", "both"]
    for mode in ("tuned", "both"):
        ask(chat, mode, "Where is the assembly point?")
        assert any("first token" in c.value for c in chat.caption)
    compare = app.switch_page(str(PAGES / "compare.py")).run()
    compare.text_input[0].set_value("Where is the assembly point?")
    compare.form_submit_button[0].click().run()
    assert not compare.exception
    assert [s.value for s in compare.subheader] == ["base", "tuned", "retrieval", "both"]


def test_evaluate_page_runs_an_evaluation_and_shows_its_report(app: AppTest, ui_ws: Path) -> None:
    at = app.switch_page(str(PAGES / "evaluate.py")).run()
    at.multiselect[0].set_value(["base", "retrieval"])
    at.number_input[0].set_value(3)
    at.form_submit_button[0].click().run()
    assert any("runs in the background" in s.value for s in at.success)
    wait_for(lambda: any((ui_ws / "evals").glob("*/report.json")))
    at = app.switch_page(str(PAGES / "evaluate.py")).run()
    assert not at.exception
    assert set(at.dataframe[0].value.index) == {"base", "retrieval"}
    heldout = Workspace(ui_ws).connect().execute("SELECT COUNT(*) FROM pairs WHERE split = 'heldout'").fetchone()[0]
    assert len(at.dataframe[-1].value) == min(3, heldout)  # every question with each mode's answer


def test_an_empty_workspace_says_what_to_do_first(tmp_path: Path, tiny_llm: Path, monkeypatch) -> None:
    monkeypatch.setenv("DOCENT_WORKSPACE", str(tmp_path / "empty"))
    monkeypatch.setenv("DOCENT_LLM", str(tiny_llm))
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert any("no documents yet" in i.value for i in at.info)
    tune = at.switch_page(str(PAGES / "tune.py")).run()
    assert any("add documents" in i.value for i in tune.info)


def test_errors_are_shown_as_a_sentence(app: AppTest, monkeypatch) -> None:
    from assistant.service import Docent

    def broken(*args, **kwargs):
        raise RuntimeError("the model file is unreadable")

    monkeypatch.setattr(Docent, "ask", broken)
    app.chat_input[0].set_value("Anything?").run()
    assert not app.exception
    assert any("did not work: the model file is unreadable" in e.value for e in app.error)


@pytest.fixture
def locked(ui_ws: Path, tiny_llm: Path, monkeypatch) -> None:
    """A server with a password, and a fresh record of wrong guesses."""
    from assistant import access

    monkeypatch.setenv("DOCENT_WORKSPACE", str(ui_ws))
    monkeypatch.setenv("DOCENT_LLM", str(tiny_llm))
    monkeypatch.delenv("DOCENT_PASSWORD", raising=False)
    monkeypatch.setenv("DOCENT_PASSWORD_HASH", access.hash_password("s3cret"))
    monkeypatch.setattr(access, "LIMITER", access.Limiter())


def sign_in(at: AppTest, password: str) -> AppTest:
    at.text_input[0].set_value(password)
    return next(b for b in at.button if b.label == "Sign in").click().run()


def shows_workspace(at: AppTest) -> bool:
    return bool(at.chat_input or at.dataframe or at.get("file_uploader") or at.sidebar.caption)


def test_password_protects_the_app(locked) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not shows_workspace(at) and at.text_input[0].label == "Password"
    sign_in(at, "wrong")
    assert any("not right" in e.value for e in at.error) and not shows_workspace(at)
    sign_in(at, "s3cret")
    assert at.chat_input and any("documents" in c.value for c in at.sidebar.caption)


@pytest.mark.parametrize("view", sorted(p.name for p in PAGES.glob("*.py")))
def test_no_page_shows_anything_before_sign_in(locked, view: str) -> None:
    """Before sign-in the app serves the password form alone, and each page's script run on its own shows nothing
    (the browser test opens each page's address on a real server)."""
    at = AppTest.from_file(APP, default_timeout=120).run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(str(PAGES / view))
    assert not at.exception and not shows_workspace(at) and at.text_input[0].label == "Password"
    alone = AppTest.from_file(str(PAGES / view), default_timeout=120).run()
    assert not alone.exception and not shows_workspace(alone)


def test_thirty_wrong_guesses_lock_the_right_password_out(locked) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    for i in range(30):
        sign_in(at, f"guess{i}")
    sign_in(at, "s3cret")
    assert any("Too many wrong passwords" in e.value for e in at.error)
    assert not shows_workspace(at)


def test_a_long_question_is_refused_before_the_model_loads(ui_ws: Path, tiny_llm: Path) -> None:
    from assistant.config import MAX_QUESTION_CHARS
    from assistant.service import Docent

    app = Docent(ui_ws, str(tiny_llm))
    with pytest.raises(ValueError, match="over the limit of 4,000"):
        app.ask("Why? " * 20_000, "retrieval", access=OWNER)
    with pytest.raises(ValueError, match="start a new conversation"):
        app.ask("And then?", "base", [("q" * 4000, "a" * 4000)] * 6, access=OWNER)
    assert app._llm is None and app._retriever is None  # no model time was spent
    page = AppTest.from_file(str(PAGES / "chat.py"), default_timeout=120)
    page.run()  # no password set: the page runs
    assert page.chat_input[0].proto.max_chars == MAX_QUESTION_CHARS  # the browser stops at the limit too


def test_feedback_given_while_an_ingest_commits_is_kept(app: AppTest, ui_ws: Path) -> None:
    ask(app, "retrieval", "When does the canteen serve lunch?")
    app.feedback[0].set_value(0).run()
    app.text_input[0].set_value("Given during an ingest").run()
    with Workspace(ui_ws).writer():  # what an ingest holds for as long as it runs
        next(b for b in app.button if b.label == "Send feedback").click().run()
        assert not app.exception and not app.error
        assert (ui_ws / "feedback-queue.jsonl").exists()
    app.run()  # the next page view stores it
    rows = Workspace(ui_ws).connect().execute("SELECT comment, rating FROM feedback WHERE comment LIKE 'Given%'")
    assert [tuple(r) for r in rows] == [("Given during an ingest", 0)]
    assert not (ui_ws / "feedback-queue.jsonl").exists()


def test_uploads_with_the_same_name_or_a_long_name_are_all_kept(ui_ws: Path) -> None:
    from assistant.service import Docent

    long_name = "Quarterly report of the facilities team on parking, lockers, canteen and bicycles " * 4 + ".md"
    assert len(long_name.encode()) > 255
    report = Docent(ui_ws).library.upload(
        [
            ("hr/policy.md", b"# Policy\n\nThe HR policy is kept in room 101.\n"),
            ("it/policy.md", b"# Policy\n\nThe IT policy is kept in room 202.\n"),
            (long_name, b"# Report\n\nThe facilities report lists 40 parking places.\n"),
        ],
        OWNER,
    )
    assert report.added == 3 and not report.failed
    saved = sorted(p.name for p in (ui_ws / "uploads").glob("*.md") if "olicy" in p.name or "Quarterly" in p.name)
    assert "policy.md" in saved and "policy (2).md" in saved
    assert any(len(name.encode()) <= 255 and name.startswith("Quarterly report") for name in saved)
    notes = dict(report.notes)
    assert notes["it/policy.md"] == "saved as policy (2).md" and notes[long_name].startswith("saved as Quarterly")
    texts = " ".join(r[0] for r in Workspace(ui_ws).connect().execute("SELECT text FROM chunks"))
    assert "room 101" in texts and "room 202" in texts and "40 parking places" in texts


def test_the_web_app_writes_private_files(ui_ws: Path, tmp_path: Path, tiny_llm: Path, monkeypatch) -> None:
    import os
    import stat

    from assistant.service import Docent

    old = os.umask(0o022)  # what a shell gives by default
    try:
        ws = tmp_path / "ws"
        monkeypatch.setenv("DOCENT_WORKSPACE", str(ws))
        monkeypatch.setenv("DOCENT_LLM", str(tiny_llm))
        monkeypatch.delenv("DOCENT_PASSWORD", raising=False)
        AppTest.from_file(APP, default_timeout=120).run()  # the engine starts: the workspace and ui.log
        Docent(ws).library.upload([("note.md", b"# Note\n\nThe note is private.\n")], OWNER)
    finally:
        os.umask(old)
    for path in (ws, ws / "uploads"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    for path in (ws / "docent.db", ws / "ui.log", ws / "uploads" / "note.md"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_run_whose_process_died_no_longer_hides_the_tune_form(app: AppTest, ui_ws: Path) -> None:
    import shutil
    import socket

    ended = __import__("subprocess").Popen(["true"])
    ended.wait()
    run = runs.Run("20260101-000000-killed", runs.runs_root(ui_ws) / "20260101-000000-killed", created=runs.now())
    run.owner = {"host": socket.gethostname(), "pid": ended.pid, "started": 1.0}
    run.save()  # says `running`, as a run killed by SIGKILL left it
    try:
        at = app.switch_page(str(PAGES / "tune.py")).run()
        assert at.form_submit_button and at.form_submit_button[0].label == "Start tuning"
        assert "failed" in at.dataframe[0].value["status"].tolist()
    finally:
        shutil.rmtree(run.folder)


def test_the_chat_defaults_to_the_mode_that_measured_best(app: AppTest, ui_ws: Path) -> None:
    """A run whose adapter made `both` worse than retrieval on the held-out questions is not the silent default."""
    import shutil

    def cell(value: float) -> dict:
        return {"contains": value, "f1": value / 2, "intervals": {}}

    name = "29990101-000000-scored"  # newer than any other run: the one the app answers with
    run = runs.Run(name, runs.runs_root(ui_ws) / name, status="finished", created="2999-01-01T00:00:00+00:00")
    run.metrics = {
        "scores": {
            "questions": 100,
            "baseline": {"base": cell(0.05), "retrieval": cell(0.5)},
            "epochs": [{"epoch": 1, "step": 9, "both": cell(0.35), "tuned": cell(0.1)}],
        }
    }
    run.save()
    run.adapter.mkdir()
    try:
        chat = AppTest.from_file(APP, default_timeout=120).run()
        assert chat.segmented_control[0].value == "retrieval"
        assert any(
            "each mode answered: base 0.05 · tuned 0.10 · retrieval 0.50 · both 0.35" in c.value for c in chat.caption
        )
        tune = chat.switch_page(str(PAGES / "tune.py")).run()
        assert any("Tuning did not help here, so the chat answers in retrieval mode" in i.value for i in tune.info)
    finally:
        shutil.rmtree(run.folder)
