"""Questions asked at the same moment are answered in one batch, each answer streamed and equal to a lone one."""

from __future__ import annotations

import threading
from pathlib import Path

from assistant.config import AnswerConfig
from assistant.generate import LLM, Timing
from assistant.prompt import base_messages
from assistant.serving import Batcher

QUESTIONS = ["Where do visitors park?", "Who replaces lost badges?", "When does the canteen open?",
             "What is the locker number?", "Where is the assembly point?"]  # fmt: skip


def test_concurrent_answers_are_batched_and_equal_lone_answers(tiny_llm: Path, monkeypatch) -> None:
    llm = LLM(str(tiny_llm))
    alone = [llm.generate(base_messages(q), max_new_tokens=12)[0] for q in QUESTIONS]
    batches: list[int] = []
    original = llm.model.generate

    def counting(*args, **kwargs):
        batches.append(kwargs["input_ids"].shape[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(llm.model, "generate", counting)
    batcher = Batcher(llm, wait_s=0.3)
    answers: dict[int, str] = {}
    timings: dict[int, Timing] = {}

    def ask(i: int) -> None:
        timings[i] = Timing()
        answers[i] = "".join(batcher.stream(base_messages(QUESTIONS[i]), 12, timings[i])).strip()

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(QUESTIONS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [answers[i] for i in range(len(QUESTIONS))] == alone
    assert max(batches) > 1 and sum(batches) == len(QUESTIONS)  # answered together, each once
    assert all(0 < timings[i].tokens <= 12 and timings[i].total_s > 0 for i in timings)


def test_calls_run_on_the_batcher_thread_and_errors_reach_the_caller(tiny_llm: Path) -> None:
    import pytest

    batcher = Batcher(LLM(str(tiny_llm)))
    assert batcher.call(threading.current_thread) is batcher.thread

    def broken() -> None:
        raise ValueError("the index is gone")

    with pytest.raises(ValueError, match="the index is gone"):
        batcher.call(broken)
    timing = Timing()
    "".join(batcher.stream(base_messages(QUESTIONS[0]), 4, timing))
    assert timing.tokens > 0  # the loop went on after the failed call


def test_a_question_crosses_to_the_batcher_once_and_is_answered_as_answer_does(
    tiny_llm: Path, sample_ws: Path, embedder
) -> None:
    from assistant.answer import answer
    from assistant.retrieve import Retriever

    retriever, llm = Retriever(sample_ws, embedder), LLM(str(tiny_llm))
    cfg = AnswerConfig(max_new_tokens=8)
    question = "How many days of annual leave do employees earn per month?"
    alone = answer(question, "retrieval", llm, retriever, cfg)
    batcher = Batcher(llm)
    threads: list[threading.Thread] = []

    def noted(work):  # type: ignore[no-untyped-def]
        def run(*args, **kwargs):  # type: ignore[no-untyped-def]
            threads.append(threading.current_thread())
            return work(*args, **kwargs)

        return run

    retriever.timed_search = noted(retriever.timed_search)  # type: ignore[method-assign]
    retriever.embedder.encode = noted(retriever.embedder.encode)  # type: ignore[method-assign]
    try:
        asking = batcher.ask(question, "retrieval", retriever, cfg)
        shown = "".join(asking.text())
    finally:
        del retriever.timed_search, retriever.embedder.encode
    result = asking.answer()
    assert threads and set(threads) == {batcher.thread}  # search and support ran there, not in the asking thread
    assert shown.strip() == result.text == alone.text and result.sources == alone.sources
    assert [s.sentence for s in result.support] == [s.sentence for s in alone.support]
    assert result.timing.tokens > 0 and result.timing.total_s > 0
    turned_away = batcher.ask("What is the capital of France?", "retrieval", retriever, cfg)
    assert "".join(turned_away.text()) == "The documents don't say." and not turned_away.answer().covered


def test_a_cancelled_question_stops_its_row_at_the_next_token(tiny_llm: Path, monkeypatch) -> None:
    monkeypatch.setattr("assistant.generate.loop_start", lambda text: None)  # the random model may repeat itself
    batcher = Batcher(LLM(str(tiny_llm)))
    cfg = AnswerConfig(max_new_tokens=40, llm=str(tiny_llm))
    whole = batcher.ask("Tell me about the weather", "base", None, cfg)
    assert "".join(whole.text()) and whole.answer().timing.tokens == 40
    asking = batcher.ask("Tell me about the weather", "base", None, cfg)
    pieces = asking.text()
    next(pieces)
    asking.cancel()
    assert len(list(pieces)) <= 2  # a token or two already on their way, not the 39 left


def test_the_batcher_holds_a_both_answer_and_reads_again_one_without_support(
    sample_ws: Path, embedder, monkeypatch
) -> None:
    from assistant.retrieve import Retriever

    class Checked:  # all Batcher.ask asks of its LLM before the model's turn
        def check(self, tuned: bool, adapter: str | None = None) -> None:
            pass

    retriever, batcher = Retriever(sample_ws, embedder), Batcher(Checked(), wait_s=0)  # type: ignore[arg-type]
    said = {True: ["Seventeen", " zebras [1]"], False: ["You earn", " 2.5 days."]}
    decoded: list[bool] = []

    def decode(batch) -> None:  # type: ignore[no-untyped-def]
        for request in batch:
            decoded.append(request.tuned)
            for piece in said[request.tuned]:
                request.put(piece)

    monkeypatch.setattr(batcher, "_decode", decode)
    question = "How many days of annual leave do employees earn per month?"
    job = batcher.ask(question, "both", retriever, AnswerConfig())
    assert list(job.text()) == ["You earn", " 2.5 days."]  # the adapter's answer never reached the asker
    result = job.answer()
    assert decoded == [True, False] and result.reread and result.text == "You earn 2.5 days." and result.support
    assert 0 < result.timing.first_token_s <= result.timing.total_s  # counted from the question, both readings
    said[True] = ["2.5", " days [1]", " 2.5 days [1]", " 2.5 days [1]", " 2.5 days [1]"]
    job = batcher.ask(question, "both", retriever, AnswerConfig())
    assert list(job.text()) == ["2.5 days"] and not job.answer().reread  # held, then given whole and cut
    assert job.answer().timing.first_token_s == job.answer().timing.total_s > 0  # its first text: the whole
    assert decoded == [True, False, True]
    job = batcher.ask(question, "retrieval", retriever, AnswerConfig())
    assert list(job.text()) == ["You earn", " 2.5 days."]  # streamed as it comes
