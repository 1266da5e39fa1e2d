"""What the web app asks of Docent, in one object per server process, shared by every browser session.

`Docent` is the shared engine: the models and the index load once, lazily, and are reloaded only when the
workspace moves on (a new index generation after an ingest, a newer finished run); every question is handed to
the batcher's thread once, which searches, answers (in a batch with the others asked at the same moment) and
finds the support. What the pages read and change in the workspace is `library.Library` (`Docent.library`);
long jobs (tuning, evaluation), separate `docent` processes that outlive the page, are `jobs.Jobs` (`Docent.jobs`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from assistant import runs
from assistant.answer import Answer
from assistant.config import READS_SOURCES, USES_ADAPTER, AnswerConfig, check_question
from assistant.jobs import Jobs
from assistant.library import Library
from ingest.store import get_meta

T = TypeVar("T")

FOLLOW_UP = re.compile(
    r"^(?:and|what about|how about|also|but)\b|\b(?:it|its|they|them|their|that|this|those|these|he|she|his|her)\b",
    re.I,
)


def condense(question: str, history: list[tuple[str, str]]) -> str:
    """A follow-up ("And how long does it last?") asked together with the question before it, so that retrieval
    and the model see what "it" is. The small default model cannot rewrite questions reliably; this can't fail."""
    if not history or not FOLLOW_UP.search(question) or len(question.split()) > 14:
        return question
    previous = history[-1][0]
    return f"{previous} {question}"


def on_own_thread(load: Callable[[], T]) -> T:
    """`load()` on a thread that ends with it. PyTorch leaves OpenMP workers behind on every thread that ran its
    parallel work; while two such threads live, libgomp stops spinning between parallel regions, and the batcher's
    decoding slowed to half speed here. Loading on a thread of its own leaves the batcher's the only one."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="docent-load") as pool:
        return pool.submit(load).result()


class Docent:
    def __init__(self, workspace: Path, llm: str = "embedded"):
        self.workspace = workspace
        self.llm_name = llm
        self._lock = threading.RLock()
        self._llm: Any = None
        self._batcher: Any = None
        self._retriever: Any = None
        self._run: runs.Run | None = None
        self.library = Library(workspace, lambda: self._retriever.embedder if self._retriever is not None else None)
        self.jobs = Jobs(workspace)

    # State ---------------------------------------------------------------------------------------------

    def retriever(self) -> Any:
        """The retriever of the committed index, reloaded when an ingest committed a new one."""
        from assistant.retrieve import Retriever

        with self._lock:
            generation = get_meta(self.library.db(), "index_generation")
            if generation and (self._retriever is None or self._retriever.generation != generation):
                embedder = self._retriever.embedder if self._retriever is not None else None
                self._retriever = on_own_thread(lambda: Retriever(self.workspace, embedder))
            return self._retriever if generation else None

    def llm(self) -> Any:
        """The LLM, with the newest finished run's adapter attached once there is one."""
        from assistant.generate import LLM

        with self._lock:
            run = runs.latest_finished(self.workspace)
            if self._llm is None:
                base = run.settings.llm if run else self.llm_name
                self._llm = on_own_thread(lambda: LLM(base, adapter=run.adapter if run else None))
            elif run is not None and (self._run is None or run.id != self._run.id):
                on_own_thread(lambda: self._llm.attach(run.adapter, name=run.id.replace(".", "_")))
            self._run = run
            return self._llm

    def batcher(self) -> Any:
        """Answers for everybody go through one batcher, so that questions asked together are answered together."""
        from assistant.serving import Batcher

        llm = self.llm()
        with self._lock:
            if self._batcher is None or self._batcher.llm is not llm:
                self._batcher = Batcher(llm)
            return self._batcher

    def modes(self) -> list[str]:
        """The modes that can answer now: tuned ones need a finished run, the others an index."""
        status = self.library.status()
        found = ["base"]
        if status["run"] is not None:
            found.append("tuned")
        if status["indexed"]:
            found.append("retrieval")
            if status["run"] is not None:
                found.append("both")
        return found

    def scores(self) -> dict[str, Any]:
        """The held-out scores of the tuned run that answers ({} when none, or not scored)."""
        run = runs.latest_finished(self.workspace)
        return run.metrics.get("scores", {}) if run is not None else {}

    def default_mode(self, modes: list[str], scores: dict[str, Any] | None = None) -> str:
        """The mode the tuned run measured best on the held-out questions (`scores`, when the caller has them);
        else the last of `modes` (both once tuned, retrieval once indexed): an adapter that made answers worse
        is never the silent default."""
        best = runs.best_mode(self.scores() if scores is None else scores)
        return best if best in modes else modes[-1]

    # Answers ---------------------------------------------------------------------------------------------

    def ask(
        self, question: str, mode: str, history: list[tuple[str, str]] | None = None, cfg: AnswerConfig | None = None
    ) -> tuple[Iterator[str], Callable[[], Answer]]:
        """A stream of the answer's text, and a function that returns the whole Answer once the stream ended. The
        question crosses to the batcher's thread once: search, answer and support all run there."""
        cfg = cfg or AnswerConfig()
        asked = condense(check_question(question, history), history or [])  # refused before any model time
        llm = self.llm()
        retriever = self.retriever() if mode in READS_SOURCES else None
        if mode in READS_SOURCES and retriever is None:
            raise ValueError("there are no documents to search yet: add some on the Documents page")
        if mode in USES_ADAPTER and llm.adapter is None:
            raise ValueError("there is no tuned model yet: start a run on the Tune page")
        return self.batcher().ask(asked, mode, retriever, cfg)

    def feedback(self, question: str, answer_text: str, mode: str, rating: int, comment: str = "") -> None:
        """A rating of an answer, stored with the run whose adapter gave it (tuned and both modes)."""
        run = self._run.id if self._run is not None and mode in USES_ADAPTER else None
        self.library.feedback(question, answer_text, mode, rating, comment, run)
