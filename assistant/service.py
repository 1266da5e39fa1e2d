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
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from assistant import runs
from assistant.answer import Answer
from assistant.config import READS_SOURCES, USES_ADAPTER, AnswerConfig, check_question
from assistant.jobs import Jobs
from assistant.library import Library
from ingest.records import Access
from ingest.store import get_meta

if TYPE_CHECKING:
    from assistant.client import DocentApi

T = TypeVar("T")


class Asking(Protocol):
    """A question on its way to an answer (serving.Ask in this process, answer.Answering with a model server,
    client.ApiAsking through `docent serve`). `run`: the id of the run whose adapter answers (tuned modes), fixed
    when the question was asked, so that a run finishing meanwhile is never named for an answer it did not give."""

    run: str | None

    def text(self) -> Iterator[str]: ...

    def answer(self) -> Answer: ...

    def cancel(self) -> None: ...


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
    def __init__(
        self,
        workspace: Path,
        llm: str = "embedded",
        llm_url: str = "",
        llm_key: str | None = None,
        api: DocentApi | None = None,
        llm_timeout: float | None = None,
    ):
        """`llm_url`: an OpenAI-compatible model server answers (remote.ServerLLM), and no model loads here.
        `api`: a running `docent serve` answers every question (the web app as its client)."""
        self.workspace = workspace
        self.llm_name, self.llm_url, self.llm_key, self.api = llm, llm_url, llm_key, api
        self.llm_timeout = llm_timeout
        self.no_adapter = ""  # why the model server cannot answer with the tuned run, when it cannot
        self.base = llm  # the base model loaded here, once loaded
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
        from assistant.generate import open_engine
        from ingest.models import ModelError

        with self._lock:
            run = runs.latest_finished(self.workspace)
            if self._llm is None:  # the base model the newest run was tuned from, when there is one
                self.base = run.settings.llm if run else self.llm_name
                self._llm = on_own_thread(
                    lambda: open_engine(self.base, None, self.llm_url, self.llm_key, self.llm_timeout)
                )
            if run is not None and (self._run is None or run.id != self._run.id):
                try:
                    self._attach(run, default=True)
                except ModelError as err:
                    if not self.llm_url:
                        raise
                    self.no_adapter, run = str(err), None  # tuned modes say why; tried again at the next question
                else:
                    self.no_adapter = ""
            self._run = run
            return self._llm

    def _attach(self, run: runs.Run, default: bool) -> None:
        from assistant.generate import attach_run

        if all(name in self._llm.attached for _, name in run.adapters()):
            if default:
                self._llm.adapter = run.adapter_name
            return
        on_own_thread(lambda: attach_run(self._llm, run, default))

    def answering_runs(self, access: Access) -> dict[str, runs.Run]:
        """The finished runs that can answer `access`, by id: those they may use (trained on collections they may all
        read), tuned from the base model loaded here (any run, with a model server, which has its own base model)."""
        found = runs.finished_runs(self.workspace, access)
        if self.llm_url:
            return {r.id: r for r in found}
        if self._llm is not None:
            base = self.base
        else:
            newest = runs.latest_finished(self.workspace)  # what llm() will load
            base = newest.settings.llm if newest else self.llm_name
        return {r.id: r for r in found if r.settings.llm == base}

    def finished_run(self, run_id: str, access: Access) -> runs.Run:
        """A finished run that can answer `access`, by its id: looked up among the runs they may use, never used as a
        path; one they may not use is answered as one that does not exist."""
        found = self.answering_runs(access)
        if run_id not in found:
            raise LookupError(f"no finished run {run_id!r} answers here; runs: {', '.join(found) or 'none yet'}")
        return found[run_id]

    def batcher(self) -> Any:
        """Answers for everybody go through one batcher, so that questions asked together are answered together."""
        from assistant.serving import Batcher

        llm = self.llm()
        if self.llm_url:
            return None  # the model server batches the requests in flight itself
        with self._lock:
            if self._batcher is None or self._batcher.llm is not llm:
                self._batcher = Batcher(llm)
            return self._batcher

    def modes(self, access: Access) -> list[str]:
        """The modes that can answer `access` now: tuned ones need a finished run they may use, the others an index."""
        if self.api is not None:
            return self.api.modes(access.name)
        if self.llm_url:
            self.llm()  # whether the model server takes the newest run's adapter
        status = self.library.status(access)
        tuned = status["run"] is not None and not self.no_adapter
        found = ["base"]
        if tuned:
            found.append("tuned")
        if status["indexed"]:
            found.append("retrieval")
            if tuned:
                found.append("both")
        return found

    def scores(self, access: Access) -> dict[str, Any]:
        """The held-out scores of the tuned run that answers `access` ({} when none, or not scored)."""
        run = runs.latest_finished(self.workspace, access)
        return run.metrics.get("scores", {}) if run is not None else {}

    def default_mode(self, modes: list[str], scores: dict[str, Any]) -> str:
        """The mode the tuned run measured best on the held-out questions (`scores`, Docent.scores); else the last of
        `modes` (both once tuned, retrieval once indexed): an adapter that made answers worse is never the silent
        default."""
        best = runs.best_mode(scores)
        return best if best in modes else modes[-1]

    # Answers ---------------------------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        mode: str,
        history: list[tuple[str, str]] | None = None,
        cfg: AnswerConfig | None = None,
        run: str | None = None,
        *,
        access: Access,
    ) -> Asking:
        """The question on its way: `text()` streams the answer, `answer()` gives the whole Answer once the stream
        ended, `cancel()` stops it. In this process the question crosses to the batcher's thread once (search, answer
        and support all run there); with a model server, it is answered on the thread that reads it. `run` names a
        finished run whose adapter answers in tuned modes instead of the newest one's. `access`: who asks; they
        search only what they may read, and only a run they may use answers them."""
        from assistant.answer import Answering

        cfg = cfg or AnswerConfig()
        if self.api is not None:  # the API condenses the conversation itself
            asked = check_question(question, history)
            return self.api.ask(asked, mode, history or [], cfg.max_new_tokens, run, access.name)
        asked = condense(check_question(question, history), history or [])  # refused before any model time
        named = self.finished_run(run, access) if run and mode in USES_ADAPTER else None
        with self._lock:  # the run that answers is fixed here, and named to the engine: one finishing meanwhile
            llm = self.llm()  # neither answers this question nor is named for it
            newest = self._run
        if mode in USES_ADAPTER and named is None and newest is not None and not access.owner:
            usable = self.answering_runs(access)
            if newest.id not in usable:  # trained on a collection they may not read: their own newest answers
                if not usable:
                    raise ValueError(
                        "no tuned model may answer you: every run was trained on documents you may not read; "
                        "ask in retrieval mode, or ask an admin for a run on your collections"
                    )
                named = list(usable.values())[-1]
        answering = (named or newest) if mode in USES_ADAPTER else None
        retriever = self.retriever() if mode in READS_SOURCES else None
        if retriever is not None:
            retriever = retriever.within(access)
        if mode in READS_SOURCES and retriever is None:
            raise ValueError("there are no documents to search yet: add some on the Documents page")
        if mode in USES_ADAPTER and self.no_adapter:
            raise ValueError(self.no_adapter)
        if mode in USES_ADAPTER and (llm.adapter is None or answering is None):
            raise ValueError("there is no tuned model yet: start a run on the Tune page")
        if answering is not None:  # attached already unless named, or dropped for runs asked for since
            from ingest.models import ModelError

            try:
                with self._lock:
                    self._attach(answering, default=named is None)
            except ModelError as err:  # this run alone: the others answer as before
                raise ValueError(str(err)) from err
        adapter = answering.adapter_for(mode) if answering is not None else None
        batcher = self.batcher()
        asking: Asking = (
            Answering(asked, mode, llm, retriever, cfg, adapter)
            if batcher is None
            else batcher.ask(asked, mode, retriever, cfg, adapter)
        )
        asking.run = answering.id if answering is not None else None
        return asking

    def search(self, query: str, k: int = 5, fusion: str = "rrf", *, access: Access) -> list[Any]:
        """The chunks that best match `query`, ranked. Once answers are decoded here, on the batcher's thread, whose
        decoding would slow down if a second thread ran the embedder; before that, where it is asked: a search needs
        no LLM, and does not load one."""
        query = check_question(query)
        retriever = self.retriever()
        if retriever is None:
            raise ValueError("there are no documents to search yet: ingest some first")
        retriever = retriever.within(access)
        with self._lock:
            batcher = self._batcher
        found = batcher.call(retriever.search, [query], k, fusion) if batcher else retriever.search([query], k, fusion)
        return list(found[0])

    def feedback(
        self, question: str, answer_text: str, mode: str, rating: int, comment: str = "", run: str | None = None
    ) -> None:
        """A rating of an answer, stored with the run whose adapter gave it (`Asking.run`, tuned modes)."""
        self.library.feedback(question, answer_text, mode, rating, comment, run if mode in USES_ADAPTER else None)
