"""People, groups and collections: a person finds, is shown and is answered from only what they may read.

The workspace: the sample corpus, its hr folder in the collection `hr`, the rest in `general`. alice is in the group
hr (granted hr); bob is in no group, so he reads `general` through `everyone`.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from assistant import keys, people, runs
from assistant.cli import main
from assistant.retrieve import Retriever
from ingest import store
from ingest.config import IngestConfig
from ingest.records import OWNER
from ingest.store import Workspace, WorkspaceError
from tests.conftest import SAMPLE

HR_QUESTION = "How many days of annual leave do employees get?"


@pytest.fixture(scope="session")
def hr_template(tmp_path_factory, sample_ws: Path, embedder) -> Path:
    """The sample workspace with data/sample/hr moved to the collection hr, and alice and bob; read-only."""
    from ingest.pipeline import ingest

    ws = tmp_path_factory.mktemp("people") / "ws"
    shutil.copytree(sample_ws, ws)
    report = ingest([SAMPLE / "hr"], IngestConfig(collection="hr"), ws, progress=False, embedder=embedder)
    assert report.unchanged == 6 and len(report.notes) == 6, report  # moved, not read again
    people.add_user(ws, "alice", groups=["hr"])
    people.add_user(ws, "bob")
    people.grant(ws, "hr", "hr")
    return ws


@pytest.fixture
def hr_ws(hr_template: Path, tmp_path: Path) -> Path:
    """A copy for a test that changes grants, people or runs."""
    copy = tmp_path / "ws"
    shutil.copytree(hr_template, copy)
    return copy


def access(ws: Path, name: str):
    return store.access_of(Workspace(ws).connect(), name)


def hr_documents(ws: Path) -> set[str]:
    return {d.name for d in store.documents(Workspace(ws).connect(), OWNER) if d.collection == "hr"}


def test_a_person_reads_the_collections_of_their_groups_and_general(hr_template: Path) -> None:
    alice, bob = access(hr_template, "alice"), access(hr_template, "bob")
    assert alice.collections == {"general", "hr"} and bob.collections == {"general"}
    db = Workspace(hr_template).connect()
    assert store.collections(db) == {"general": 24, "hr": 6}
    assert len(store.documents(db, bob)) == 24 and len(store.documents(db, alice)) == 30
    assert all(d.collection == "general" for d in store.documents(db, bob))
    with pytest.raises(WorkspaceError, match="not a person"):
        store.access_of(db, "mallory")


def test_search_finds_only_readable_chunks_and_fills_the_top_k_with_them(hr_template: Path) -> None:
    retriever = Retriever(hr_template)
    hr = hr_documents(hr_template)
    (owner_found,) = retriever.search([HR_QUESTION], k=5)
    assert owner_found[0].doc in hr  # the question is about an HR document
    (bob_found,) = retriever.within(access(hr_template, "bob")).search([HR_QUESTION], k=5)
    assert len(bob_found) == 5 and not {s.doc for s in bob_found} & hr
    (alice_found,) = retriever.within(access(hr_template, "alice")).search([HR_QUESTION], k=5)
    assert [s.chunk_id for s in alice_found] == [s.chunk_id for s in owner_found]
    # an HR chunk asked for by its id is not handed out either
    assert retriever.within(access(hr_template, "bob")).chunks([owner_found[0].chunk_id]) == []


def test_a_name_only_hr_documents_hold_is_unknown_to_bob(hr_template: Path) -> None:
    retriever = Retriever(hr_template)
    hr_only = retriever.within(access(hr_template, "alice")).words - retriever.within(access(hr_template, "bob")).words
    assert hr_only and hr_only <= retriever.words  # what only HR text holds is in the owner's words, not bob's


def test_a_grant_and_a_revoke_count_from_the_next_search(hr_ws: Path) -> None:
    retriever = Retriever(hr_ws)
    hr = hr_documents(hr_ws)

    def bob_sees_hr() -> bool:
        (found,) = retriever.within(access(hr_ws, "bob")).search([HR_QUESTION], k=5)
        return bool({s.doc for s in found} & hr)

    assert not bob_sees_hr()
    people.grant(hr_ws, "everyone", "hr")
    assert bob_sees_hr()
    people.revoke(hr_ws, "everyone", "hr")
    assert not bob_sees_hr()
    people.revoke(hr_ws, "everyone", "general")  # general is no longer for everyone
    assert retriever.within(access(hr_ws, "bob")).search([HR_QUESTION], k=5) == [[]]


def test_pairs_and_held_out_questions_are_limited_to_what_the_person_reads(hr_template: Path) -> None:
    from assistant import evaluate

    db = Workspace(hr_template).connect()
    hr = hr_documents(hr_template)
    bob = access(hr_template, "bob")
    assert {p.document for p in store.pairs(db, OWNER, "train")} & hr
    assert not {p.document for p in store.pairs(db, bob, "train")} & hr
    assert not {q.doc for q in evaluate.workspace_questions(db, None, bob)} & hr
    hr_pair = next(p for p in store.pairs(db, OWNER, "heldout") if p.document in hr)
    assert store.reference_answer(db, hr_pair.question, OWNER) == hr_pair.answer
    assert store.reference_answer(db, hr_pair.question, bob) is None


def test_a_run_answers_only_people_who_may_read_every_collection_it_learnt(hr_ws: Path) -> None:
    def finished(run_id: str, learnt: list[str]) -> None:
        run = runs.Run(run_id, runs.runs_root(hr_ws) / run_id, status="finished", created=run_id)
        run.config = {"tune": {"recipe": "mixed"}, "collections": learnt}
        run.adapter.mkdir(parents=True)
        run.save()

    finished("20260101-000000-mixed", ["general", "hr"])
    alice, bob = access(hr_ws, "alice"), access(hr_ws, "bob")
    assert runs.latest_finished(hr_ws, alice).id == "20260101-000000-mixed"
    assert runs.latest_finished(hr_ws, bob) is None
    with pytest.raises(ValueError, match="collections bob may not read"):
        runs.find(hr_ws, None, bob)
    with pytest.raises(ValueError, match="no run '20260101-000000-mixed'"):  # by its name: as if it did not exist
        runs.find(hr_ws, "20260101-000000-mixed", bob)
    finished("20250101-000000-mixed", ["general"])  # older, trained on general alone
    assert runs.latest_finished(hr_ws, bob).id == "20250101-000000-mixed"
    assert runs.latest_finished(hr_ws, alice).id == "20260101-000000-mixed"
    people.grant(hr_ws, "everyone", "hr")
    assert runs.latest_finished(hr_ws, access(hr_ws, "bob")).id == "20260101-000000-mixed"


def test_a_run_from_before_collections_is_judged_by_the_documents_it_saw(hr_ws: Path) -> None:
    db = Workspace(hr_ws).connect()
    run = runs.Run("old", hr_ws / "runs" / "old", status="finished", config={"tune": {}})
    general = [d for d in store.documents(db, OWNER) if d.collection == "general"]
    run.snapshot = {"documents": {d.path: d.sha256 for d in general}}
    assert runs.collections(run, db) == {"general"}
    run.snapshot["documents"]["/gone/salaries.pdf"] = "0" * 64  # a document since removed: nobody but the owner
    assert not access(hr_ws, "alice").may_read_all(runs.collections(run, db))


def test_tune_scope_names_collections_that_hold_documents(hr_template: Path) -> None:
    db = Workspace(hr_template).connect()
    assert runs.scope(db, "").collections == {"general", "hr"}
    assert runs.scope(db, "general").collections == {"general"}
    with pytest.raises(ValueError, match="'payroll' holds no documents"):
        runs.scope(db, "general,payroll")


def test_an_api_key_answers_as_its_person_and_goes_with_them(hr_ws: Path) -> None:
    db = Workspace(hr_ws).connect()
    key = keys.create(db, "bob's laptop", "bob")
    assert keys.check(db, key).person == "bob"
    with pytest.raises(ValueError, match="not a person"):
        keys.create(db, "ghost", "mallory")
    people.remove_user(hr_ws, "bob")
    assert keys.check(Workspace(hr_ws).connect(), key) is None  # a removed person's key answers nobody


def test_names_are_checked_and_duplicates_refused(hr_ws: Path) -> None:
    with pytest.raises(ValueError, match="collection name 'HR files'"):
        people.grant(hr_ws, "hr", "HR files")
    with pytest.raises(ValueError, match="group name"):
        people.add_user(hr_ws, "carol", groups=["Human Resources"])
    with pytest.raises(WorkspaceError, match="already a person"):
        people.add_user(hr_ws, "alice")
    with pytest.raises(ValueError, match="has no grant"):
        people.revoke(hr_ws, "support", "hr")
    with pytest.raises(ValueError, match="collection name"):
        IngestConfig(collection="../etc")


def test_a_password_is_stored_hashed(hr_ws: Path) -> None:
    from assistant import access as passwords

    people.add_user(hr_ws, "carol", password="tulip-orbit-42")
    stored = store.password_of(Workspace(hr_ws).connect(), "carol")
    assert stored and "tulip-orbit-42" not in stored and passwords.verify("tulip-orbit-42", stored)
    assert "tulip-orbit-42" not in (hr_ws / "docent.db").read_bytes().decode("latin-1")


def test_renaming_and_emptying_a_collection(hr_ws: Path) -> None:
    hr = hr_documents(hr_ws)
    assert people.rename_collection(hr_ws, "hr", "people-ops") == 6
    db = Workspace(hr_ws).connect()
    assert store.collections(db) == {"general": 24, "people-ops": 6}
    assert access(hr_ws, "alice").collections == {"general", "people-ops"}  # the grant moved with it
    assert people.empty_collection(hr_ws, "people-ops") == 6
    assert store.collections(Workspace(hr_ws).connect()) == {"general": 24, "people-ops": 0}
    retriever = Retriever(hr_ws)
    assert len(retriever) == len(store.chunk_ids_within(retriever.db, OWNER))  # the index holds them no more
    assert not {d.name for d in store.documents(retriever.db, OWNER)} & hr


def test_reingesting_without_a_collection_leaves_documents_where_they_are(hr_ws: Path, embedder) -> None:
    from ingest.pipeline import ingest

    ingest([SAMPLE], IngestConfig(), hr_ws, progress=False, embedder=embedder)
    assert store.collections(Workspace(hr_ws).connect()) == {"general": 24, "hr": 6}


def test_the_cli_acts_as_a_person_and_logs_grants(hr_ws: Path, capsys) -> None:
    assert main(["search", HR_QUESTION, "--workspace", str(hr_ws), "--user", "bob", "--json", "-k", "5"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["results"] and not {r["doc"] for r in shown["results"]} & hr_documents(hr_ws)
    assert main(["search", HR_QUESTION, "--workspace", str(hr_ws), "--user", "mallory"]) == 2
    assert "not a person" in capsys.readouterr().err
    assert main(["pairs", "--workspace", str(hr_ws), "--user", "bob", "--samples", "50"]) == 0
    assert not any(name in capsys.readouterr().out for name in hr_documents(hr_ws))
    assert main(["grant", "support", "hr", "--workspace", str(hr_ws)]) == 0
    assert main(["users", "add", "dave", "--groups", "support", "--workspace", str(hr_ws)]) == 0
    assert access(hr_ws, "dave").collections == {"general", "hr"}
    assert main(["revoke", "support", "hr", "--workspace", str(hr_ws)]) == 0
    capsys.readouterr()
    assert main(["audit", "--workspace", str(hr_ws), "--format", "jsonl"]) == 0
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    actions = [(line["action"], line.get("group"), line.get("collection")) for line in logged]
    assert ("grant", "support", "hr") in actions and ("revoke", "support", "hr") in actions
    assert any(line["action"] == "user-add" and line["name"] == "dave" for line in logged)
    (searched,) = [line for line in logged if line["action"] == "search" and line["who"] == "bob"]
    assert searched["via"] == "cli" and searched["query"] == HR_QUESTION
    assert [s["doc"] for s in searched["sources"]] == [r["doc"] for r in shown["results"]]


def test_an_answer_asked_from_the_cli_as_a_person_is_in_the_audit_log(hr_ws: Path, tiny_llm: Path, capsys) -> None:
    args = ["--workspace", str(hr_ws), "--llm", str(tiny_llm), "--mode", "retrieval", "--json", "--max-new-tokens", "4"]
    assert main(["ask", HR_QUESTION, "--user", "bob", *args]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert main(["ask", "Who is the HR Director?", *args]) == 0  # the owner's own questions are logged too
    asks = [line for line in store.audit_log(Workspace(hr_ws).connect()) if line["action"] == "ask"]
    assert [(line["who"], line["via"], line["question"]) for line in asks] == [
        ("bob", "cli", HR_QUESTION), ("", "cli", "Who is the HR Director?")
    ]  # fmt: skip
    shown = [s["doc"] for s in printed["sources"] + printed.get("nearby", [])]
    assert shown and [s["doc"] for s in asks[0]["sources"]] == shown
    assert not set(shown) & hr_documents(hr_ws)


def test_the_audit_log_says_when_the_answer_shown_is_the_base_models_reading(hr_ws: Path) -> None:
    from assistant.answer import Answer
    from assistant.library import Library

    library = Library(hr_ws)
    library.audit_answer(OWNER, Answer("How many days?", "both", "2.5 days [1]"), "run-a", "api")
    library.audit_answer(OWNER, Answer("How many days?", "both", "You earn 2.5 days.", reread=True), "run-a", "api")
    asks = [line for line in store.audit_log(Workspace(hr_ws).connect()) if line["action"] == "ask"]
    assert [(line["run"], line["reread"]) for line in asks] == [("run-a", False), ("run-a", True)]


def test_sign_in_by_name_counts_wrong_guesses_per_name_and_per_address(hr_ws: Path) -> None:
    from assistant import access as passwords

    people.set_password(hr_ws, "alice", "tulip-orbit-42")
    db = Workspace(hr_ws).connect()
    logged: list[tuple[str, str, dict[str, str]]] = []
    limiter = passwords.Limiter(free=2, lock_after=4, lock_s=900)

    def sign_in(name: str, password: str, address: str):
        return passwords.sign_in(db, name, password, address, lambda *line: logged.append(line), limiter)

    assert sign_in("alice", "tulip-orbit-42", "10.0.0.1").collections == {"general", "hr"}
    with pytest.raises(passwords.SignInError, match="do not match"):
        sign_in("mallory", "tulip-orbit-42", "10.0.0.1")  # an unknown name is refused as a wrong password is
    with pytest.raises(passwords.SignInError, match="do not match"):
        sign_in("bob", "", "10.0.0.1")  # bob has no password: he signs in by key or single sign-on only
    for address in ("10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"):  # one name guessed from many addresses
        with pytest.raises(passwords.SignInError):
            sign_in("alice", "guess", address)
    with pytest.raises(passwords.SignInError, match="Too many wrong passwords"):
        sign_in("alice", "tulip-orbit-42", "10.0.0.9")  # the right password too, while the name must wait
    assert ("mallory", "sign-in-failed", {"address": "10.0.0.1"}) in logged
    assert logged[0] == ("alice", "sign-in", {"address": "10.0.0.1"})
    assert not any("tulip" in str(line) for line in logged)  # no password reaches the log
    assert passwords.expired(signed_at=0, last_seen=0, now=passwords.SESSION_IDLE_S + 1)
    assert not passwords.expired(signed_at=0, last_seen=3000, now=3600)
    assert passwords.expired(signed_at=0, last_seen=passwords.SESSION_MAX_S, now=passwords.SESSION_MAX_S + 1)


@pytest.fixture
def web_app(hr_ws: Path, tiny_llm: Path, monkeypatch) -> Path:
    """The web app on hr_ws, with alice's and bob's passwords, and no server password."""
    from assistant import access as passwords

    people.set_password(hr_ws, "alice", "tulip-orbit-42")
    people.set_password(hr_ws, "bob", "maple-river-7")
    monkeypatch.setenv("DOCENT_WORKSPACE", str(hr_ws))
    monkeypatch.setenv("DOCENT_LLM", str(tiny_llm))
    monkeypatch.delenv("DOCENT_PASSWORD", raising=False)
    monkeypatch.delenv("DOCENT_PASSWORD_HASH", raising=False)
    monkeypatch.setattr(passwords, "LIMITER", passwords.Limiter())
    return hr_ws


def signed_in_as(name: str, password: str):  # type: ignore[no-untyped-def]
    """A new browser session of the app (AppTest), through the sign-in form."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    at = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=120).run()
    assert [t.label for t in at.text_input] == ["Name", "Password"] and not at.chat_input
    at.text_input[0].set_value(name)
    at.text_input[1].set_value(password)
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert not at.exception, at.exception
    return at


