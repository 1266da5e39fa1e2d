"""The workspace: a folder with one SQLite database and the search index it points to.

    WORKSPACE/docent.db          documents, chunks (with their embeddings), Q&A pairs, ingest runs, settings
    WORKSPACE/index/<gen>/       FAISS index and BM25 index of one generation

The database is the truth; an index generation is derived from the chunks' stored embeddings. An ingest
writes a new generation folder first, then switches the database's `index_generation` in the same
transaction that adds the chunks, so a crash or Ctrl-C at any moment leaves the previous documents and
the previous index together, whole and usable. Readers see the last committed state (WAL mode).

A workspace holds the company's documents, so it is its owner's alone: the folder is 0700 and the database 0600
(SQLite gives its -wal and -shm files the database's mode), and Docent's commands write with umask 077
(`private_files`), so every file they add (uploads, logs, indexes, runs, reports) is 0600 too.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA_VERSION = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,        -- absolute path of the file
    name TEXT NOT NULL,               -- path relative to the folder it was ingested from
    title TEXT NOT NULL,
    format TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    holdout INTEGER NOT NULL DEFAULT 0,  -- 1 = kept out of training (--holdout-docs)
    ingested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    heading TEXT NOT NULL,
    text TEXT NOT NULL,
    n_tokens INTEGER NOT NULL,
    text_hash TEXT NOT NULL,
    embedding BLOB
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE INDEX IF NOT EXISTS chunks_hash ON chunks(text_hash);
CREATE TABLE IF NOT EXISTS pairs (
    id INTEGER PRIMARY KEY,
    chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
    fact TEXT NOT NULL,               -- what the question asks for: phrasings of one fact share it
    question TEXT NOT NULL,
    answer TEXT NOT NULL,             -- short answer, verbatim from the chunk
    evidence TEXT NOT NULL,           -- the sentence (or passage) of the chunk that states the answer
    kind TEXT NOT NULL,               -- how the question was made: template name or 'model'
    split TEXT NOT NULL CHECK (split IN ('train', 'heldout', 'unseen')),
    status TEXT NOT NULL DEFAULT 'generated'  -- generated, approved or edited (in the web app)
);
CREATE INDEX IF NOT EXISTS pairs_chunk ON pairs(chunk_id);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    mode TEXT NOT NULL,
    run TEXT,                         -- the adapter's run, for tuned and both
    rating INTEGER NOT NULL,          -- 1 = thumbs up, 0 = thumbs down
    comment TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS ingests (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    paths TEXT NOT NULL,              -- JSON list of the paths given
    report TEXT NOT NULL              -- JSON: counts and one line per failed or noted file
);
"""


class WorkspaceError(RuntimeError):
    """A workspace that cannot be used as asked; the message says what to do."""


def private_files() -> None:
    """From now on this process and its children create files for their owner alone (0600, folders 0700)."""
    os.umask(0o077)


def private_file(path: Path) -> Path:
    """`path`, created empty if it is missing, readable and writable by its owner alone."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600))
    os.chmod(path, 0o600)  # a file written by an older Docent may be 0644
    return path


@dataclass
class Workspace:
    root: Path

    @property
    def db_path(self) -> Path:
        return self.root / "docent.db"

    @property
    def index_root(self) -> Path:
        return self.root / "index"

    def exists(self) -> bool:
        return self.db_path.exists()

    def check_folder(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise WorkspaceError(f"{self.root} is a file, not a workspace folder: give --workspace a folder")

    def make_root(self) -> None:
        """The workspace folder, private to its owner (one made by an older Docent, or by hand, is made private)."""
        self.check_folder()
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = self.root.stat()
        if info.st_mode & 0o077 and info.st_uid == os.getuid():  # another account's workspace is left as it is
            os.chmod(self.root, 0o700)
            for path in self.root.glob(self.db_path.name + "*"):
                os.chmod(path, 0o600)

    def connect(self, create: bool = False) -> sqlite3.Connection:
        self.check_folder()
        if not create and not self.exists():
            raise WorkspaceError(f"no workspace at {self.root}: run `docent ingest PATH` first (or pass --workspace)")
        self.make_root()
        if not self.exists():
            private_file(self.db_path)
        try:
            return self._open()
        except sqlite3.OperationalError:  # locked, disk full: the database may be whole
            raise
        except sqlite3.DatabaseError as err:
            raise WorkspaceError(
                f"{self.db_path} is damaged or is not a Docent workspace ({err}); restore it from a backup, "
                "or ingest into a new --workspace"
            ) from err

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.db_path, isolation_level=None, check_same_thread=False, timeout=30)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=NORMAL")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise WorkspaceError(f"{self.db_path} was written by a newer Docent; upgrade Docent to use it")
        if version < SCHEMA_VERSION:
            db.executescript(SCHEMA)
            if version == 1:  # workspaces from before the web app: pairs gain a review status
                db.execute("ALTER TABLE pairs ADD COLUMN status TEXT NOT NULL DEFAULT 'generated'")
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        return db

    @contextmanager
    def writer(self) -> Iterator[sqlite3.Connection]:
        """A connection inside one transaction, held by one writer at a time; rolled back on any error."""
        self.make_root()
        with open(private_file(self.root / ".lock"), "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as err:
                raise WorkspaceError(f"another ingest is writing {self.root}; wait for it to finish") from err
            db = self.connect(create=True)
            try:
                db.execute("BEGIN IMMEDIATE")
                yield db
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            finally:
                db.close()

    def generation_path(self, generation: str) -> Path:
        return self.index_root / generation


def get_meta(db: sqlite3.Connection, key: str, default: str | None = None) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else default


def set_meta(db: sqlite3.Connection, key: str, value: object) -> None:
    text = value if isinstance(value, str) else json.dumps(value)
    db.execute(
        "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, text)
    )


def remove_stale_generations(ws: Workspace, keep: set[str]) -> None:
    """Index folders left by an interrupted ingest or superseded twice. The generation just replaced is kept
    (in `keep`) so that a reader that looked it up a moment before the switch can still open it."""
    if not ws.index_root.exists():
        return
    for folder in ws.index_root.iterdir():
        if folder.name not in keep:
            shutil.rmtree(folder, ignore_errors=True)
