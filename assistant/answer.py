"""One question, one mode: retrieve when the mode reads sources, ask the model only when they are about the
question, stream the answer, then find what in the sources supports it.

In `both`, an answer of the adapter's that no sentence of its sources supports is not given: the base model reads
the same sources again and its answer is given instead, marked `reread`. A tuned reader answers from memory, or
repeats the question's subject ("Gumraah" to "What is the central plot of Gumraah?"), when a question is unlike
its training pairs; the base model reads what is there. On the film set, 55 of 300 `both` answers had no support
and 17 of them were right; read again by the base model, 31 were (README, "Read again"). So `both` holds its
answer until it is whole: its answers are a few words long.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from assistant.config import MODES, READS_SOURCES, USES_ADAPTER, AnswerConfig, check_question
from assistant.generate import Engine, Timing
from assistant.grounding import NEARBY, NOT_COVERED, Support, gate, nearby, support, unknown_names, unsupported
from assistant.metrics import unloop
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
    nearby: list[Source] = field(default_factory=list)  # where to look instead, when not covered
    unknown: list[str] = field(default_factory=list)  # names in the question that no document mentions
    support: list[Support] = field(default_factory=list)  # sentences of the sources that hold the answer
    cut: bool = False  # the answer began to repeat itself and was stopped there
    why: str = ""  # why the gate answered for the model, which was not asked; "" when it was
    reread: bool = False  # `both`: the adapter's answer had no support, so this is the base model's reading

    @property
    def covered(self) -> bool:
        """Whether the gate found passages that may answer the question, and the model was asked."""
        return not self.why

    @property
    def unsupported(self) -> bool:
        """An answer drawn from sources that none of them holds: shown as such, never as if grounded."""
        return self.mode in READS_SOURCES and self.covered and unsupported(self.text, self.support)

    def to_json(self) -> dict[str, Any]:
        """As `docent ask --json` prints it and the API returns it: the text, what the model read, what supports
        it, and timing."""
        return {
            "question": self.question,
            "mode": self.mode,
            "answer": self.text,
            "covered": self.covered,
            "unknown": self.unknown,
            "sources": [s.to_json() for s in self.sources],
            "nearby": [s.to_json() for s in self.nearby],
            "support": [f.to_json() for f in self.support],
            "unsupported": self.unsupported,
            "cut": self.cut,
            "why": self.why,
            "reread": self.reread,
            "timing": {"retrieve_s": self.retrieve_s, **dataclasses.asdict(self.timing)},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Answer:
        """An answer as `to_json` wrote it (the web app as a client of `docent serve`)."""
        timing = dict(data["timing"])
        retrieve_s = timing.pop("retrieve_s", 0.0)
        return cls(
            data["question"],
            data["mode"],
            data["answer"],
            [Source(**s) for s in data["sources"]],
            retrieve_s,
            Timing(**timing),
            nearby=[Source(**s) for s in data["nearby"]],
            unknown=list(data["unknown"]),
            support=[Support(**s) for s in data["support"]],
            cut=data["cut"],
            why=data["why"],
            reread=data.get("reread", False),
        )


def prepare(
    question: str, mode: str, retriever: Retriever | None, cfg: AnswerConfig
) -> tuple[Answer, list[dict[str, str]] | None]:
    """Everything before the model: the question checked, its sources found and gated. Returns the answer so far
    and the prompt, or no prompt where the gate turned the question away (the answer is then whole)."""
    question = check_question(question)
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; modes: {', '.join(MODES)}")
    result = Answer(question, mode, "")
    if mode not in READS_SOURCES:
        return result, base_messages(question)
    if retriever is None:
        raise ValueError(f"{mode} mode needs an ingested workspace")
    found, result.retrieve_s = retriever.timed_search(question, max(cfg.top_k, NEARBY), cfg.fusion)
    result.why = gate(question, found, retriever, cfg)
    if result.why:  # a name no document mentions is one reason
        result.unknown = unknown_names(question, retriever.words, cfg)
        result.nearby, result.text = nearby(found), NOT_COVERED
        return result, None
    result.sources = found[: cfg.top_k]
    return result, retrieval_messages(question, result.sources)


def finish(result: Answer, text: str, retriever: Retriever | None) -> Answer:
    """Everything after the model: an answer that began to repeat itself cut there, the sentences that support it."""
    result.text, result.cut = unloop(text.strip())
    if result.sources and retriever is not None:
        result.support = support(result.question, result.text, result.sources, retriever.embedder)
    return result


def holds(mode: str) -> bool:
    """Whether a mode's answer is held until it is whole, to be read again when nothing supports it."""
    return mode == "both"