def test_the_web_app_signs_people_in_and_shows_each_only_their_documents(web_app: Path) -> None:
    from assistant import access as passwords
    from tests.conftest import ROOT

    hr_ws = web_app
    hr = hr_documents(hr_ws)
    wrong = signed_in_as("bob", "tulip-orbit-42")
    assert any("do not match" in e.value for e in wrong.error) and not wrong.chat_input

    def chat_shows(at) -> str:  # type: ignore[no-untyped-def]
        at.segmented_control[0].set_value("retrieval").run()
        at.chat_input[0].set_value(HR_QUESTION).run()
        assert not at.exception, at.exception
        return " ".join(e.value for kind in ("markdown", "caption", "info") for e in at.get(kind))

    bob = signed_in_as("bob", "maple-river-7")
    assert any("Signed in as bob" in c.value for c in bob.sidebar.caption)
    assert any("24 documents" in c.value for c in bob.sidebar.caption)
    assert not [name for name in hr if name in chat_shows(bob)]  # no HR source or passage pointed to
    bob.switch_page(str(ROOT / "ui" / "views" / "documents.py")).run()
    shown = set(bob.dataframe[0].value["name"])
    assert len(shown) == 24 and not shown & hr
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # tuning is for admins
        bob.switch_page(str(ROOT / "ui" / "views" / "tune.py"))
    alice = signed_in_as("alice", "tulip-orbit-42")
    assert [name for name in hr if name in chat_shows(alice)]  # the same question shows her the HR documents
    alice.switch_page(str(ROOT / "ui" / "views" / "documents.py")).run()
    assert set(alice.dataframe[0].value["name"]) >= hr
    alice.session_state["last_seen"] = time.time() - passwords.SESSION_IDLE_S - 1  # an hour away: signed out
    alice.run()
    assert not alice.dataframe and [t.label for t in alice.text_input] == ["Name", "Password"]
    lines = store.audit_log(Workspace(hr_ws).connect())
    assert [(line["who"], line["action"]) for line in lines if "sign-in" in line["action"]] == [
        ("bob", "sign-in-failed"),
        ("bob", "sign-in"),
        ("alice", "sign-in"),
    ]


