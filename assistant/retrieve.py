"""Retrieval over a workspace: the question's embedding and words against the committed index generation."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from ingest import store
from ingest.index import Index
from ingest.models import Embedder
from ingest.records import Source
from ingest.store import Workspace, WorkspaceError, get_meta

__all__ = ["Retriever", "Source"]


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
            [
                dataclasses.replace(found[h.chunk_id], rank=rank, score=h.score, dense=h.dense)
                for rank, h in enumerate(top, 1)
            ]
            for top in hits
        ]

    def chunks(self, ids: list[int]) -> list[Source]:
        """Chunks by id, as sources (rank and score 0), in the order given."""
        return store.sources(self.db, ids)

    def timed_search(self, query: str, k: int, fusion: str = "rrf") -> tuple[list[Source], float]:
        start = time.perf_counter()
        (sources,) = self.search([query], k=k, fusion=fusion)
        return sources, time.perf_counter() - start
