"""What the web app asks of Docent, in one object per server process, shared by every browser session.

The models and the index load once, lazily, and are reloaded only when the workspace moves on (a new index
generation after an ingest, a newer finished run). Answers stream from one loaded model; a lock inside `LLM`
lets one answer generate at a time while every page stays responsive. Long jobs (tuning, evaluation) run as
separate `docent` processes that outlive the page, and report through the workspace.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from assistant import runs
from assistant.answer import Answer, answer
from assistant.config import READS_SOURCES, USES_ADAPTER, AnswerConfig, check_question
from ingest import store
from ingest.config import IngestConfig
from ingest.parse import FORMATS
from ingest.records import Document, Feedback, Pair
from ingest.store import Workspace, get_meta, private_file

T = TypeVar("T")

FOLLOW_UP = re.compile(
    r"^(?:and|what about|how about|also|but)\b|\b(?:it|its|they|them|their|that|this|those|these|he|she|his|her)\b",
    re.I,
)
MAX_UPLOAD_MB = 50.0
FEEDBACK_QUEUE = "feedback-queue.jsonl"
NAME_BYTES = 255  # the longest file name most file systems take


def condense(question: str, history: list[tuple[str, str]]) -> str:
    """A follow-up ("And how long does it last?") asked together with the question before it, so that retrieval
    and the model see what "it" is. The small default model cannot rewrite questions reliably; this can't fail."""
    if not history or not FOLLOW_UP.search(question) or len(question.split()) > 14:
        return question
    previous = history[-1][0]
    return f"{previous} {question}"


def safe_upload_name(name: str, taken: set[str] | None = None) -> str:
    """A bare file name of a supported type, at most NAME_BYTES long and not in `taken` (the names given to the
    other files of the same upload): uploads can never write outside the workspace's upload folder, a name too
    long for the disk is shortened, and two files of the same name from different folders are both kept."""
    base = Path(name.replace("\\", "/")).name.strip()
    base = re.sub(r"[^\w.\- ]+", "_", base).strip(". ")
    suffix = Path(base).suffix
    if not base or suffix.lower() not in FORMATS:
        raise ValueError(f"{name!r}: Docent reads {' '.join(sorted(FORMATS))} files only")
    stem = base[: -len(suffix)]
    room = NAME_BYTES - len(suffix) - 8  # for " (99)" and the suffix
    stem = stem.encode()[:room].decode(errors="ignore").rstrip() or "upload"
    candidate, n = stem + suffix, 1
    while taken is not None and candidate in taken:
        n += 1
        candidate = f"{stem} ({n}){suffix}"
    return candidate