def test_an_admin_manages_people_and_grants_in_the_web_app(web_app: Path) -> None:
    from tests.conftest import ROOT

    hr_ws = web_app
    people.add_user(hr_ws, "carol", admin=True, password="tulip-orbit-42")
    page = str(ROOT / "ui" / "views" / "people.py")

    bob = signed_in_as("bob", "maple-river-7")
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # not listed, not opened by address
        bob.switch_page(page)
    carol = signed_in_as("carol", "tulip-orbit-42")
    carol.switch_page(page).run()
    assert not carol.exception, carol.exception
    assert set(carol.dataframe[0].value["name"]) == {"alice", "bob", "carol"}

    def form(at, key: str):  # type: ignore[no-untyped-def]
        return next(f for f in at.get("form") if f.proto.form.form_id == key)

    adding = form(carol, "add-person")
    adding.text_input[0].set_value("dave")
    adding.text_input[1].set_value("support")
    next(b for b in adding.button if b.label == "Add").click().run()
    assert not carol.exception and any("Added dave" in s.value for s in carol.success)
    granting = form(carol, "grant")
    granting.selectbox[0].set_value("support")
    granting.selectbox[1].set_value("hr")
    next(b for b in granting.button if b.label == "Grant").click().run()
    assert not carol.exception, carol.exception
    assert access(hr_ws, "dave").collections == {"general", "hr"}  # from the next question
    revoking = form(carol, "revoke")
    revoking.selectbox[0].set_value("hr → hr")
    next(b for b in revoking.button if b.label == "Revoke").click().run()
    assert access(hr_ws, "alice").collections == {"general"}
    logged = [(line["who"], line["action"]) for line in store.audit_log(Workspace(hr_ws).connect())]
    assert logged[-3:] == [("carol", "user-add"), ("carol", "grant"), ("carol", "revoke")]  # under the admin's name
    assert "revoke" in set(carol.dataframe[-1].value["action"])  # the audit log on the page


