"""Ingest throughput and query latency.

    python bench/ingest_speed.py [--copies 31] [--repeat 5]

1. The film set (169 documents): documents/s and chunks/s for a whole `ingest` with Q&A pairs, and without.
2. A corpus of about 10,000 chunks made from the sample: every sample document's text, copied `--copies` times
   as Markdown with its numbers changed, so that no two copies embed alike; ingested without pairs.
3. Query latency, p50 and p95 over the 60 sample questions (tests/fixtures), each asked `--repeat` times: the
   question's embedding, then the exact (flat) and approximate (HNSW) FAISS indexes side by side, alone and
   fused with BM25 as `docent search` does, at 10k chunks (the corpus above) and 100k chunks (its vectors and
   texts repeated ten times, each vector with small noise, since embedding 100k chunks on this CPU takes the
   better part of an hour). HNSW's quality is its recall of the exact top 5, and the cosine it gives up: the
   copies make near-ties, so an approximate index may return a different copy of the same passage.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from pathlib import Path

import numpy as np

from ingest import store
from ingest.config import IngestConfig
from ingest.index import Index
from ingest.models import Embedder
from ingest.parse import parse
from ingest.pipeline import ingest
from ingest.store import Workspace

ROOT = Path(__file__).resolve().parent.parent
FILM = ROOT.parent / "shared" / "benchmarks" / "film"


def timed_ingest(paths: list[Path], ws: Path, embedder: Embedder, **settings: object) -> tuple[float, int, int]:
    start = time.perf_counter()
    report = ingest(paths, IngestConfig(**settings), ws, progress=False, embedder=embedder)  # type: ignore[arg-type]
    return time.perf_counter() - start, report.added, report.chunks


def build_copies(target: Path, copies: int) -> None:
    """Markdown copies of the sample documents, each copy's numbers shifted so its text is new."""
    docs = []
    for file in sorted((ROOT / "data" / "sample").rglob("*")):
        if file.is_file():
            parsed = parse(file)
            docs.append((file.stem, parsed.title, [(b.level, b.text) for b in parsed.blocks]))
    for copy in range(copies):
        folder = target / f"copy{copy:03d}"
        folder.mkdir(parents=True)
        for stem, title, blocks in docs:
            lines = [f"# {title} (edition {copy})", ""]
            for level, text in blocks:
                text = re.sub(r"\d+", lambda m, c=copy: str(int(m.group()) + c), text)
                lines += [("#" * min(level + 1, 6) + " " + text) if level else text, ""]
            (folder / f"{stem}.md").write_text("\n".join(lines), encoding="utf-8")


def percentiles(seconds: list[float]) -> str:
    ms = np.array(seconds) * 1000
    return f"p50 {np.percentile(ms, 50):7.2f} ms   p95 {np.percentile(ms, 95):7.2f} ms"


def latency(
    index: Index, vectors: np.ndarray, questions: list[str], fusion: str
) -> tuple[list[float], list[list[tuple[int, float]]]]:
    times, tops = [], []
    index.search(vectors[:1], questions[:1], k=5, fusion=fusion)  # warm-up
    for vector, question in zip(vectors, questions):
        start = time.perf_counter()
        (hits,) = index.search(vector[None, :], [question], k=5, fusion=fusion)
        times.append(time.perf_counter() - start)
        tops.append([(h.chunk_id, h.score) for h in hits])
    return times, tops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=31, help="sample copies (31 make about 10,000 chunks)")
    parser.add_argument("--repeat", type=int, default=5, help="times each question is asked")
    args = parser.parse_args()
    embedder = Embedder()
    fixture = ROOT / "tests" / "fixtures" / "sample_questions.jsonl"
    questions = [json.loads(line)["question"] for line in fixture.read_text().splitlines()] * args.repeat
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        print("ingest throughput (2-core CPU)")
        for pairs in (True, False):
            seconds, docs, chunks = timed_ingest([FILM / "docs"], tmp_path / f"film-{pairs}", embedder, pairs=pairs)
            label = "film set, with Q&A pairs" if pairs else "film set, without pairs"
            print(
                f"  {label:34s} {docs} docs, {chunks} chunks in {seconds:6.1f} s: "
                f"{docs / seconds:6.1f} docs/s, {chunks / seconds:6.1f} chunks/s"
            )
        build_copies(tmp_path / "copies", args.copies)
        ws = tmp_path / "big"
        seconds, docs, chunks = timed_ingest([tmp_path / "copies"], ws, embedder, pairs=False)
        print(
            f"  {'sample copies, without pairs':34s} {docs} docs, {chunks} chunks in {seconds:6.1f} s: "
            f"{docs / seconds:6.1f} docs/s, {chunks / seconds:6.1f} chunks/s"
        )

        db = Workspace(ws).connect()
        chunks = store.indexed_chunks(db)
        ids = np.array([c.id for c in chunks], dtype=np.int64)
        vectors = np.stack([np.frombuffer(c.embedding or b"", dtype=np.float32) for c in chunks])
        texts = [c.embedded_text for c in chunks]

    times = []
    for q in questions:
        start = time.perf_counter()
        embedder.encode([q])
        times.append(time.perf_counter() - start)
    query_vectors = embedder.encode(questions)
    print(f"\nquery latency over {len(questions)} questions\n  {'embedding the question':34s} {percentiles(times)}")
    rng = np.random.default_rng(0)
    for scale in (1, 10):
        if scale == 1:
            big_ids, big_vectors, big_texts = ids, vectors, texts
        else:
            big_ids = np.arange(len(ids) * scale, dtype=np.int64)
            noisy = np.concatenate(
                [vectors + rng.normal(0, 0.02, vectors.shape).astype(np.float32) for _ in range(scale)]
            )
            big_vectors = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
            big_texts = texts * scale
        tops = {}
        for kind in ("flat", "hnsw"):
            start = time.perf_counter()
            index = Index.build(big_ids, big_vectors, big_texts, kind)
            built = time.perf_counter() - start
            seconds, tops[kind] = latency(index, query_vectors, questions, "dense")
            print(f"  {len(big_ids):>7,} chunks, {kind:4s} alone  (built in {built:5.1f} s)   {percentiles(seconds)}")
            seconds, _ = latency(index, query_vectors, questions, "rrf")
            print(f"  {len(big_ids):>7,} chunks, {kind:4s} + BM25 fused                 {percentiles(seconds)}")
        found = np.mean([len({i for i, _ in a} & {i for i, _ in b}) / 5 for a, b in zip(tops["flat"], tops["hnsw"])])
        lost = np.mean(
            [np.mean([s for _, s in a]) - np.mean([s for _, s in b]) for a, b in zip(tops["flat"], tops["hnsw"])]
        )
        print(
            f"  {len(big_ids):>7,} chunks: HNSW finds {found:.1%} of the exact top 5; mean cosine given up {lost:.4f}"
        )


if __name__ == "__main__":
    main()