def reread(result: Answer) -> Answer | None:
    """The answer to give instead of `result` once the base model has read its sources again, before it has: the
    same question and sources, marked `reread`; None when `result` stands (supported, an abstention, not `both`)."""
    if not holds(result.mode) or not result.unsupported:
        return None
    return dataclasses.replace(result, text="", timing=Timing(), support=[], cut=False, reread=True)


class Answering:
    """One question answered on the thread that reads its text, for an engine that batches by itself (a model server):
    `text()` searches, streams and finds the support as it is read; `answer()` is the whole Answer once it was read
    to the end. The batcher's `serving.Ask` has the same three methods."""

    def __init__(
        self,
        question: str,
        mode: str,
        llm: Engine,
        retriever: Retriever | None,
        cfg: AnswerConfig,
        adapter: str | None = None,
    ):
        self.question, self.mode, self.llm, self.retriever, self.cfg = question, mode, llm, retriever, cfg
        self.adapter = adapter
        self.run: str | None = None  # the run whose adapter answers: Docent.ask says
        self.result: Answer | None = None
        self.cancelled = False

    def text(self) -> Iterator[str]:
        """The answer's text as the asker sees it. Its timing is the asker's too: a held answer's first text is the
        whole answer once it stands; one read again counts from the question, both readings included."""
        result, messages = prepare(self.question, self.mode, self.retriever, self.cfg)
        if messages is None:
            self.result = result
            yield result.text
            return
        start = time.perf_counter()
        held = holds(self.mode)
        pieces = []
        for piece in self._read(messages, result.timing, self.mode in USES_ADAPTER):
            pieces.append(piece)
            if not held:
                yield piece
        if self.cancelled:
            return
        result.timing.total_s = time.perf_counter() - start
        finished = finish(result, "".join(pieces), self.retriever)
        again = reread(finished)
        if again is None:
            self.result = finished
            if held:
                finished.timing.first_token_s = finished.timing.total_s = time.perf_counter() - start
                yield finished.text
            return
        reading, pieces = time.perf_counter(), []
        for piece in self._read(messages, again.timing, False):
            pieces.append(piece)
            yield piece
        if self.cancelled:
            return
        again.timing.first_token_s += reading - start
        again.timing.total_s = time.perf_counter() - start
        self.result = finish(again, "".join(pieces), self.retriever)

    def _read(self, messages: list[dict[str, str]], timing: Timing, tuned: bool) -> Iterator[str]:
        """One reading by the model, until it ends or the asker goes away."""
        for piece in self.llm.stream(messages, self.cfg.max_new_tokens, timing, tuned, self.adapter if tuned else None):
            if self.cancelled:
                return
            yield piece

    def answer(self) -> Answer:
        if self.result is None:
            raise RuntimeError("the answer is whole only once its text has been read to the end")
        return self.result

    def cancel(self) -> None:
        self.cancelled = True


def answer(
    question: str,
    mode: str,
    llm: Engine,
    retriever: Retriever | None,
    cfg: AnswerConfig,
    on_text: Callable[[str], None] | None = None,
    adapter: str | None = None,
) -> Answer:
    """One question in one mode, its text handed to `on_text` as it is generated."""
    asking = Answering(question, mode, llm, retriever, cfg, adapter)
    for piece in asking.text():
        if on_text is not None:
            on_text(piece)
    return asking.answer()
