"""The workspace: a folder with one SQLite database and the search index it points to. Every query of the database
lives here; the rest of Docent calls the functions below and gets records (`records.py`) back.

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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any

from ingest.chunk import Chunk
from ingest.records import Access, ApiKey, AuditLine, Document, Feedback, Pair, Person, Source, StoredChunk

SCHEMA_VERSION = 4
GENERAL = "general"  # the collection a document joins unless told otherwise, read by everyone unless revoked
EVERYONE = "everyone"  # the group that holds every person

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
    ingested_at TEXT NOT NULL,
    collection TEXT NOT NULL DEFAULT 'general'  -- who may read it is granted per collection
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
CREATE TABLE IF NOT EXISTS api_keys (
    digest TEXT PRIMARY KEY,          -- SHA-256 of the key; the key itself is never stored
    label TEXT NOT NULL,
    shown TEXT NOT NULL,              -- the key's first characters, to tell keys apart
    created_at TEXT NOT NULL,
    revoked_at TEXT,                  -- set when revoked; the row stays, so the label's history does
    person TEXT                       -- whom it answers as; NULL = the workspace's owner (keys made before people)
);
CREATE UNIQUE INDEX IF NOT EXISTS api_keys_label ON api_keys(label) WHERE revoked_at IS NULL;
CREATE TABLE IF NOT EXISTS people (
    name TEXT PRIMARY KEY,
    password TEXT,                    -- scrypt hash (assistant/access.py); NULL = signs in by single sign-on or key
    admin INTEGER NOT NULL DEFAULT 0, -- 1 = manages people, grants and runs
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS members (
    person TEXT NOT NULL REFERENCES people(name) ON DELETE CASCADE,
    grp TEXT NOT NULL,
    PRIMARY KEY (person, grp)
);
CREATE TABLE IF NOT EXISTS grants (
    grp TEXT NOT NULL,                -- a group; `everyone` holds every person
    collection TEXT NOT NULL,
    write INTEGER NOT NULL DEFAULT 0, -- 1 = may also add and remove its documents
    PRIMARY KEY (grp, collection)
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    who TEXT NOT NULL,                -- the person ('' = the workspace's owner), or the name a failed sign-in gave
    action TEXT NOT NULL,             -- ask, search, sign-in, sign-in-failed, grant, revoke, user-add, ...
    detail TEXT NOT NULL              -- JSON: the question, mode, run and sources shown; the grant; the address
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
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
            db.executescript(SCHEMA)  # adds the tables a newer version brought (api_keys in 3, people in 4)
            if version == 1:  # workspaces from before the web app: pairs gain a review status
                db.execute("ALTER TABLE pairs ADD COLUMN status TEXT NOT NULL DEFAULT 'generated'")
            if version < 4:  # before people: every document is general, every key the owner's, everyone reads
                for table, column in (("documents", "collection TEXT NOT NULL DEFAULT 'general'"),
                                      ("api_keys", "person TEXT")):  # fmt: skip
                    if column.split()[0] not in {r[1] for r in db.execute(f"PRAGMA table_info({table})")}:
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
                db.execute("INSERT OR IGNORE INTO grants(grp, collection) VALUES (?, ?)", (EVERYONE, GENERAL))
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


@contextmanager
def savepoint(db: sqlite3.Connection) -> Iterator[None]:
    """A part of the open transaction that is undone alone when it raises (one file of an ingest); an error of the
    database itself is left to undo the whole transaction."""
    db.execute("SAVEPOINT part")
    try:
        yield
    except sqlite3.Error:
        raise
    except Exception:
        db.execute("ROLLBACK TO part")
        db.execute("RELEASE part")
        raise
    db.execute("RELEASE part")


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


# Documents --------------------------------------------------------------------------------------------------

DOCUMENT = "SELECT id, path, name, title, format, sha256, size, holdout, ingested_at, collection FROM documents d"


def _document(row: sqlite3.Row) -> Document:
    return Document(**{**dict(row), "holdout": bool(row["holdout"])})


def _within(access: Access, column: str = "d.collection") -> tuple[str, list[Any]]:
    """The SQL condition that keeps what `access` may read, with its arguments."""
    if access.collections is None:
        return "1", []
    return f"{column} IN ({','.join('?' * len(access.collections))})", sorted(access.collections)


def documents(db: sqlite3.Connection, access: Access, counts: bool = False) -> list[Document]:
    """Every document `access` may read, by name; with `counts`, how many chunks and Q&A pairs each has."""
    where, args = _within(access)
    if not counts:
        return [_document(r) for r in db.execute(DOCUMENT + f" WHERE {where} ORDER BY name", args)]
    rows = db.execute(
        f"""SELECT d.id, d.path, d.name, d.title, d.format, d.sha256, d.size, d.holdout, d.ingested_at, d.collection,
                  (SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.id) AS chunks,
                  (SELECT COUNT(*) FROM pairs p JOIN chunks c ON c.id = p.chunk_id WHERE c.doc_id = d.id) AS pairs
           FROM documents d WHERE {where} ORDER BY d.name""",
        args,
    )
    return [_document(r) for r in rows]


def document(db: sqlite3.Connection, doc_id: int, access: Access) -> Document | None:
    """The document with this id, unless there is none or `access` may not read it (the same None: an id tells an
    unprivileged reader nothing)."""
    where, args = _within(access)
    row = db.execute(DOCUMENT + f" WHERE id = ? AND {where}", (doc_id, *args)).fetchone()
    return _document(row) if row else None


def document_at(db: sqlite3.Connection, path: str) -> Document | None:
    """For ingest, which writes as the workspace's owner."""
    row = db.execute(DOCUMENT + " WHERE path = ?", (path,)).fetchone()
    return _document(row) if row else None