def test_through_the_api_each_key_answers_as_its_person(hr_ws: Path, tiny_llm: Path) -> None:
    import openai

    from assistant.service import Docent
    from tests.test_api import Served, plant_run

    both = plant_run(hr_ws, tiny_llm, "20260102-000000-everything")
    both.config["collections"], both.created = ["general", "hr"], "2999-01-01T00:00:00+00:00"
    both.save()
    general = plant_run(hr_ws, tiny_llm, "20260101-000000-general")
    general.config["collections"], general.created = ["general"], "2000-01-01T00:00:00+00:00"
    general.save()
    db = Workspace(hr_ws).connect()
    bob_key, alice_key = keys.create(db, "bob's", "bob"), keys.create(db, "alice's", "alice")
    hr = hr_documents(hr_ws)
    server = Served(Docent(hr_ws, str(tiny_llm)))
    try:
        bob, alice = server.client(bob_key), server.client(alice_key)
        assert f"docent-both:{both.id}" not in {m.id for m in bob.models.list()}
        assert f"docent-both:{both.id}" in {m.id for m in alice.models.list()}
        status, found = server.post("/v1/search", json.dumps({"query": HR_QUESTION, "k": 5}).encode(), bob_key)
        assert status == 200 and len(found["results"]) == 5 and not {r["doc"] for r in found["results"]} & hr
        asked = [{"role": "user", "content": HR_QUESTION}]
        for mode in ("retrieval", "both"):
            reply = bob.chat.completions.create(model=f"docent-{mode}", messages=asked, max_tokens=4)
            extra = reply.model_extra["docent"]
            assert not {s["doc"] for s in extra["sources"] + extra["nearby"]} & hr
            assert extra["run"] in (None, general.id)  # the run he may use, never the one that learnt HR
        tuned = bob.chat.completions.create(model="docent-tuned", messages=asked, max_tokens=4)
        assert tuned.model_extra["docent"]["run"] == general.id
        with pytest.raises(openai.NotFoundError):  # the HR run, named: as if it did not exist
            bob.chat.completions.create(model=f"docent-tuned:{both.id}", messages=asked, max_tokens=4)
        by_alice = alice.chat.completions.create(model="docent-both", messages=asked, max_tokens=4)
        assert by_alice.model_extra["docent"]["run"] == both.id
        assert {s["doc"] for s in by_alice.model_extra["docent"]["sources"]} & hr
        owner_key = keys.create(Workspace(hr_ws).connect(), "web app")  # the web app asks as whom it signed in
        as_bob = openai.OpenAI(base_url=server.url + "/v1", api_key=owner_key, max_retries=0,
                               default_headers={"X-Docent-User": "bob"})  # fmt: skip
        assert f"docent-both:{both.id}" not in {m.id for m in as_bob.models.list()}
        reply = as_bob.chat.completions.create(model="docent-retrieval", messages=asked, max_tokens=4)
        assert not {s["doc"] for s in reply.model_extra["docent"]["sources"]} & hr
        bob_as_alice = openai.OpenAI(base_url=server.url + "/v1", api_key=bob_key, max_retries=0,
                                     default_headers={"X-Docent-User": "alice"})  # fmt: skip
        with pytest.raises(openai.PermissionDeniedError, match="only as that person"):
            bob_as_alice.models.list()
        people.grant(hr_ws, "everyone", "hr")  # from the next question on, without a restart
        again = bob.chat.completions.create(model="docent-tuned", messages=asked, max_tokens=4)
        assert again.model_extra["docent"]["run"] == both.id
        keys.revoke(Workspace(hr_ws).connect(), "bob's")
        with pytest.raises(openai.AuthenticationError):
            bob.models.list()
    finally:
        server.close()
    asks = [line for line in store.audit_log(Workspace(hr_ws).connect()) if line["action"] == "ask"]
    assert {line["who"] for line in asks} == {"bob", "alice"} and all(line["via"] == "api" for line in asks)
    assert any(line["run"] == both.id and line["sources"] for line in asks if line["who"] == "alice")