def on_own_thread(load: Callable[[], T]) -> T:
    """`load()` on a thread that ends with it. PyTorch leaves OpenMP workers behind on every thread that ran its
    parallel work; while two such threads live, libgomp stops spinning between parallel regions, and the batcher's
    decoding slowed to half speed here. Loading on a thread of its own leaves the batcher's the only one."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="docent-load") as pool:
        return pool.submit(load).result()


class Docent:
    def __init__(self, workspace: Path, llm: str = "embedded"):
        self.workspace = workspace
        self.ws = Workspace(workspace)
        self.llm_name = llm
        self._lock = threading.RLock()
        self._feedback_lock = threading.Lock()
        self._llm: Any = None
        self._batcher: Any = None
        self._retriever: Any = None
        self._run: runs.Run | None = None

    # State ---------------------------------------------------------------------------------------------

    def db(self) -> sqlite3.Connection:
        return self.ws.connect(create=True)

    def status(self) -> dict[str, Any]:
        self.store_feedback()  # any that waited for an ingest to finish
        db = self.db()
        run = runs.latest_finished(self.workspace)
        return {
            **store.totals(db),
            "indexed": bool(get_meta(db, "index_generation")),
            "run": run,
            "unseen": runs.unseen_documents(run, db) if run else [],
            "running": [r for r in runs.all_runs(self.workspace) if r.status == "running"],
        }

    def retriever(self) -> Any:
        """The retriever of the committed index, reloaded when an ingest committed a new one."""
        from assistant.retrieve import Retriever

        with self._lock:
            generation = get_meta(self.db(), "index_generation")
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
        status = self.status()
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
        """A stream of the answer's text, and a function that returns the whole Answer once the stream ended."""
        from assistant.serving import Searches

        cfg = cfg or AnswerConfig()
        asked = condense(check_question(question, history), history or [])  # refused before any model time
        llm = self.llm()
        batcher = self.batcher()
        retriever = self.retriever() if mode in READS_SOURCES else None
        if mode in READS_SOURCES and retriever is None:
            raise ValueError("there are no documents to search yet: add some on the Documents page")
        if mode in USES_ADAPTER and llm.adapter is None:
            raise ValueError("there is no tuned model yet: start a run on the Tune page")
        done: dict[str, Answer] = {}
        searches = Searches(retriever, batcher) if retriever is not None else None  # on the batcher's thread
        return self._stream(asked, mode, batcher, searches, cfg, done), lambda: done["answer"]

    def _stream(
        self, question: str, mode: str, llm: Any, retriever: Any, cfg: AnswerConfig, done: dict[str, Answer]
    ) -> Iterator[str]:
        """Runs `answer` in a thread and yields its text as the model produces it."""
        import queue

        channel: queue.Queue[str | None] = queue.Queue()
        failure: list[BaseException] = []

        def work() -> None:
            try:
                done["answer"] = answer(question, mode, llm, retriever, cfg, on_text=channel.put)
            except BaseException as err:  # handed to the page, which shows it as a sentence
                failure.append(err)
            finally:
                channel.put(None)

        threading.Thread(target=work, daemon=True).start()
        while (piece := channel.get()) is not None:
            yield piece
        if failure:
            raise failure[0]

    def feedback(self, question: str, answer_text: str, mode: str, rating: int, comment: str = "") -> None:
        """Kept on disk at once, then stored in the database. An ingest holds the database for as long as it runs
        (one transaction), so feedback given meanwhile waits in WORKSPACE/feedback-queue.jsonl and is stored with
        the next feedback or page view: none is lost."""
        run = self._run.id if self._run is not None and mode in USES_ADAPTER else None
        given = Feedback(runs.now(), question, answer_text, mode, run, int(rating), comment)
        with self._feedback_lock:
            self.ws.make_root()
            with open(private_file(self.workspace / FEEDBACK_QUEUE), "a", encoding="utf-8") as f:
                f.write(json.dumps(dataclasses.astuple(given), ensure_ascii=False) + "\n")
        self.store_feedback()

    def store_feedback(self) -> int:
        """Moves the queued feedback into the database; 0 while an ingest holds it (it stays queued)."""
        queue = self.workspace / FEEDBACK_QUEUE
        if not queue.exists():
            return 0
        with self._feedback_lock, contextlib.closing(self.db()) as db:
            rows = []
            for line in queue.read_text(encoding="utf-8").splitlines():
                with contextlib.suppress(ValueError, TypeError):  # a line cut short by a crash mid-write is all lost
                    rows.append(Feedback(*json.loads(line)))
            if not store.add_feedback(db, rows, wait_s=1.0):  # locked by an ingest: the rows wait in the queue
                return 0
            queue.unlink()
            return len(rows)

    def reference_answer(self, question: str) -> str | None:
        """The reference answer when the question is one of the workspace's Q&A pairs (held out or not)."""
        return store.reference_answer(self.db(), question.strip())

    # Documents and pairs ---------------------------------------------------------------------------------

    def documents(self) -> list[Document]:
        return store.documents(self.db(), counts=True)

    def upload(self, files: list[tuple[str, bytes]], on_step: Any = None) -> Any:
        """Save uploaded files under WORKSPACE/uploads and ingest them; bad names and sizes are refused first, one
        line each, and the rest go on. A file renamed on the way (a name too long, or one given twice) says so."""
        from ingest.pipeline import Report, ingest

        folder = self.workspace / "uploads"
        self.ws.make_root()
        folder.mkdir(exist_ok=True, mode=0o700)
        report, saved, taken = Report(), [], set[str]()
        for name, data in files:
            try:
                safe = safe_upload_name(name, taken)
                if len(data) > MAX_UPLOAD_MB * 1_000_000:
                    raise ValueError(
                        f"{name!r} is {len(data) / 1e6:.1f} MB, over the {MAX_UPLOAD_MB:g} MB upload limit"
                    )
                target = folder / safe
                with open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
                    f.write(data)
            except (ValueError, OSError) as err:
                report.failed.append((name, str(err)))
                continue
            taken.add(safe)
            saved.append(target)
            if safe != Path(name.replace("\\", "/")).name:
                report.notes.append((name, f"saved as {safe}"))
        if saved:
            embedder = self._retriever.embedder if self._retriever is not None else None
            done = ingest(saved, IngestConfig(), self.workspace, progress=False, embedder=embedder, on_step=on_step)
            done.failed = report.failed + done.failed
            done.notes = report.notes + done.notes
            return done
        return report

    def remove_document(self, doc_id: int) -> None:
        from ingest.pipeline import remove

        doc = store.document(self.db(), doc_id)
        remove(self.workspace, [doc_id])
        uploads = (self.workspace / "uploads").resolve()
        if doc and Path(doc.path).resolve().parent == uploads:
            Path(doc.path).unlink(missing_ok=True)  # an uploaded copy goes too; the user's own files never

    def pairs(self, doc_id: int | None = None, split: str | None = None) -> list[Pair]:
        return store.pairs(self.db(), split, doc_id)

    def review_pair(self, pair_id: int, question: str | None = None, answer_text: str | None = None,
                    approve: bool = False, delete: bool = False) -> None:  # fmt: skip
        db = self.db()
        if delete:
            store.delete_pair(db, pair_id)
        elif question is not None or answer_text is not None:
            store.edit_pair(db, pair_id, question, answer_text)
        elif approve:
            store.approve_pair(db, pair_id)

    # Long jobs ---------------------------------------------------------------------------------------------

    def start(self, command: list[str], log_name: str) -> subprocess.Popen[bytes]:
        """A `docent` command in its own process session: it goes on when the page or the server closes."""
        logs = self.workspace / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / log_name, "ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "assistant.cli", *command, "--workspace", str(self.workspace), "--quiet"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def start_tune(self, settings: dict[str, Any]) -> subprocess.Popen[bytes]:
        flags = [f"--{k.replace('_', '-')}={v}" for k, v in settings.items()]
        return self.start(["tune", *flags], "tune.log")

    def start_eval(self, modes: list[str], limit: int, questions: Path | None = None) -> subprocess.Popen[bytes]:
        command = ["eval", "--modes", ",".join(modes), "--limit", str(limit)]
        if questions is not None:
            command += ["--questions", str(questions)]
        return self.start(command, "eval.log")

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.workspace / "logs" / name
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def reports(self) -> list[dict[str, Any]]:
        root = self.workspace / "evals"
        found = []
        for file in sorted(root.glob("*/report.json"), key=lambda p: p.stat().st_mtime, reverse=True):
            data = json.loads(file.read_text(encoding="utf-8"))
            found.append({"id": file.parent.name, "path": file.parent, **data})
        return found