def add_document(db: sqlite3.Connection, doc: Document) -> int:
    """Stores `doc` (its id is given by the database) and returns its id."""
    row = db.execute(
        "INSERT INTO documents(path, name, title, format, sha256, size, holdout, ingested_at, collection) "
        "VALUES (?,?,?,?,?,?,?,?,?)",
        (doc.path, doc.name, doc.title, doc.format, doc.sha256, doc.size, int(doc.holdout), doc.ingested_at,
         doc.collection),
    )  # fmt: skip
    return int(row.lastrowid or 0)


def set_collection(db: sqlite3.Connection, doc_id: int, collection: str) -> None:
    db.execute("UPDATE documents SET collection = ? WHERE id = ?", (collection, doc_id))


def remove_document(db: sqlite3.Connection, doc_id: int) -> bool:
    """Removes the document with its chunks and pairs; False when there was none."""
    return db.execute("DELETE FROM documents WHERE id = ?", (doc_id,)).rowcount > 0


def set_holdout(db: sqlite3.Connection, doc_id: int, holdout: bool) -> None:
    db.execute("UPDATE documents SET holdout = ? WHERE id = ?", (int(holdout), doc_id))


def totals(db: sqlite3.Connection, access: Access) -> dict[str, int]:
    """How many documents and chunks `access` may read, and Q&A pairs for training on them."""
    where, args = _within(access)
    count = lambda sql: int(db.execute(sql, args).fetchone()[0])  # noqa: E731
    return {
        "documents": count(f"SELECT COUNT(*) FROM documents d WHERE {where}"),
        "chunks": count(f"SELECT COUNT(*) FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE {where}"),
        "pairs": count(f"SELECT COUNT(*) {PAIR_DOCUMENT} WHERE p.split = 'train' AND {where}"),
    }


# Chunks -----------------------------------------------------------------------------------------------------


def add_chunk(
    db: sqlite3.Connection, doc_id: int, ord_: int, chunk: Chunk, text_hash: str, embedding: bytes | None
) -> None:
    db.execute(
        "INSERT INTO chunks(doc_id, ord, heading, text, n_tokens, text_hash, embedding) VALUES (?,?,?,?,?,?,?)",
        (doc_id, ord_, chunk.heading, chunk.text, chunk.n_tokens, text_hash, embedding),
    )


