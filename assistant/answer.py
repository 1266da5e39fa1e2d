"""One question, one mode: retrieve when the mode reads sources, ask the model only when they are about the
question, stream the answer, then find what in the sources supports it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.config import MODES, READS_SOURCES, USES_ADAPTER, AnswerConfig, check_question
from assistant.generate import Engine, Timing
from assistant.grounding import NEARBY, NOT_COVERED, Support, covered, nearby, support, unknown_names
from assistant.metrics import abstains, unloop
from assistant.prompt import base_messages, retrieval_messages
from assistant.retrieve import Retriever, Source


@dataclass
class Answer:
    question: str
    mode: str
    text: str
    sources: list[Source] = field(default_factory=list)  # what the model read
    retrieve_s: float = 0.0
    timing: Timing = field(default_factory=Timing)
    covered: bool = True  # False: no source was about the question, and the model was not asked
    nearby: list[Source] = field(default_factory=list)  # where to look instead, when not covered
    unknown: list[str] = field(default_factory=list)  # names in the question that no document mentions
    support: list[Support] = field(default_factory=list)  # sentences of the sources that hold the answer
    cut: bool = False  # the answer began to repeat itself and was stopped there

    @property
    def unsupported(self) -> bool:
        """An answer drawn from sources that none of them holds: shown as such, never as if grounded."""
        return self.mode in READS_SOURCES and self.covered and not self.support and not abstains(self.text)


def answer(
    question: str,
    mode: str,
    llm: Engine,
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
        found, result.retrieve_s = retriever.timed_search(question, max(cfg.top_k, NEARBY), cfg.fusion)
        result.unknown = unknown_names(question, retriever.words, cfg)
        if not covered(found, cfg, result.unknown):
            result.covered, result.nearby, result.text = False, nearby(found), NOT_COVERED
            if on_text is not None:
                on_text(NOT_COVERED)
            return result
        result.sources = found[: cfg.top_k]
        messages = retrieval_messages(question, result.sources)
    else:
        messages = base_messages(question)
    start = time.perf_counter()
    pieces = []
    for piece in llm.stream(messages, cfg.max_new_tokens, result.timing, tuned=mode in USES_ADAPTER):
        pieces.append(piece)
        if on_text is not None:
            on_text(piece)
    result.text, result.cut = unloop("".join(pieces).strip())
    result.timing.total_s = time.perf_counter() - start
    if result.sources and retriever is not None:
        result.support = support(question, result.text, result.sources, retriever.embedder)
    return result
