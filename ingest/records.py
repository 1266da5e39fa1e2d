"""One record for each thing the workspace holds, as the store (`store.py`) hands it out and takes it in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from ingest.chunk import chunk_context, embedded_text


@dataclass
class Document:
    id: int
    path: str  # absolute path of the file
    name: str  # path relative to the folder it was ingested from
    title: str
    format: str
    sha256: str
    size: int
    holdout: bool  # kept out of training (--holdout-docs)
    ingested_at: str
    collection: str = "general"  # who may read it is granted per collection
    chunks: int = 0  # counted only where a listing asks for them
    pairs: int = 0


@dataclass
class StoredChunk:
    id: int
    title: str  # its document's
    heading: str  # heading path, outermost first, joined by " > "
    text: str
    holdout: bool = False  # its document is kept out of training
    embedding: bytes | None = None  # float32 vector, read only where the index is built

    @property
    def embedded_text(self) -> str:
        return embedded_text(self.title, self.heading, self.text)


@dataclass
class Source:
    """A chunk with its document, as retrieval finds it and a prompt shows it."""

    rank: int
    chunk_id: int
    doc: str  # path relative to the folder it was ingested from
    path: str
    title: str
    heading: str
    text: str
    score: float
    dense: float | None  # cosine similarity with the question; None for a chunk looked up by id

    @property
    def context(self) -> str:
        return chunk_context(self.title, self.heading)

    def snippet(self, width: int = 160) -> str:
        flat = " ".join(self.text.split())
        return flat if len(flat) <= width else flat[: width - 1].rsplit(" ", 1)[0] + "…"

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class Pair:
    chunk_id: int
    fact_id: str  # names the fact the question asks for: the phrasings of one fact share it
    question: str
    answer: str  # short, verbatim from the chunk
    evidence: str  # the sentence (or passage) of the chunk that states the answer
    template: str  # how the question was written: a template's name, 'passage' or 'model'
    split: str = "train"  # train, heldout or unseen
    id: int = 0  # set once stored
    status: str = "generated"  # generated, approved or edited (in the web app)
    document: str = ""  # its document's name, when read back
    heading: str = ""  # its chunk's heading path, when read back
    doc_id: int = 0  # its document's id, when read back (names repeat across the folders ingested)


@dataclass
class Feedback:
    created_at: str
    question: str
    answer: str
    mode: str
    run: str | None  # the adapter's run, for tuned and both
    rating: int  # 1 = thumbs up, 0 = thumbs down
    comment: str = ""


@dataclass
class AuditLine:
    at: str
    who: str  # the person ('' = the workspace's owner), or the name a failed sign-in gave
    action: str
    detail: str  # JSON


@dataclass
class ApiKey:
    label: str  # who or what uses it: "helpdesk", "alice's laptop"
    digest: str  # the key's SHA-256: the key itself is shown once, when made, and never stored
    shown: str  # its first characters, so that a list can tell keys apart
    created_at: str
    revoked_at: str | None = None
    person: str | None = None  # whom it answers as; None = the workspace's owner


@dataclass(frozen=True)
class Access:
    """Who is asking, and what they may read: every query that hands out a document's content takes one.

    `collections` None = every collection: the workspace's owner (the CLI without --user, a key made before
    people, a web app without accounts). Otherwise the collections the person's groups were granted."""

    name: str = ""  # "" = the workspace's owner
    collections: frozenset[str] | None = None
    admin: bool = False
    writes: frozenset[str] | None = frozenset()  # the collections whose documents and pairs they may change

    def may_write(self, collection: str) -> bool:
        return self.writes is None or collection in self.writes

    @property
    def owner(self) -> bool:
        return self.collections is None

    def may_read_all(self, collections: Iterable[str]) -> bool:
        return self.collections is None or set(collections) <= self.collections

    def shown(self) -> str:
        return self.name or "the workspace's owner"


OWNER = Access(writes=None)


@dataclass
class Person:
    name: str
    admin: bool
    groups: list[str]
    created_at: str
    has_password: bool = False