def embeddings_of(db: sqlite3.Connection, doc_id: int) -> dict[str, bytes]:
    """The stored embeddings of a document's chunks, by the hash of the text embedded."""
    rows = db.execute("SELECT text_hash, embedding FROM chunks WHERE doc_id = ?", (doc_id,))
    return {r[0]: r[1] for r in rows if r[1] is not None}


def clear_embeddings(db: sqlite3.Connection) -> None:
    db.execute("UPDATE chunks SET embedding = NULL")


CHUNK = """SELECT c.id, d.title, c.heading, c.text, d.holdout FROM chunks c JOIN documents d ON d.id = c.doc_id"""


def _chunk(row: sqlite3.Row) -> StoredChunk:
    return StoredChunk(row[0], row[1], row[2], row[3], bool(row[4]))


def count_unembedded(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT COUNT(*) FROM chunks WHERE embedding IS NULL").fetchone()[0])


def unembedded(db: sqlite3.Connection, limit: int) -> list[StoredChunk]:
    """Up to `limit` chunks that have no embedding yet, by id."""
    rows = db.execute(CHUNK + " WHERE c.embedding IS NULL ORDER BY c.id LIMIT ?", (limit,))
    return [_chunk(r) for r in rows]


def set_embeddings(db: sqlite3.Connection, vectors: Iterable[tuple[int, bytes]]) -> None:
    """(chunk id, float32 vector) for each chunk embedded."""
    db.executemany("UPDATE chunks SET embedding = ? WHERE id = ?", [(v, i) for i, v in vectors])


def indexed_chunks(db: sqlite3.Connection) -> list[StoredChunk]:
    """Every chunk with its embedding, by id: what an index generation is built from."""
    rows = db.execute(
        "SELECT c.id, d.title, c.heading, c.text, d.holdout, c.embedding FROM chunks c "
        "JOIN documents d ON d.id = c.doc_id ORDER BY c.id"
    )
    return [StoredChunk(r[0], r[1], r[2], r[3], bool(r[4]), r[5]) for r in rows]


def chunk_ids_within(db: sqlite3.Connection, access: Access) -> list[int]:
    """The ids of the chunks `access` may read: what their searches are limited to, inside the index."""
    where, args = _within(access)
    return [
        r[0] for r in db.execute(f"SELECT c.id FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE {where}", args)
    ]


def indexed_texts(db: sqlite3.Connection, access: Access) -> list[str]:
    """The text each of `access`'s chunks was indexed with (title, heading, text): the words their names are
    looked up in."""
    where, args = _within(access)
    rows = db.execute(CHUNK + f" WHERE {where}", args)
    return [_chunk(r).embedded_text for r in rows]


def chunks_without_pairs(db: sqlite3.Connection) -> list[StoredChunk]:
    rows = db.execute(CHUNK + " WHERE NOT EXISTS (SELECT 1 FROM pairs p WHERE p.chunk_id = c.id) ORDER BY c.id")
    return [_chunk(r) for r in rows]


def sources(db: sqlite3.Connection, ids: list[int], access: Access) -> list[Source]:
    """Chunks by id as sources (rank and score 0), in the order given; an id no longer stored, or of a collection
    `access` may not read, is left out."""
    found: dict[int, Source] = {}
    where, args = _within(access)
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ",".join("?" * len(part))
        for r in db.execute(
            f"""SELECT c.id, d.name, d.path, d.title, c.heading, c.text FROM chunks c
                JOIN documents d ON d.id = c.doc_id WHERE c.id IN ({marks}) AND {where}""",
            [*part, *args],
        ):
            found[r[0]] = Source(0, r[0], r[1], r[2], r[3], r[4], r[5], 0.0, None)
    return [found[i] for i in ids if i in found]


# Q&A pairs --------------------------------------------------------------------------------------------------

PAIR_DOCUMENT = "FROM pairs p JOIN chunks c ON c.id = p.chunk_id JOIN documents d ON d.id = c.doc_id"
PAIR = """SELECT p.chunk_id, p.fact, p.question, p.answer, p.evidence, p.kind, p.split, p.id, p.status, d.name,
                 c.heading, d.id
          FROM pairs p JOIN chunks c ON c.id = p.chunk_id JOIN documents d ON d.id = c.doc_id"""


def pairs(
    db: sqlite3.Connection,
    access: Access,
    split: str | Iterable[str] | None = None,
    doc_id: int | None = None,
) -> list[Pair]:
    """The Q&A pairs `access` may read, in the order they were written; of one split (or several), of one document."""
    within, args = _within(access)
    where = [within]
    if split is not None:
        splits = [split] if isinstance(split, str) else list(split)
        where.append(f"p.split IN ({','.join('?' * len(splits))})")
        args += splits
    if doc_id is not None:
        where.append("d.id = ?")
        args.append(doc_id)
    sql = PAIR + " WHERE " + " AND ".join(where) + " ORDER BY p.id"
    return [Pair(*r) for r in db.execute(sql, args)]


def pair_collection(db: sqlite3.Connection, pair_id: int, access: Access) -> str | None:
    """The collection of the pair's document; None when there is no such pair, or `access` may not read it."""
    return _pair_field(db, "d.collection", "p.id", pair_id, access)


def _pair_field(db: sqlite3.Connection, column: str, key: str, value: object, access: Access) -> Any:
    """`column` of the first pair whose `key` is `value` among those `access` may read; None when there is none."""
    where, args = _within(access)
    row = db.execute(f"SELECT {column} {PAIR_DOCUMENT} WHERE {key} = ? AND {where} LIMIT 1", (value, *args)).fetchone()
    return row[0] if row else None


def add_pairs(db: sqlite3.Connection, found: Iterable[Pair]) -> None:
    db.executemany(
        "INSERT INTO pairs(chunk_id, fact, question, answer, evidence, kind, split) VALUES (?,?,?,?,?,?,?)",
        [(p.chunk_id, p.fact_id, p.question, p.answer, p.evidence, p.template, p.split) for p in found],
    )


def clear_pairs(db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM pairs")


def pair_counts(db: sqlite3.Connection) -> dict[str, dict[str, int]]:
    """{split: {template: n}}"""
    out: dict[str, dict[str, int]] = {}
    for split, template, n in db.execute("SELECT split, kind, COUNT(*) FROM pairs GROUP BY split, kind"):
        out.setdefault(split, {})[template] = n
    return out


def reference_answer(db: sqlite3.Connection, question: str, access: Access) -> str | None:
    """The answer of the Q&A pair that asks exactly `question`, if one does that `access` may read."""
    return _pair_field(db, "p.answer", "p.question", question, access)


def edit_pair(db: sqlite3.Connection, pair_id: int, question: str | None, answer: str | None) -> None:
    """A reviewer's wording replaces the written one (None keeps it), and the pair is marked edited."""
    db.execute(
        "UPDATE pairs SET question = COALESCE(?, question), answer = COALESCE(?, answer), status = 'edited' "
        "WHERE id = ?",
        (question, answer, pair_id),
    )


def approve_pair(db: sqlite3.Connection, pair_id: int) -> None:
    db.execute("UPDATE pairs SET status = 'approved' WHERE id = ?", (pair_id,))


def delete_pair(db: sqlite3.Connection, pair_id: int) -> None:
    db.execute("DELETE FROM pairs WHERE id = ?", (pair_id,))


# Feedback and the ingest log --------------------------------------------------------------------------------


def add_feedback(db: sqlite3.Connection, given: Iterable[Feedback], wait_s: float = 1.0) -> bool:
    """Stores the feedback in a transaction of its own; False, storing none of it, when another writer (an ingest
    holds the database for as long as it runs) keeps the database longer than `wait_s`."""
    sql = "INSERT INTO feedback(created_at, question, answer, mode, run, rating, comment) VALUES (?,?,?,?,?,?,?)"
    return _add_waiting(db, sql, [astuple(f) for f in given], wait_s)


def add_audit(db: sqlite3.Connection, lines: Iterable[AuditLine], wait_s: float = 1.0) -> bool:
    """Stores lines of the audit log as add_feedback stores feedback."""
    sql = "INSERT INTO audit(at, who, action, detail) VALUES (?, ?, ?, ?)"
    return _add_waiting(db, sql, [astuple(line) for line in lines], wait_s)


def _add_waiting(db: sqlite3.Connection, sql: str, rows: list[tuple[Any, ...]], wait_s: float) -> bool:
    db.execute(f"PRAGMA busy_timeout = {int(wait_s * 1000)}")
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return False
    try:
        db.executemany(sql, rows)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return True


def log_ingest(db: sqlite3.Connection, started: str, finished: str, paths: list[str], report: dict[str, Any]) -> None:
    db.execute(
        "INSERT INTO ingests(started_at, finished_at, paths, report) VALUES (?, ?, ?, ?)",
        (started, finished, json.dumps(paths), json.dumps(report)),
    )


# API keys -----------------------------------------------------------------------------------------------------

KEY = "SELECT label, digest, shown, created_at, revoked_at, person FROM api_keys"


def add_key(db: sqlite3.Connection, key: ApiKey) -> None:
    """Stores a new key; a WorkspaceError when a key that is not revoked already has its label."""
    try:
        db.execute(
            "INSERT INTO api_keys(digest, label, shown, created_at, revoked_at, person) VALUES (?, ?, ?, ?, ?, ?)",
            (key.digest, key.label, key.shown, key.created_at, key.revoked_at, key.person),
        )
    except sqlite3.IntegrityError as err:
        raise WorkspaceError(
            f"a key labelled {key.label!r} already exists: revoke it first (docent keys revoke {key.label}) "
            "or choose another label"
        ) from err


def api_keys(db: sqlite3.Connection) -> list[ApiKey]:
    return [ApiKey(*row) for row in db.execute(KEY + " ORDER BY created_at, label")]


def has_keys(db: sqlite3.Connection) -> bool:
    """Whether any key was ever made, revoked or not."""
    return db.execute("SELECT 1 FROM api_keys LIMIT 1").fetchone() is not None


def active_key(db: sqlite3.Connection, digest: str) -> ApiKey | None:
    """The key with this digest, unless it was revoked."""
    row = db.execute(KEY + " WHERE digest = ? AND revoked_at IS NULL", (digest,)).fetchone()
    return ApiKey(*row) if row else None


def revoke_key(db: sqlite3.Connection, label: str, when: str) -> bool:
    """False when no key that is still in use has this label."""
    found = db.execute("UPDATE api_keys SET revoked_at = ? WHERE label = ? AND revoked_at IS NULL", (when, label))
    return found.rowcount > 0


# Collections, people, groups and grants -----------------------------------------------------------------------


def collections(db: sqlite3.Connection) -> dict[str, int]:
    """Every collection, with how many documents it holds: those with documents, and those only granted."""
    found = {r[0]: 0 for r in db.execute("SELECT DISTINCT collection FROM grants")}
    for name, n in db.execute("SELECT collection, COUNT(*) FROM documents GROUP BY collection"):
        found[name] = n
    return dict(sorted(found.items()))


def rename_collection(db: sqlite3.Connection, old: str, new: str) -> int:
    """Moves the documents and the grants of `old` to `new`; how many documents moved."""
    moved = db.execute("UPDATE documents SET collection = ? WHERE collection = ?", (new, old)).rowcount
    db.execute("UPDATE OR REPLACE grants SET collection = ? WHERE collection = ?", (new, old))
    return moved


def documents_in(db: sqlite3.Connection, collection: str) -> list[int]:
    return [r[0] for r in db.execute("SELECT id FROM documents WHERE collection = ?", (collection,))]


def add_person(db: sqlite3.Connection, name: str, password: str | None, admin: bool, when: str) -> None:
    try:
        db.execute(
            "INSERT INTO people(name, password, admin, created_at) VALUES (?, ?, ?, ?)",
            (name, password, int(admin), when),
        )
    except sqlite3.IntegrityError as err:
        raise WorkspaceError(f"{name!r} is already a person of this workspace: `docent users list` shows them") from err


def remove_person(db: sqlite3.Connection, name: str) -> bool:
    """Removes the person, their groups, and their keys' power (a key of a removed person answers nobody)."""
    db.execute("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, datetime('now')) WHERE person = ?", (name,))
    return db.execute("DELETE FROM people WHERE name = ?", (name,)).rowcount > 0


def set_groups(db: sqlite3.Connection, name: str, groups: Iterable[str]) -> None:
    db.execute("DELETE FROM members WHERE person = ?", (name,))
    db.executemany("INSERT OR IGNORE INTO members(person, grp) VALUES (?, ?)", [(name, g) for g in groups])


def set_password(db: sqlite3.Connection, name: str, password: str | None) -> None:
    db.execute("UPDATE people SET password = ? WHERE name = ?", (password, name))


def password_of(db: sqlite3.Connection, name: str) -> str | None:
    """The stored hash of the person's password; None for no such person, or one without a password."""
    row = db.execute("SELECT password FROM people WHERE name = ?", (name,)).fetchone()
    return row[0] if row else None


def people(db: sqlite3.Connection) -> list[Person]:
    groups: dict[str, list[str]] = {}
    for person, grp in db.execute("SELECT person, grp FROM members ORDER BY grp"):
        groups.setdefault(person, []).append(grp)
    rows = db.execute("SELECT name, admin, created_at, password IS NOT NULL FROM people ORDER BY name")
    return [Person(r[0], bool(r[1]), groups.get(r[0], []), r[2], bool(r[3])) for r in rows]


def person(db: sqlite3.Connection, name: str) -> Person | None:
    return next((p for p in people(db) if p.name == name), None)


def access_of(db: sqlite3.Connection, name: str) -> Access:
    """What the person may read: the collections that `everyone` and their groups were granted, read now, so a grant
    or a revoke counts from the next question on. A WorkspaceError for a name that is not a person's."""
    found = person(db, name)
    if found is None:
        raise WorkspaceError(f"{name!r} is not a person of this workspace: `docent users list` shows who is")
    groups = [EVERYONE, *found.groups]
    marks = ",".join("?" * len(groups))
    granted = db.execute(f"SELECT collection, write FROM grants WHERE grp IN ({marks})", groups).fetchall()
    readable = frozenset(r[0] for r in granted)
    return Access(found.name, readable, found.admin, frozenset(r[0] for r in granted if r[1]))


def grant(db: sqlite3.Connection, group: str, collection: str, write: bool) -> None:
    db.execute(
        "INSERT INTO grants(grp, collection, write) VALUES (?, ?, ?) "
        "ON CONFLICT(grp, collection) DO UPDATE SET write = excluded.write",
        (group, collection, int(write)),
    )


def revoke(db: sqlite3.Connection, group: str, collection: str) -> bool:
    return db.execute("DELETE FROM grants WHERE grp = ? AND collection = ?", (group, collection)).rowcount > 0


def grants(db: sqlite3.Connection) -> list[tuple[str, str, bool]]:
    """(group, collection, write) for every grant."""
    return [(r[0], r[1], bool(r[2])) for r in db.execute("SELECT grp, collection, write FROM grants ORDER BY 1, 2")]


# The audit log --------------------------------------------------------------------------------------------------


def audit(db: sqlite3.Connection, who: str, action: str, detail: dict[str, Any], when: str) -> None:
    """A line of the audit log written inside the caller's transaction (a grant is logged with the grant)."""
    db.execute(
        "INSERT INTO audit(at, who, action, detail) VALUES (?, ?, ?, ?)",
        (when, who, action, json.dumps(detail, ensure_ascii=False)),
    )


def audit_log(db: sqlite3.Connection, since: str = "", who: str | None = None) -> list[dict[str, Any]]:
    """The audit log, oldest first, from `since` (ISO time), of one person when `who` is given."""
    sql, args = "SELECT at, who, action, detail FROM audit WHERE at >= ?", [since]
    if who is not None:
        sql += " AND who = ?"
        args.append(who)
    return [
        {"at": r[0], "who": r[1], "action": r[2], **json.loads(r[3])} for r in db.execute(sql + " ORDER BY id", args)
    ]
