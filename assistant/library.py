"""What the web app reads and changes in the workspace: its state, documents and uploads, Q&A pairs, feedback.
Every query goes through the store. An upload is embedded with the engine's embedder once the engine has loaded
one; before that (the first documents of an empty workspace), the ingest loads its own."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant import runs
from ingest import store
from ingest.config import IngestConfig
from ingest.models import Embedder
from ingest.parse import FORMATS
from ingest.records import Access, AuditLine, Document, Feedback, Pair
from ingest.store import GENERAL, Workspace, get_meta, private_file

MAX_UPLOAD_MB = 50.0
FEEDBACK_QUEUE = "feedback-queue.jsonl"
AUDIT_QUEUE = "audit-queue.jsonl"
NAME_BYTES = 255  # the longest file name most file systems take


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


class Library:
    def __init__(self, workspace: Path, embedder: Callable[[], Embedder | None] = lambda: None):
        """`embedder()`: the embedder already loaded by the engine, if any, for uploads to reuse."""
        self.workspace = workspace
        self.ws = Workspace(workspace)
        self.embedder = embedder
        self._feedback_lock = threading.Lock()

    def db(self) -> sqlite3.Connection:
        return self.ws.connect(create=True)

    def status(self, access: Access) -> dict[str, Any]:
        """What the workspace holds, and the run that answers `access`'s tuned questions."""
        self.store_feedback()  # any that waited for an ingest to finish
        db = self.db()
        run = runs.latest_finished(self.workspace, access)
        return {
            **store.totals(db, access),
            "indexed": bool(get_meta(db, "index_generation")),
            "run": run,
            "unseen": runs.unseen_documents(run, db, access) if run else [],
            "running": [r for r in runs.all_runs(self.workspace) if r.status == "running"],
        }

    def feedback(
        self, question: str, answer_text: str, mode: str, rating: int, comment: str = "", run: str | None = None
    ) -> None:
        """Kept on disk at once, then stored in the database. An ingest holds the database for as long as it runs
        (one transaction), so feedback given meanwhile waits in WORKSPACE/feedback-queue.jsonl and is stored with
        the next feedback or page view: none is lost."""
        given = Feedback(runs.now(), question, answer_text, mode, run, int(rating), comment)
        self._queue(FEEDBACK_QUEUE, list(dataclasses.astuple(given)))
        self.store_feedback()

    def store_feedback(self) -> int:
        """Moves the queued feedback and audit lines into the database; 0 while an ingest holds it (they stay
        queued)."""
        self._flush(AUDIT_QUEUE, lambda db, rows: store.add_audit(db, [AuditLine(*r) for r in rows], 1.0))
        return self._flush(FEEDBACK_QUEUE, lambda db, rows: store.add_feedback(db, [Feedback(*r) for r in rows], 1.0))

    def audit(self, who: str, action: str, detail: dict[str, Any]) -> None:
        """A line of the audit log (`docent audit`): who ('' = the owner) did what. Queued like feedback, so that an
        ingest holding the database never holds up an answer or a sign-in."""
        self._queue(AUDIT_QUEUE, [runs.now(), who, action, json.dumps(detail, ensure_ascii=False)])
        self._flush(AUDIT_QUEUE, lambda db, rows: store.add_audit(db, [AuditLine(*r) for r in rows], 1.0))

    def audit_answer(self, access: Access, result: Any, run: str | None, way: str) -> None:
        """An answer shown: the question, the mode, the run whose adapter was asked, whether the answer shown is the
        base model's reading instead (`both` reads again an adapter's answer nothing supports), and the passages
        shown with it (its sources, or those pointed to when the model was not asked)."""
        shown = [{"doc": s.doc, "chunk": s.chunk_id} for s in result.sources + result.nearby]
        self.audit(access.name, "ask", {"question": result.question, "mode": result.mode, "run": run,
                                   "reread": result.reread, "sources": shown, "via": way})  # fmt: skip

    def audit_search(self, access: Access, query: str, sources: list[Any], way: str) -> None:
        shown = [{"doc": s.doc, "chunk": s.chunk_id} for s in sources]
        self.audit(access.name, "search", {"query": query, "sources": shown, "via": way})

    def _queue(self, name: str, row: list[Any]) -> None:
        with self._feedback_lock:
            self.ws.make_root()
            with open(private_file(self.workspace / name), "a", encoding="utf-8") as f:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")

    def _flush(self, name: str, add: Callable[[sqlite3.Connection, list[Any]], bool]) -> int:
        queue = self.workspace / name
        if not queue.exists():
            return 0
        with self._feedback_lock, contextlib.closing(self.db()) as db:
            rows = []
            for line in queue.read_text(encoding="utf-8").splitlines():
                with contextlib.suppress(ValueError, TypeError):  # a line cut short by a crash mid-write is all lost
                    rows.append(json.loads(line))
            if not add(db, rows):  # locked by an ingest: the rows wait in the queue
                return 0
            queue.unlink()
            return len(rows)

    def reference_answer(self, question: str, access: Access) -> str | None:
        """The reference answer when the question is one of the Q&A pairs (held out or not) `access` may read."""
        return store.reference_answer(self.db(), question.strip(), access)

    # Documents and pairs ---------------------------------------------------------------------------------

    def collections(self) -> dict[str, int]:
        """Every collection with its number of documents (the names are not secret; what they hold is)."""
        return store.collections(self.db())

    def documents(self, access: Access) -> list[Document]:
        return store.documents(self.db(), access, counts=True)

    def upload(
        self, files: list[tuple[str, bytes]], access: Access, collection: str = GENERAL, on_step: Any = None
    ) -> Any:
        """Save uploaded files under WORKSPACE/uploads and ingest them into `collection`, which `access` must be
        allowed to write; bad names and sizes are refused first, one line each, and the rest go on. A file renamed
        on the way (a name too long, or one given twice) says so."""
        from ingest.pipeline import Report, ingest

        if not access.may_write(collection):
            raise ValueError(f"{access.shown()} may not add documents to {collection}: an admin can grant it")
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
            cfg = IngestConfig(collection=collection)
            done = ingest(saved, cfg, self.workspace, progress=False, embedder=self.embedder(), on_step=on_step)
            done.failed = report.failed + done.failed
            done.notes = report.notes + done.notes
            return done
        return report

    def remove_document(self, doc_id: int, access: Access) -> None:
        from ingest.pipeline import remove

        doc = store.document(self.db(), doc_id, access)
        if doc is None:
            raise LookupError(f"no document {doc_id} here")
        if not access.may_write(doc.collection):
            raise ValueError(f"{access.shown()} may read {doc.name} but not remove it")
        remove(self.workspace, [doc_id])
        uploads = (self.workspace / "uploads").resolve()
        if doc and Path(doc.path).resolve().parent == uploads:
            Path(doc.path).unlink(missing_ok=True)  # an uploaded copy goes too; the user's own files never

    def pairs(self, access: Access, doc_id: int | None = None, split: str | None = None) -> list[Pair]:
        return store.pairs(self.db(), access, split, doc_id)

    def review_pair(
        self,
        pair_id: int,
        access: Access,
        question: str | None = None,
        answer_text: str | None = None,
        approve: bool = False,
        delete: bool = False,
    ) -> None:
        db = self.db()
        collection = store.pair_collection(db, pair_id, access)
        if collection is None:
            raise LookupError(f"no Q&A pair {pair_id} here")
        if not access.may_write(collection):
            raise ValueError(f"{access.shown()} may read this pair but not change it")
        if delete:
            store.delete_pair(db, pair_id)
        elif question is not None or answer_text is not None:
            store.edit_pair(db, pair_id, question, answer_text)
        elif approve:
            store.approve_pair(db, pair_id)
