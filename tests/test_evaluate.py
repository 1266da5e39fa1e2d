"""Batched answering and scoring of many questions in each mode."""

from __future__ import annotations

from pathlib import Path

from assistant.config import AnswerConfig
from assistant.evaluate import answer_all, summary
from assistant.generate import LLM
from assistant.prompt import base_messages, retrieval_messages
from assistant.retrieve import Retriever


def test_batched_answers_match_one_by_one_and_are_scored(tiny_llm: Path, sample_ws: Path, embedder) -> None:
    llm = LLM(str(tiny_llm))
    retriever = Retriever(sample_ws, embedder)
    questions = [
        {"question": "How many days of annual leave are earned per month?", "answer": "2.5 days"},
        {"question": "Who is the HR Director?", "answer": "Helena Saarikivi"},
        {"question": "What is the VPN client called?", "answer": "QM Tunnel"},
    ]
    cfg = AnswerConfig(max_new_tokens=6)
    for mode in ("base", "retrieval"):
        results = answer_all(questions, mode, llm, retriever, cfg, batch_size=2, progress=False)
        assert [r.question for r in results] == [q["question"] for q in questions]
        for r, q in zip(results, questions):
            messages = (
                retrieval_messages(q["question"], r.sources) if mode == "retrieval" else base_messages(q["question"])
            )
            alone, _ = llm.generate(messages, max_new_tokens=6)
            assert r.answer == alone  # left padding in a batch changes nothing
            assert (len(r.sources) == 3) == (mode == "retrieval")
        stats = summary(results)
        assert stats["n"] == 3 and set(stats) >= {"exact", "f1", "contains", "abstain", "length"}