def test_single_sign_on_admits_only_people_of_the_workspace(hr_ws: Path) -> None:
    from assistant import access as passwords

    people.add_user(hr_ws, "Carol@Example.com", groups=["hr"])
    db = Workspace(hr_ws).connect()
    logged: list[tuple[str, str, dict[str, str]]] = []
    found = passwords.single_sign_on(db, "carol@example.com", lambda *line: logged.append(line))
    assert found.name == "Carol@Example.com" and found.collections == {"general", "hr"}
    with pytest.raises(passwords.SignInError, match="not a person of this workspace"):
        passwords.single_sign_on(db, "eve@example.com", lambda *line: logged.append(line))
    assert [(who, action) for who, action, _ in logged] == [
        ("Carol@Example.com", "sign-in"),
        ("eve@example.com", "sign-in-failed"),
    ]


def test_users_add_asks_for_the_password_twice_and_keeps_its_hash(hr_ws: Path, monkeypatch, capsys) -> None:
    from assistant import access as passwords

    given = iter(["tulip-orbit-42", "tulip-orbit-4"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(given))
    assert main(["users", "add", "carol", "--password", "--workspace", str(hr_ws)]) == 2
    assert "differ" in capsys.readouterr().err and store.person(Workspace(hr_ws).connect(), "carol") is None
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "tulip-orbit-42")
    assert main(["users", "add", "carol", "--password", "--groups", "hr", "--workspace", str(hr_ws)]) == 0
    assert passwords.verify("tulip-orbit-42", store.password_of(Workspace(hr_ws).connect(), "carol") or "")
    capsys.readouterr()
    assert main(["users", "--workspace", str(hr_ws)]) == 0
    listed = capsys.readouterr().out
    assert "carol" in listed and "password" in listed and "tulip" not in listed


