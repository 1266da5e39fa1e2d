"""A person's search, limited to the collections they may read: a filter inside one index, or one index each?

    python bench/filtered_search.py [--chunks 50000] [--share 0.2] [--queries 200]

Random unit vectors stand in for chunks (the search's cost does not depend on what they say), with the texts of
the sample corpus repeated for BM25. A `--share` of the chunks forms the collection the person may read. Timed,
p50 over `--queries` queries, in one process:
- baseline: an index built from that collection's chunks alone (one index per collection);
- ours: the whole index, searched with the allowed ids (FAISS id selector, BM25 weight mask), as Docent does
  (reading the ids from the workspace, one SQLite query, is not included);
for the exact (flat) and approximate (HNSW) indexes, with BM25 fused; HNSW twice, filtered by walking the graph
and as Docent searches it (exactly, over the allowed chunks' vectors, up to `EXACT_UP_TO` of them). Then the
quality of the filtered search, by embeddings alone: the share of the collection's exact top 5 (its own flat
index) that it finds. An approximate graph walked with a filter can miss neighbours. (Fused with BM25 the two can
differ more: BM25 weighs a word by how rare it is in the index searched, the whole one or the collection's own.)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import ingest.index
from ingest.index import Index
from ingest.parse import parse

ROOT = Path(__file__).resolve().parent.parent


def texts(n: int) -> list[str]:
    paragraphs = []
    for file in sorted((ROOT / "data" / "sample").rglob("*")):
        if file.is_file():
            paragraphs += [b.text for b in parse(file).blocks if len(b.text) > 40]
    return [f"{paragraphs[i % len(paragraphs)]} ({i})" for i in range(n)]


def p50(
    index: Index, vectors: np.ndarray, queries: list[str], allowed: np.ndarray | None, fusion: str = "rrf"
) -> tuple[float, list]:
    times, tops = [], []
    index.search(vectors[:1], queries[:1], k=5, allowed=allowed)  # warm-up
    for vector, query in zip(vectors, queries, strict=True):
        start = time.perf_counter()
        (hits,) = index.search(vector[None, :], [query], k=5, fusion=fusion, allowed=allowed)
        times.append(time.perf_counter() - start)
        tops.append({h.chunk_id for h in hits})
    return float(np.percentile(np.array(times) * 1000, 50)), tops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=50_000)
    parser.add_argument("--share", type=float, default=0.2, help="share of the chunks the person may read")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(args.chunks, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    words = texts(args.chunks)
    ids = np.arange(args.chunks, dtype=np.int64)
    allowed = np.sort(rng.choice(ids, int(args.chunks * args.share), replace=False))
    queries = [words[int(i)][:80] for i in rng.choice(ids, args.queries)]
    query_vectors = vectors[rng.choice(ids, args.queries)] + rng.normal(0, 0.05, (args.queries, 384)).astype(np.float32)
    print(f"{args.chunks:,} chunks; the person may read {len(allowed):,} ({args.share:.0%}); BM25 fused; p50 of "
          f"{args.queries} queries")  # fmt: skip
    exact = Index.build(allowed, vectors[allowed], [words[i] for i in allowed], "flat")
    _, exact_tops = p50(exact, query_vectors, queries, None, "dense")
    for kind, exact_up_to in (("flat", None), ("hnsw", 0), ("hnsw", ingest.index.EXACT_UP_TO)):
        if exact_up_to is not None:
            ingest.index.EXACT_UP_TO = exact_up_to
        label = kind if exact_up_to is None else "hnsw, graph walk" if exact_up_to == 0 else "hnsw, exact (Docent)"
        whole = Index.build(ids, vectors, words, kind)
        alone = Index.build(allowed, vectors[allowed], [words[i] for i in allowed], kind)
        base_ms, _ = p50(alone, query_vectors, queries, None)
        ours_ms, ours_tops = p50(whole, query_vectors, queries, allowed)
        unfiltered_ms, _ = p50(whole, query_vectors, queries, None)
        _, dense_tops = p50(whole, query_vectors, queries, allowed, "dense")
        _, alone_tops = p50(alone, query_vectors, queries, None, "dense")
        kept = np.mean([len(a & b) / 5 for a, b in zip(exact_tops, dense_tops, strict=True)])
        kept_alone = np.mean([len(a & b) / 5 for a, b in zip(exact_tops, alone_tops, strict=True)])
        outside = sum(len(t - set(allowed.tolist())) for t in ours_tops + dense_tops)
        print(f"  {label}: one index per collection {base_ms:6.2f} ms (exact top 5 found {kept_alone:.3f}) | one "
              f"index, filtered {ours_ms:6.2f} ms (x{ours_ms / base_ms:.2f}; exact top 5 found {kept:.3f}) | "
              f"unfiltered {unfiltered_ms:6.2f} ms | results outside the collection {outside}")  # fmt: skip


if __name__ == "__main__":
    main()
