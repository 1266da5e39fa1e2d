"""Retrieval over a workspace: the question's embedding and words against the committed index generation."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ingest.index import Index
from ingest.models import Embedder
from ingest.pipeline import chunk_context
from ingest.store import Workspace, WorkspaceError, get_meta


@dataclass
class Source:
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


class Retriever:
    """Loads the workspace's index once; `search` answers any number of queries in one batch."""

    def __init__(self, workspace: Path, embedder: Embedder | None = None):
        self.workspace = Workspace(workspace)
        self.db = self.workspace.connect()
        generation = get_meta(self.db, "index_generation")
        if not generation:
            raise WorkspaceError(f"{workspace} has no index yet: run `docent ingest PATH` first")
        name = get_meta(self.db, "embedder") or "embedded"
        if embedder is not None and embedder.name != name:
            raise WorkspaceError(f"{workspace} was embedded with {name!r}, not {embedder.name!r}")
        self.embedder = embedder or Embedder(name)
        self.generation = generation
        self.index = Index.load(self.workspace.generation_path(generation))

    def __len__(self) -> int:
        return len(self.index)

    @property
    def words(self) -> frozenset[str] | None:
        """Every word of the indexed text, for the relevance gate to look names up (`grounding.unknown_names`)."""
        return self.index.words

    def search(self, queries: list[str], k: int = 5, fusion: str = "rrf") -> list[list[Source]]:
        vectors = self.embedder.encode(queries)
        hits = self.index.search(vectors, queries, k=k, fusion=fusion)
        found = {s.chunk_id: s for s in self.chunks(sorted({h.chunk_id for top in hits for h in top}))}
        return [
            [dataclasses.replace(found[h.chunk_id], rank=rank, score=h.score, dense=h.dense)
             for rank, h in enumerate(top, 1)]
            for top in hits
        ]  # fmt: skip

    def chunks(self, ids: list[int]) -> list[Source]:
        """Chunks by id, as sources (rank and score 0), in the order given."""
        rows = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            for r in self.db.execute(
                f"""SELECT c.id, d.name, d.path, d.title, c.heading, c.text FROM chunks c
                    JOIN documents d ON d.id = c.doc_id WHERE c.id IN ({marks})""",
                part,
            ):
                rows[r[0]] = Source(0, r[0], r[1], r[2], r[3], r[4], r[5], 0.0, None)
        return [rows[i] for i in ids if i in rows]

    def timed_search(self, query: str, k: int, fusion: str = "rrf") -> tuple[list[Source], float]:
        start = time.perf_counter()
        (sources,) = self.search([query], k=k, fusion=fusion)
        return sources, time.perf_counter() - start
