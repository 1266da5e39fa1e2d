"""Retrieval on the sample corpus: the right document and the answer's chunk come first; batch search by file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.retrieve import Retriever
from ingest.index import Index
from tests.conftest import SAMPLE_QUESTIONS


@pytest.fixture(scope="module")
def questions() -> list[dict]:
    return [json.loads(line) for line in SAMPLE_QUESTIONS.read_text().splitlines()]


def test_sample_questions_find_their_document_and_answer(sample_ws: Path, embedder, questions) -> None:
    results = Retriever(sample_ws, embedder).search([q["question"] for q in questions], k=5)
    doc_at_3 = np.mean([any(s.doc == q["doc"] for s in r[:3]) for q, r in zip(questions, results)])
    answer_at_5 = np.mean([any(q["answer"].lower() in s.text.lower() for s in r) for q, r in zip(questions, results)])
    assert doc_at_3 >= 0.9, doc_at_3
    assert answer_at_5 >= 0.85, answer_at_5


def test_fusion_beats_or_matches_each_ranking_alone(sample_ws: Path, embedder, questions) -> None:
    retriever = Retriever(sample_ws, embedder)
    found = {}
    for fusion in ("rrf", "dense", "bm25"):
        results = retriever.search([q["question"] for q in questions], k=1, fusion=fusion)
        found[fusion] = np.mean([r[0].doc == q["doc"] for q, r in zip(questions, results)])
    assert found["rrf"] >= max(found["dense"], found["bm25"]) - 0.02, found


def test_exact_codes_are_found(sample_ws: Path, embedder) -> None:
    (top,) = Retriever(sample_ws, embedder).search(["E-420"], k=3)
    assert any("E-420" in s.text for s in top)


def test_approximate_index_agrees_with_exact_search(sample_ws: Path, embedder, questions) -> None:
    from ingest.store import Workspace

    db = Workspace(sample_ws).connect()
    rows = db.execute("SELECT id, text, embedding FROM chunks ORDER BY id").fetchall()
    ids = np.array([r[0] for r in rows])
    vectors = np.stack([np.frombuffer(r[2], dtype=np.float32) for r in rows])
    texts = [r[1] for r in rows]
    query = embedder.encode([q["question"] for q in questions])
    flat = Index.build(ids, vectors, texts, "flat").search(
        query, [q["question"] for q in questions], k=1, fusion="dense"
    )
    hnsw = Index.build(ids, vectors, texts, "hnsw").search(
        query, [q["question"] for q in questions], k=1, fusion="dense"
    )
    agree = np.mean([a[0].chunk_id == b[0].chunk_id for a, b in zip(flat, hnsw)])
    assert agree >= 0.95


def test_search_file_writes_one_json_line_per_question(sample_ws: Path, tmp_path: Path, capsys) -> None:
    from assistant.cli import main

    src = tmp_path / "q.jsonl"
    src.write_text(
        json.dumps({"question": "How long is the payment term?", "id": 7}) + "\n"
        + "this is not json\n"
        + json.dumps({"answer": "no question here"}) + "\n"
        + json.dumps({"question": "Who is the HR Director?"}) + "\n"
    )  # fmt: skip
    code = main(["search", "--file", str(src), "--json", "-k", "3", "--workspace", str(sample_ws)])
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1  # some lines were bad…
    assert [line["question"] for line in lines] == [
        "How long is the payment term?",
        "Who is the HR Director?",
    ]  # …the rest answered
    assert lines[0]["id"] == 7 and len(lines[0]["results"]) == 3
    assert {"doc", "path", "heading", "score", "text"} <= set(lines[0]["results"][0])
    assert f"{src}:2: skipped" in err and f'{src}:3: skipped, no "question" field' in err


def test_search_prints_ranked_chunks(own_sample_ws: Path, capsys) -> None:
    from assistant.cli import main

    assert main(["search", "VPN certificate", "-k", "2", "--workspace", str(own_sample_ws)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1. ") and "\n2. " in out and "score" in out


def test_a_person_who_may_read_few_chunks_gets_their_exact_neighbours_from_an_approximate_index() -> None:
    """A filtered walk through an HNSW graph can lose the neighbours of a small allowed set (bench/filtered_search.py);
    up to EXACT_UP_TO allowed chunks, Docent searches their vectors exactly, kept for the next question."""
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(4000, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(4000, dtype=np.int64) * 3 + 5  # chunk ids are not row numbers
    allowed = np.sort(rng.choice(ids, 200, replace=False))
    queries = vectors[rng.choice(4000, 30)] + rng.normal(0, 0.3, (30, 64)).astype(np.float32)
    index = Index.build(ids, vectors, [f"chunk {i}" for i in ids], "hnsw")
    found = index.search(queries, ["q"] * 30, k=5, fusion="dense", allowed=allowed)
    rows = np.searchsorted(ids, allowed)
    truth = [allowed[np.argsort(-(vectors[rows] @ q))[:5]].tolist() for q in queries]
    assert [[h.chunk_id for h in hits] for hits in found] == truth  # the exact top 5, in order
    assert all(abs(h.dense - float(vectors[np.searchsorted(ids, h.chunk_id)] @ q)) < 1e-4
               for hits, q in zip(found, queries, strict=True) for h in hits)  # fmt: skip
    assert list(index.subsets) == [allowed.tobytes()]  # searched exactly, the vectors kept for the next question
    index.search(queries[:1], ["q"], k=5, fusion="dense", allowed=allowed[:50])
    assert len(index.subsets) == 2 and len(index.search(queries[:1], ["q"], k=5)[0]) == 5
    for kind in ("hnsw", "flat"):  # allowed chunks of which none is indexed: nothing found, no error
        built = index if kind == "hnsw" else Index.build(ids, vectors, [f"chunk {i}" for i in ids], "flat")
        assert built.search(queries[:1], ["chunk"], k=5, allowed=np.array([1, 2], dtype=np.int64)) == [[]]