def test_another_collections_document_or_pair_cannot_be_named_into_view_or_changed(hr_ws: Path) -> None:
    from assistant.library import Library

    library, db = Library(hr_ws), Workspace(hr_ws).connect()
    bob = access(hr_ws, "bob")
    hr_doc = next(d for d in store.documents(db, OWNER) if d.collection == "hr")
    general_doc = next(d for d in store.documents(db, OWNER) if d.collection == "general")
    hr_pair = next(p for p in store.pairs(db, OWNER) if p.doc_id == hr_doc.id)
    assert store.document(db, hr_doc.id, bob) is None and library.pairs(bob, hr_doc.id) == []
    with pytest.raises(LookupError, match="no document"):  # the same answer as for an id that does not exist
        library.remove_document(hr_doc.id, bob)
    with pytest.raises(ValueError, match=r"may read .* but not remove it"):  # reading general is not writing it
        library.remove_document(general_doc.id, bob)
    with pytest.raises(LookupError, match="no Q&A pair"):
        library.review_pair(hr_pair.id, bob, delete=True)
    with pytest.raises(ValueError, match="may not add documents to hr"):
        library.upload([("salaries.md", b"# Salaries\n\nEveryone earns the same.\n")], bob, "hr")
    assert store.document(db, hr_doc.id, OWNER) is not None and hr_pair in store.pairs(db, OWNER)  # nothing lost
    people.grant(hr_ws, "everyone", "general", write=True)
    library.remove_document(general_doc.id, access(hr_ws, "bob"))  # now he may
    assert store.document(db, general_doc.id, OWNER) is None


