"""`docent eval`: batched answers equal single ones, intervals cover the truth, reports hold every mode."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.config import AnswerConfig
from assistant.evaluate import Question, answer_all, bootstrap, file_questions, paired, same_reading, summarise
from assistant.generate import LLM
from assistant.prompt import base_messages, retrieval_messages
from assistant.retrieve import Retriever
from ingest.records import OWNER


def test_batched_answers_match_one_by_one_and_are_scored(tiny_llm: Path, sample_ws: Path, embedder) -> None:
    llm = LLM(str(tiny_llm))
    retriever = Retriever(sample_ws, embedder)
    questions = [
        Question("How many days of annual leave are earned per month?", "2.5 days"),
        Question("Who is the HR Director?", "Helena Saarikivi"),
        Question("What is the VPN client called?", "QM Tunnel"),
    ]
    cfg = AnswerConfig(max_new_tokens=6, top_k=3)
    for mode in ("base", "retrieval"):
        results = answer_all(questions, mode, llm, retriever, cfg, batch_size=2, progress=False)
        assert [r.question for r in results] == [q.question for q in questions]
        for r, q in zip(results, questions):
            messages = retrieval_messages(q.question, r.sources) if mode == "retrieval" else base_messages(q.question)
            alone, _ = llm.generate(messages, max_new_tokens=6)
            assert r.answer == alone  # left padding in a batch changes nothing
            assert (len(r.sources) == 3) == (mode == "retrieval")
        stats = summarise(results, seed=0)
        assert stats["n"] == 3 and set(stats) >= {"exact", "f1", "contains", "abstain", "length", "intervals"}


def test_a_question_that_asks_for_a_fact_gets_a_short_answer_and_its_own_batch() -> None:
    class Recording:
        def __init__(self) -> None:
            self.calls: list[tuple[int, list[str]]] = []

        def generate_batch(self, messages, max_new_tokens, tuned=False, adapter=None):  # type: ignore[no-untyped-def]
            self.calls.append((max_new_tokens, [m[-1]["content"] for m in messages]))
            return ["an answer"] * len(messages)

    questions = [
        Question(q, "x")
        for q in (
            "What does the handbook say about travel?",
            "Who is the HR Director?",
            "Summarise the VPN runbook.",
            "How many days of leave are earned?",
            "When was Quillmate founded?",
        )
    ]
    llm = Recording()
    results = answer_all(questions, "base", llm, None, AnswerConfig(max_new_tokens=160), batch_size=2, progress=False)  # type: ignore[arg-type]
    assert [r.question for r in results] == [q.question for q in questions]  # in the order asked
    caps = {question: cap for cap, asked in llm.calls for question in asked}
    assert caps == {
        "Who is the HR Director?": 64,
        "How many days of leave are earned?": 64,
        "When was Quillmate founded?": 64,
        "What does the handbook say about travel?": 160,
        "Summarise the VPN runbook.": 160,
    }
    assert all(len({caps[q] for q in asked}) == 1 for _, asked in llm.calls)  # no batch mixes the two


def test_the_oracle_reuses_an_answer_only_where_retrieval_read_the_same_chunk(sample_ws: Path, embedder) -> None:
    import hashlib

    class Echo:  # the same prompt always gets the same answer; different prompts, different answers
        def __init__(self) -> None:
            self.asked: list[str] = []

        def generate_batch(self, messages, max_new_tokens, tuned=False, adapter=None):  # type: ignore[no-untyped-def]
            self.asked += [m[-1]["content"] for m in messages]
            return [hashlib.sha1(json.dumps(m).encode()).hexdigest() for m in messages]

    retriever = Retriever(sample_ws, embedder)
    cfg = AnswerConfig(top_k=1)
    leave, vpn = "How many days of annual leave are earned per month?", "What is the VPN client called?"
    top = retriever.search([leave, vpn], k=5)
    other = next(s for s in top[1] if s.chunk_id != top[1][0].chunk_id)  # a chunk retrieval does not read first
    questions = [Question(leave, "2.5 days", doc=top[0][0].doc), Question(vpn, "QM Tunnel", chunk_id=other.chunk_id)]
    llm = Echo()
    retrieval = answer_all(questions, "retrieval", llm, retriever, cfg, progress=False)  # type: ignore[arg-type]
    done = same_reading(questions, retrieval, retriever, cfg)
    assert set(done) == {leave}  # the oracle reads the leave question's top chunk, and another chunk for the VPN
    llm.asked.clear()
    oracle = answer_all(questions, "oracle", llm, retriever, cfg, progress=False, done=done)  # type: ignore[arg-type]
    assert len(llm.asked) == 1 and vpn in llm.asked[0]  # only the question read from a different chunk is asked
    afresh = answer_all(questions, "oracle", Echo(), retriever, cfg, progress=False)  # type: ignore[arg-type]
    assert [r.answer for r in oracle] == [r.answer for r in afresh]  # reused or not, the same answers
    assert [r.sources[0].chunk_id for r in oracle] == [top[0][0].chunk_id, other.chunk_id]
    assert same_reading(questions, retrieval, retriever, AnswerConfig(top_k=2)) == {}  # two chunks: another prompt


def test_the_best_source_comes_last_next_to_the_question(sample_ws: Path, embedder) -> None:
    sources = Retriever(sample_ws, embedder).search(["Who is the HR Director?"], k=3)[0]
    user = retrieval_messages("Who is the HR Director?", sources)[1]["content"]
    positions = [user.index(s.text) for s in sources]
    assert positions == sorted(positions, reverse=True)  # rank 1 last
    assert user.rstrip().endswith("Question: Who is the HR Director?")


def test_bootstrap_interval_covers_the_true_mean() -> None:
    rng = np.random.default_rng(1)
    covered = 0
    for trial in range(200):
        values = (rng.random(150) < 0.3).astype(float).tolist()  # true mean 0.3
        low, high = bootstrap(values, seed=trial, rounds=500)
        covered += low <= 0.3 <= high
    assert 0.90 <= covered / 200 <= 0.99  # a 95% interval, give or take the simulation's own noise


def test_paired_table_counts_disagreements() -> None:
    from assistant.evaluate import Result

    def results(flags: list[int], mode: str) -> list[Result]:
        return [Result("q", "r", mode, "a", {"contains": float(f)}) for f in flags]

    rows = paired({"base": results([1, 0, 0, 1], "base"), "both": results([1, 1, 1, 0], "both")})
    assert rows == [{"a": "base", "b": "both", "a_only": 1, "b_only": 2, "both": 1, "neither": 0}]


def test_unanswerable_questions_are_marked_by_null_or_answerable_false_or_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    rows = [
        {"question": "Who is the HR Director?", "answer": "Helena Saarikivi", "doc": "hr/employee-handbook.pdf"},
        {"question": "What is the CEO's favourite colour?", "answer": None, "doc": "hr/employee-handbook.pdf"},
        {"question": "Who is the CFO's assistant?", "answerable": False},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    got = file_questions(path)
    assert [q.answer for q in got] == ["Helena Saarikivi", None, None]
    assert [q.doc for q in got] == ["hr/employee-handbook.pdf", "", ""]  # no source to find for the unanswered
    assert [q.answer for q in file_questions(path, unanswerable=True)] == [None, None, None]  # another corpus's
    path.write_text('{"question": "Where?", "answer": ""}\n')  # empty is a slip, not a mark
    with pytest.raises(ValueError, match=r'q\.jsonl:1: no "answer" field.*null for a question the documents do not'):
        file_questions(path)


def test_summary_and_paired_table_keep_unanswerable_questions_apart() -> None:
    from assistant.evaluate import Result
    from assistant.metrics import score

    def results(mode: str, answers: list[str]) -> list[Result]:
        references = ["2.5 days", "Helena Saarikivi", None, None, None]
        return [Result(f"q{i}", ref, mode, a, score(a, ref)) for i, (a, ref) in enumerate(zip(answers, references))]

    retrieval = results("retrieval", ["2.5 days", "Helena", "Paris", "I don't know.", "John Smith"])
    both = results("both", ["2.5 days [1]", "Helena Saarikivi", "The documents don't say.", "The sources do not say.",
                            "John Smith"])  # fmt: skip
    stats = summarise(retrieval, seed=0)
    assert stats["n"] == 2 and stats["contains"] == 0.5  # the answerable questions' scores, as before
    held_back = stats["unanswerable"]
    assert held_back["n"] == 3 and held_back["abstained"] == pytest.approx(1 / 3)
    assert held_back["hallucinated"] == pytest.approx(2 / 3)
    assert held_back["intervals"]["abstained"][0] <= 1 / 3 <= held_back["intervals"]["abstained"][1]
    assert "unanswerable" not in summarise(retrieval[:2], seed=0)
    rows = paired({"retrieval": retrieval, "both": both})
    assert rows == [
        {
            "a": "retrieval",
            "b": "both",
            "a_only": 0,
            "b_only": 1,
            "both": 1,
            "neither": 0,
            "a_abstains_b_invents": 0,
            "b_abstains_a_invents": 1,
        }
    ]


def test_question_file_errors_name_the_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "Who?", "answer": "Me"}\n{"question": "Where?"}\n')
    with pytest.raises(ValueError, match=r'q\.jsonl:2: no "answer" field'):
        file_questions(path)
    path.write_text("{oops\n")
    with pytest.raises(ValueError, match=r"q\.jsonl:1: not JSON"):
        file_questions(path)
    path.write_text(json.dumps({"question": "Why? " * 1000, "answer": "x"}) + "\n")
    with pytest.raises(ValueError, match=r"q\.jsonl:1: the question is 4,999 characters long, over the limit"):
        file_questions(path)


def test_eval_writes_a_report_for_every_mode_and_resumes(
    tiny_llm: Path, own_sample_ws: Path, tmp_path, monkeypatch, capsys
):
    from assistant import runs
    from assistant.cli import main
    from assistant.config import TuneConfig
    from assistant.tune import tune

    tune(
        TuneConfig(llm=str(tiny_llm), recipe="closed-book", epochs=1, max_pairs=16, batch_size=8),
        own_sample_ws,
        progress=False,
    )
    args = ["eval", "--workspace", str(own_sample_ws), "--limit", "6", "--max-new-tokens", "4", "--quiet",
            "--out", str(tmp_path / "r1")]  # fmt: skip
    assert main(args) == 0
    report = json.loads((tmp_path / "r1" / "report.json").read_text())
    assert report["run"] == runs.latest_finished(own_sample_ws).id
    for mode in ("base", "tuned", "retrieval", "both", "oracle"):
        stats = report["modes"][mode]
        assert stats["n"] == 6 and 0 <= stats["contains"] <= 1 and len(stats["intervals"]["contains"]) == 2
        assert stats["latency"]["first_token_p50"] > 0
    assert report["modes"]["oracle"][f"recall@{AnswerConfig().top_k}"] == 1.0  # the oracle reads the true source
    assert len(report["questions"]) == 6 and len(report["paired"]) == 10
    page = (tmp_path / "r1" / "report.html").read_text()
    for mode in ("base", "tuned", "retrieval", "both", "oracle"):
        assert f"<th>{mode}</th>" in page

    calls = []
    original = LLM.generate_batch
    monkeypatch.setattr(LLM, "generate_batch", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    assert main([*args[:-1], str(tmp_path / "r2")]) == 0
    assert calls == []  # every answer came from the kept answers: nothing asked twice
    again = json.loads((tmp_path / "r2" / "report.json").read_text())["modes"]
    for mode, stats in report["modes"].items():  # the same scores; only the timings are measured afresh
        assert {k: v for k, v in again[mode].items() if k != "latency"} == {
            k: v for k, v in stats.items() if k != "latency"
        }
    capsys.readouterr()
    compare = ["eval", "--workspace", str(own_sample_ws), "--compare", str(tmp_path / "r1"), str(tmp_path / "r2")]
    assert main(compare) == 0
    assert "retrieval  contains" in capsys.readouterr().out


def test_eval_scores_another_corpus_questions_as_unanswerable(tiny_llm: Path, own_sample_ws: Path, tmp_path, capsys):
    from assistant.cli import main

    film = tmp_path / "film.jsonl"
    film.write_text(
        "".join(
            json.dumps({"question": q, "answer": a}) + "\n"
            for q, a in [
                ("Who directed Poor Things?", "Yorgos Lanthimos"),
                ("When was Oppenheimer released?", "July 21, 2023"),
                ("What is the capital of France?", "Paris"),
            ]
        )
    )
    args = [
        "eval",
        "--workspace",
        str(own_sample_ws),
        "--llm",
        str(tiny_llm),
        "--modes",
        "base,retrieval",
        "--limit",
        "3",
        "--unanswerable",
        str(film),
        "--max-new-tokens",
        "4",
        "--quiet",
        "--out",
        str(tmp_path / "r"),
    ]
    assert main(args) == 0
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["question_set"]["unanswerable"] == [str(film)] and report["question_set"]["n"] == 6
    for mode in ("base", "retrieval"):
        stats = report["modes"][mode]
        assert stats["n"] == 3 and 0 <= stats["contains"] <= 1  # the held-out questions, scored as before
        held_back = stats["unanswerable"]
        assert held_back["n"] == 3 and held_back["abstained"] + held_back["hallucinated"] == pytest.approx(1.0)
    asked = [q for q in report["questions"] if q["reference"] is None]
    assert sorted(q["question"] for q in asked) == sorted(json.loads(line)["question"] for line in film.open())
    assert all(a["abstain"] == 1 - a["hallucinated"] for q in asked for a in q["answers"].values())
    assert "a_abstains_b_invents" in report["paired"][0]
    assert report["modes"]["retrieval"]["unanswerable"]["not_asked"] == 1.0  # no sample document is about films
    assert report["modes"]["retrieval"]["unanswerable"]["abstained"] == 1.0
    assert "Questions the documents do not answer" in (tmp_path / "r" / "report.html").read_text()
    out = capsys.readouterr().out
    assert "3 questions with an answer" in out and "3 questions the documents do not answer" in out


def test_held_out_questions_of_two_documents_with_one_name_keep_their_own_slice(tmp_path: Path, embedder) -> None:
    from assistant.evaluate import workspace_questions
    from ingest import store
    from ingest.config import IngestConfig
    from ingest.pipeline import ingest
    from ingest.store import Workspace

    for team, room in (("hr", "Heron"), ("it", "Osprey")):
        (tmp_path / team).mkdir()
        (tmp_path / team / "policy.md").write_text(
            f"# Policy\n\nThe {room} room seats 12 people and is booked through Kompassi.\n"
            f"The {room} room was renovated in March 2023 by Lindqvist Interiors.\n"
        )
    ingest([tmp_path / "hr", tmp_path / "it"], IngestConfig(holdout_share=0.9), tmp_path / "ws", progress=False,
           embedder=embedder)  # fmt: skip
    db = Workspace(tmp_path / "ws").connect()
    hr, it = sorted(store.documents(db, OWNER), key=lambda d: d.path)
    assert hr.name == it.name == "policy.md"
    trained = {hr.path: hr.sha256, it.path: "changed since"}  # the run saw hr's as it is, it's before a change
    found = workspace_questions(db, trained, OWNER)
    path_of = {
        s.chunk_id: s.path for s in store.sources(db, [q.chunk_id for q in found if q.chunk_id is not None], OWNER)
    }
    slices = {(path_of[q.chunk_id], q.slice) for q in found if q.chunk_id is not None}
    assert slices == {(hr.path, "trained documents"), (it.path, "unseen documents")}
