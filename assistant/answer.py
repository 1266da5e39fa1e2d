"""One question, one mode: retrieve when the mode reads sources, build the prompt, stream the answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.config import MODES, READS_SOURCES, USES_ADAPTER, AnswerConfig, check_question
from assistant.generate import Streams, Timing
from assistant.prompt import base_messages, retrieval_messages
from assistant.retrieve import Retriever, Source


@dataclass
class Answer:
    question: str
    mode: str
    text: str
    sources: list[Source] = field(default_factory=list)
    retrieve_s: float = 0.0
    timing: Timing = field(default_factory=Timing)


def answer(
    question: str,
    mode: str,
    llm: Streams,
    retriever: Retriever | None,
    cfg: AnswerConfig,
    on_text: Callable[[str], None] | None = None,
) -> Answer:
    question = check_question(question)
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; modes: {', '.join(MODES)}")
    result = Answer(question, mode, "")
    if mode in READS_SOURCES:
        if retriever is None:
            raise ValueError(f"{mode} mode needs an ingested workspace")
        result.sources, result.retrieve_s = retriever.timed_search(question, cfg.top_k, cfg.fusion)
        messages = retrieval_messages(question, result.sources)
    else:
        messages = base_messages(question)
    start = time.perf_counter()
    pieces = []
    for piece in llm.stream(messages, cfg.max_new_tokens, result.timing, tuned=mode in USES_ADAPTER):
        pieces.append(piece)
        if on_text is not None:
            on_text(piece)
    result.text = "".join(pieces).strip()
    result.timing.total_s = time.perf_counter() - start
    return result