def test_a_workspace_from_before_people_opens_with_everything_general_and_read_by_everyone(tmp_path: Path) -> None:
    import sqlite3

    old = sqlite3.connect(tmp_path / "docent.db")
    old.executescript(
        """CREATE TABLE documents (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
               title TEXT NOT NULL, format TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
               holdout INTEGER NOT NULL DEFAULT 0, ingested_at TEXT NOT NULL);
           CREATE TABLE api_keys (digest TEXT PRIMARY KEY, label TEXT NOT NULL, shown TEXT NOT NULL,
               created_at TEXT NOT NULL, revoked_at TEXT);
           INSERT INTO documents VALUES (1, '/docs/a.md', 'a.md', 'A', 'md', 'x', 1, 0, '2026-01-01');
           INSERT INTO api_keys VALUES ('d', 'helpdesk', 'docent-abcd', '2026-01-01', NULL);
           PRAGMA user_version = 3;"""
    )
    old.close()
    db = Workspace(tmp_path).connect()
    assert [d.collection for d in store.documents(db, OWNER)] == ["general"]
    assert [(k.label, k.person) for k in store.api_keys(db)] == [("helpdesk", None)]  # the owner's, as before
    assert store.grants(db) == [("everyone", "general", False)]
    people.add_user(tmp_path, "bob")
    assert [d.name for d in store.documents(db, access(tmp_path, "bob"))] == ["a.md"]
    people.revoke(tmp_path, "everyone", "general")
    db.close()
    assert store.grants(Workspace(tmp_path).connect()) == []  # a revoke stays revoked when the workspace reopens


