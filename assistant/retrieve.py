"""Retrieval over a workspace: the question's embedding and words against the committed index generation.

A retriever searches as someone: `Retriever(workspace)` as the workspace's owner (every collection), and
`retriever.within(access)` as a person, limited inside the index search to the chunks they may read. What it
hands on (the sources, the words the relevance gate looks names up in) comes from those chunks alone, so the
answering code that takes a retriever cannot reach past its scope.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import time
from pathlib import Path

import numpy as np

from ingest import store
from ingest.index import Index, words_of
from ingest.models import Embedder
from ingest.records import OWNER, Access, Source
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
        self.access = OWNER
        self._words: dict[bytes, frozenset[str]] = {}  # by the chunks a scope holds, shared by every scope
        self._found: np.ndarray | None = None  # the chunk ids this scope may find, once read

    def within(self, access: Access) -> Retriever:
        """This retriever, searching only what `access` may read (the index and models are shared, not copied)."""
        scoped = copy.copy(self)
        scoped.access, scoped._found = access, None
        return scoped

    def __len__(self) -> int:
        return len(self.index)

    def allowed(self) -> np.ndarray | None:
        """The ids of the chunks this scope may find, read from the workspace once per scope: the engine makes a
        scope for each question (`within`), so that a grant or a revoke counts from the next one, and the search
        and the relevance gate of one question read them once. None for the owner, who may find every one."""
        if self.access.owner:
            return None
        if self._found is None:
            self._found = np.array(store.chunk_ids_within(self.db, self.access), dtype=np.int64)
        return self._found

    @property
    def words(self) -> frozenset[str] | None:
        """Every word of the text this scope may read, for the relevance gate to look names up
        (`grounding.unknown_names`): a name that only a forbidden document holds is as unknown as an invented one."""
        allowed = self.allowed()
        if allowed is None or self.index.words is None:
            return self.index.words
        key = hashlib.sha1(np.sort(allowed).tobytes()).digest()
        if key not in self._words:
            if len(self._words) >= 64:  # scopes come and go with grants; a few are alive at once
                self._words.clear()
            texts = store.indexed_texts(self.db, self.access)
            self._words[key] = frozenset(w for text in texts for w in words_of(text))
        return self._words[key]

    def search(self, queries: list[str], k: int = 5, fusion: str = "rrf") -> list[list[Source]]:
        vectors = self.embedder.encode(queries)
        hits = self.index.search(vectors, queries, k=k, fusion=fusion, allowed=self.allowed())
        found = {s.chunk_id: s for s in self.chunks(sorted({h.chunk_id for top in hits for h in top}))}
        return [  # a chunk revoked between the search and this lookup is left out, never shown
            [
                dataclasses.replace(found[h.chunk_id], rank=rank, score=h.score, dense=h.dense)
                for rank, h in enumerate([h for h in top if h.chunk_id in found], 1)
            ]
            for top in hits
        ]

    def chunks(self, ids: list[int]) -> list[Source]:
        """Chunks by id, as sources (rank and score 0), in the order given."""
        return store.sources(self.db, ids, self.access)

    def timed_search(self, query: str, k: int, fusion: str = "rrf") -> tuple[list[Source], float]:
        start = time.perf_counter()
        (sources,) = self.search([query], k=k, fusion=fusion)
        return sources, time.perf_counter() - start
