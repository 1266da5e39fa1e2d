"""Q&A pairs: supported by their chunk, deduplicated, retrievable, split so held-out questions stay unseen."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from assistant.retrieve import Retriever
from ingest import pipeline, store
from ingest.config import IngestConfig
from ingest.pairs import make_pairs, normalise
from ingest.pipeline import ingest
from ingest.records import OWNER, StoredChunk
from ingest.store import Workspace
from tests.docs import write_all


@pytest.fixture(scope="module")
def pairs(sample_ws: Path) -> list[dict]:
    db = Workspace(sample_ws).connect()
    rows = db.execute(
        "SELECT p.*, c.text AS chunk_text FROM pairs p JOIN chunks c ON c.id = p.chunk_id ORDER BY p.id"
    ).fetchall()
    return [dict(r) for r in rows]


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_every_answer_is_stated_by_its_chunk(pairs: list[dict]) -> None:
    assert len(pairs) > 1000
    for p in pairs:
        chunk = squash(p["chunk_text"])
        assert squash(p["evidence"]) in chunk, p
        assert squash(p["answer"]) in squash(p["evidence"]), p


def test_each_fact_is_trained_in_several_phrasings(pairs: list[dict]) -> None:
    facts: dict[str, int] = {}
    for p in pairs:
        if p["split"] == "train" and p["kind"] != "passage":
            facts[p["fact"]] = facts.get(p["fact"], 0) + 1
    assert len(facts) > 300
    assert sum(facts.values()) / len(facts) >= 2.0


def test_questions_are_unique(pairs: list[dict]) -> None:
    questions = [normalise(p["question"]) for p in pairs]
    assert len(questions) == len(set(questions))


def test_held_out_questions_are_not_training_questions(pairs: list[dict], embedder) -> None:
    train = [p for p in pairs if p["split"] == "train"]
    heldout = [p for p in pairs if p["split"] == "heldout"]
    assert len(heldout) >= 50
    assert not {normalise(p["question"]) for p in heldout} & {normalise(p["question"]) for p in train}
    assert not {p["fact"] for p in heldout} & {p["fact"] for p in train}
    held_vecs = embedder.encode([p["question"] for p in heldout])
    train_vecs = embedder.encode([p["question"] for p in train if p["kind"] != "passage"])
    assert float((held_vecs @ train_vecs.T).max()) < 0.97  # no held-out question is a rewording of a trained one
    trained_chunks = {p["chunk_id"] for p in train if p["kind"] == "passage"}
    assert all(p["chunk_id"] in trained_chunks for p in heldout)  # their facts are still in training, as text


def test_kept_questions_retrieve_their_source(pairs: list[dict], sample_ws: Path, embedder) -> None:
    chosen = [p for p in pairs if p["kind"] != "passage"][::25]
    retriever = Retriever(sample_ws, embedder)
    results = retriever.search([p["question"] for p in chosen], k=IngestConfig().roundtrip_k)
    for p, sources in zip(chosen, results):
        assert any(s.chunk_id == p["chunk_id"] or p["evidence"] in s.text for s in sources), p["question"]


def test_round_trip_drops_questions_that_retrieve_another_chunk() -> None:
    chunks = [StoredChunk(1, "Guide", "Guide", "The gate code is 4471 for the east entrance.")]
    miss = make_pairs(chunks, lambda qs, _: [[(99, "other")] for _ in qs], lambda ts: np.eye(len(ts)))
    hit = make_pairs(chunks, lambda qs, _: [[(1, chunks[0].text)] for _ in qs], lambda ts: np.eye(len(ts)))
    assert [p.template for p in miss] == ["passage", "passage"]
    assert any(p.answer == "4471" for p in hit)


def test_split_is_seeded_and_stable(tmp_path: Path, embedder) -> None:
    write_all(tmp_path / "docs")
    for i in range(6):
        (tmp_path / "docs" / f"extra{i}.md").write_text(
            f"# Room {i}\n\nMeeting room {i} seats {i + 4} people and is booked through Kompassi.\n"
            f"The room was renovated in March 202{i} by Lindqvist Interiors.\n"
        )
    settings = {"holdout_docs": 0.3, "holdout_share": 0.5, "seed": 7}
    first = tmp_path / "ws1"
    ingest([tmp_path / "docs"], IngestConfig(**settings), first, progress=False, embedder=embedder)
    second = tmp_path / "ws2"
    ingest([tmp_path / "docs"], IngestConfig(**settings), second, progress=False, embedder=embedder)

    def splits(ws: Path) -> list[tuple[str, str, str]]:
        return sorted((p.document, p.question, p.split) for p in store.pairs(Workspace(ws).connect(), OWNER))

    assert splits(first) == splits(second)
    db = Workspace(first).connect()
    unseen_docs = {r[0] for r in db.execute("SELECT name FROM documents WHERE holdout = 1")}
    assert len(unseen_docs) == round(0.3 * 11)
    by_doc: dict[str, set[str]] = {}
    for name, _, split in splits(first):
        by_doc.setdefault(name, set()).add(split)
    for name, found in by_doc.items():
        assert found == {"unseen"} if name in unseen_docs else "unseen" not in found
    other = tmp_path / "ws3"
    ingest([tmp_path / "docs"], IngestConfig(**{**settings, "seed": 8}), other, progress=False, embedder=embedder)
    assert splits(other) != splits(first)


def test_new_question_templates_rewrite_the_pairs_of_an_unchanged_workspace(tmp_path: Path, embedder, monkeypatch):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "room.md").write_text(
        "# Room 4\n\nMeeting room 4 seats 8 people and is booked through Kompassi.\n"
        "The room was renovated in March 2021 by Lindqvist Interiors.\n"
    )
    ws = tmp_path / "ws"
    written: list[int] = []

    def recording(chunks, *args, **kwargs):
        written.append(len(chunks))
        return make_pairs(chunks, *args, **kwargs)

    monkeypatch.setattr(pipeline, "make_pairs", recording)
    for templates in (1, 1, 2):
        monkeypatch.setattr(pipeline, "TEMPLATES", templates)
        ingest([tmp_path / "docs"], IngestConfig(), ws, progress=False, embedder=embedder)
    assert written == [1, 1]  # the first ingest, then the new templates; not the unchanged re-ingest between
    assert Workspace(ws).connect().execute("SELECT COUNT(*) FROM pairs").fetchone()[0] > 0


def test_export_writes_chat_messages(sample_ws: Path, tmp_path: Path) -> None:
    from assistant.cli import main

    out = tmp_path / "train.jsonl"
    assert main(["pairs", "export", str(out), "--workspace", str(sample_ws), "--with-source"]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    db = Workspace(sample_ws).connect()
    assert len(records) == db.execute("SELECT COUNT(*) FROM pairs WHERE split = 'train'").fetchone()[0]
    for r in records[:50]:
        assert [m["role"] for m in r["messages"]] == ["user", "assistant"]
        assert r["messages"][1]["content"] in r["source"]["evidence"] and r["source"]["split"] == "train"