def test_removing_a_run_takes_back_what_its_adapter_learnt(hr_ws: Path, tiny_llm: Path, capsys) -> None:
    import os
    import socket

    import psutil

    from tests.test_api import plant_run

    older = plant_run(hr_ws, tiny_llm, "20260101-000000-general")
    hr_run = plant_run(hr_ws, tiny_llm, "20260102-000000-everything")
    training = plant_run(hr_ws, tiny_llm, "20260103-000000-training")
    owner = {"host": socket.gethostname(), "pid": os.getpid(), "started": psutil.Process().create_time()}
    training.status, training.owner = "running", owner  # this process: alive
    training.save()
    ws = ["--workspace", str(hr_ws)]
    assert main(["runs", "--remove", training.id, *ws]) == 2 and "still training" in capsys.readouterr().err
    assert main(["runs", "--remove", hr_run.id, "--user", "alice", *ws]) == 2  # the owner's, or an admin's page
    assert main(["runs", "--remove", hr_run.id, *ws]) == 0
    assert not hr_run.folder.exists() and training.folder.exists()
    assert runs.latest_finished(hr_ws).id == older.id  # the newest run left answers from now on
    capsys.readouterr()
    assert main(["ask", HR_QUESTION, "--mode", "tuned", "--run", hr_run.id, "--llm", str(tiny_llm), *ws]) == 2
    assert f"no run '{hr_run.id}'" in capsys.readouterr().err
    (removed,) = [line for line in store.audit_log(Workspace(hr_ws).connect()) if line["action"] == "run-remove"]
    assert removed["run"] == hr_run.id and removed["who"] == ""
