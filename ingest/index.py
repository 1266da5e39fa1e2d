"""The search index of one workspace generation: FAISS over normalised embeddings, BM25 over the same text.

Dense search finds paraphrases; BM25 finds exact names, codes and numbers that embeddings blur. Their ranked
lists are fused with reciprocal rank fusion (Cormack et al. 2009), which needs no score calibration between
the two; `bench/retrieval_recall.py` measures each alone and fused.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# `auto` switches to the approximate index at this many chunks. bench/ingest_speed.py: exact search over 100k
# chunks takes 15 ms (p50) and keeps every true neighbour, HNSW 0.2 ms finding 87% of the exact top 5.
HNSW_FROM = 200_000
# A filtered search over an HNSW index walks the graph through chunks the person may not read and loses most of
# their neighbours when they may read few (bench/filtered_search.py: 0.42 of the exact top 5 at a 20 % share of
# 50k chunks). Up to this many allowed chunks the dense search is exact instead, over their vectors kept apart
# (flat search of 100k chunks takes about 15 ms, above).
EXACT_UP_TO = 100_000
SUBSETS_KEPT = 4  # allowed sets whose vectors are kept (about 150 MB each at 100k chunks of 384 dimensions)
RRF_K = 60  # the constant of reciprocal rank fusion; 60 is the value of the original paper
WORD = re.compile(r"\w+(?:[.\-]\w+)*")  # a word, or a code or version joined by dots and hyphens: P5-JP, 2.3.1


def bm25_tokens(texts: list[str]) -> list[list[str]]:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    return bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False)  # type: ignore[return-value]


@dataclass
class Hit:
    chunk_id: int
    score: float  # fused score (higher is better)
    dense: float  # cosine similarity with the question


def words_of(text: str) -> set[str]:
    """The words of a text as the relevance gate looks names up: lower case, a code or version kept whole ("p5-jp",
    "2.3.1") beside its parts and shorter versions ("p5", "jp", "2.3"), so that a question may name either."""
    out = set()
    for word in WORD.findall(text.lower()):
        out.add(word)
        parts = re.split(r"([.\-])", word)
        out.update(parts[::2])
        out.update("".join(parts[:i]) for i in range(3, len(parts), 2))
    return out


class Index:
    def __init__(self, ids: np.ndarray, faiss_index: Any, bm25: Any, words: frozenset[str] | None = None):
        self.ids = ids  # row -> chunk id, for BM25 results
        self.faiss = faiss_index
        self.bm25 = bm25
        self.words = words  # every word of the indexed text (`words_of`); None in a generation written before them
        self.subsets: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}  # allowed ids -> (ids, vectors), HNSW only
        self.lock = threading.Lock()  # one engine answers many people at once

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, ids: np.ndarray, vectors: np.ndarray, texts: list[str], kind: str = "auto") -> Index:
        import bm25s
        import faiss

        ids = np.asarray(ids, dtype=np.int64)
        dim = vectors.shape[1]
        inner: Any
        if kind == "hnsw" or (kind == "auto" and len(ids) >= HNSW_FROM):
            inner = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = 80
            inner.hnsw.efSearch = 96
        else:
            inner = faiss.IndexFlatIP(dim)
        index = faiss.IndexIDMap2(inner)
        if len(ids):
            index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        bm25 = bm25s.BM25()
        if texts:
            bm25.index(bm25_tokens(texts), show_progress=False)
        words = frozenset(w for text in texts for w in words_of(text))
        return cls(ids, index, bm25 if texts else None, words)

    def save(self, root: Path) -> str:
        """Writes a new generation folder under `root` and returns its name; never touches the others."""
        import faiss

        generation = uuid.uuid4().hex[:12]
        staging = root / f".tmp-{generation}"
        staging.mkdir(parents=True)
        try:
            faiss.write_index(self.faiss, str(staging / "vectors.faiss"))
            np.save(staging / "ids.npy", self.ids)
            if self.bm25 is not None:
                self.bm25.save(str(staging / "bm25"), show_progress=False)
            if self.words is not None:
                (staging / "words.txt").write_text("\n".join(sorted(self.words)), encoding="utf-8")
            for file in staging.rglob("*"):
                if file.is_file():
                    with open(file, "rb") as f:
                        os.fsync(f.fileno())  # on disk before the database points at it
            staging.rename(root / generation)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return generation

    @classmethod
    def load(cls, folder: Path) -> Index:
        import bm25s
        import faiss

        index = faiss.read_index(str(folder / "vectors.faiss"))
        ids = np.load(folder / "ids.npy")
        bm25 = bm25s.BM25.load(str(folder / "bm25"), show_progress=False) if (folder / "bm25").exists() else None
        listed = folder / "words.txt"
        words = frozenset(listed.read_text(encoding="utf-8").split("\n")) if listed.exists() else None
        return cls(ids, index, bm25, words)

    def search(
        self,
        vectors: np.ndarray,
        texts: list[str],
        k: int = 5,
        fusion: str = "rrf",
        depth: int = 50,
        allowed: np.ndarray | None = None,
    ) -> list[list[Hit]]:
        """For each query (its embedding and its text) the k best chunks, best first; with `allowed` (chunk ids),
        the k best of those alone. The limit is inside both searches (a FAISS id selector, a BM25 weight mask), so
        the top k is full of allowed chunks however few of them there are."""
        if len(self.ids) == 0 or (allowed is not None and len(allowed) == 0):
            return [[] for _ in texts]
        params, mask, size, exact = None, None, len(self.ids), False
        if allowed is not None:
            import faiss

            mask = np.isin(self.ids, allowed)
            size = int(mask.sum())
            if size == 0:  # none of them indexed (yet)
                return [[] for _ in texts]
            hnsw = getattr(faiss.downcast_index(self.faiss.index), "hnsw", None)
            exact = hnsw is not None and size <= EXACT_UP_TO
            selector = None if exact else faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            # a walk through a graph of mostly hidden chunks looks further, as many more as are hidden
            params = (
                None
                if exact
                else (
                    faiss.SearchParametersHNSW(sel=selector, efSearch=min(hnsw.efSearch * len(self.ids) // size, 1024))  # type: ignore[attr-defined]
                    if hnsw is not None
                    else faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
                )
            )
        depth = min(max(depth, k), size)
        queries = np.ascontiguousarray(vectors, dtype=np.float32)
        if exact:
            dense_scores, dense_ids = self._exact(queries, self.ids[mask], depth)
        else:
            dense_scores, dense_ids = self.faiss.search(queries, depth, params=params)  # type: ignore[attr-defined]
        bm25_ids: list[list[int]] = [[] for _ in texts]
        if fusion != "dense" and self.bm25 is not None:
            tokens = bm25_tokens(texts)
            weights = None if mask is None else mask.astype(np.float32)
            rows, scores = self.bm25.retrieve(  # type: ignore[attr-defined]
                tokens, k=depth, show_progress=False, n_threads=1, weight_mask=weights
            )
            for q, tok in enumerate(tokens):  # a masked row scores 0, and comes back only to fill the k
                keep = [r for r, s in zip(rows[q], scores[q], strict=True) if mask is None or (mask[r] and s > 0)]
                bm25_ids[q] = [int(self.ids[r]) for r in keep] if tok else []
        results = []
        for q in range(len(texts)):
            dense = {int(i): float(s) for i, s in zip(dense_ids[q], dense_scores[q], strict=True) if i >= 0}
            if fusion == "dense":
                ranked = sorted(dense.items(), key=lambda kv: -kv[1])
                results.append([Hit(i, s, s) for i, s in ranked[:k]])
                continue
            fused: dict[int, float] = {}
            lists = [bm25_ids[q]] if fusion == "bm25" else [list(dense), bm25_ids[q]]
            for ranking in lists:
                for rank, chunk_id in enumerate(ranking):
                    fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
            ranked = sorted(fused.items(), key=lambda kv: -kv[1])[:k]
            results.append([Hit(i, s, dense[i] if i in dense else self.similarity(vectors[q], i)) for i, s in ranked])
        return results

    def _exact(self, queries: np.ndarray, ids: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact inner-product search over `ids` alone, their vectors read out of the index once per allowed set
        (people of the same groups share one) and kept for the next question."""
        key = ids.tobytes()
        with self.lock:
            if key not in self.subsets:
                if len(self.subsets) >= SUBSETS_KEPT:
                    self.subsets.pop(next(iter(self.subsets)))
                self.subsets[key] = (ids, self.faiss.reconstruct_batch(ids))  # type: ignore[attr-defined]
            ids, matrix = self.subsets[key]
        scores = queries @ matrix.T
        top = np.argpartition(-scores, depth - 1, axis=1)[:, :depth]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
        top = np.take_along_axis(top, order, axis=1)
        return np.take_along_axis(scores, top, axis=1), ids[top]

    def similarity(self, vector: np.ndarray, chunk_id: int) -> float:
        """Cosine similarity of a query with one chunk, for a chunk that BM25 found beyond dense search's depth:
        every source then carries the similarity that the relevance gate reads."""
        return float(np.dot(self.faiss.reconstruct(chunk_id), vector))
