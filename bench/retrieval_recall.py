"""Recall of the source document for the film questions: Docent's search beside whole-document dense retrieval.

    python bench/retrieval_recall.py [--docs DIR] [--questions FILE]

Ingests the documents into a temporary workspace with `docent ingest`, answers every question with
`docent search --file … --json` for each ranking (fused, dense alone, BM25 alone), and in the same run the
baseline: all-MiniLM-L6-v2 over whole documents in a flat FAISS index. A question counts as found at k when
its `doc` is among the documents of the top k chunks.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILM = HERE.parent.parent / "shared" / "benchmarks" / "film"


def docent(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "assistant.cli", *args], check=True, cwd=HERE.parent)


def recall(ranked_docs: list[list[str]], gold: list[str]) -> dict[str, float]:
    n = len(gold)
    found = [ranked.index(g) + 1 if g in ranked else 0 for ranked, g in zip(ranked_docs, gold, strict=True)]
    return {
        "recall@1": sum(r == 1 for r in found) / n,
        "recall@5": sum(0 < r <= 5 for r in found) / n,
        "mrr": sum(1 / r for r in found if r) / n,
    }


def distinct_docs(results: list[dict[str, object]]) -> list[str]:
    out: list[str] = []
    for r in results:
        name = Path(str(r["doc"])).name
        if name not in out:
            out.append(name)
    return out


def whole_document_baseline(docs: Path, questions: list[dict[str, str]]) -> list[list[str]]:
    import faiss

    from ingest.models import Embedder

    files = sorted(docs.glob("*.txt"))
    embedder = Embedder()
    index = faiss.IndexFlatIP(embedder.dim)
    index.add(embedder.encode([f.read_text(encoding="utf-8") for f in files]))
    _, rows = index.search(embedder.encode([q["question"] for q in questions]), 5)
    return [[files[i].name for i in row] for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=Path, default=FILM / "docs")
    parser.add_argument("--questions", type=Path, default=FILM / "questions.jsonl")
    args = parser.parse_args()
    questions = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    gold = [Path(q["doc"]).name for q in questions]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "ws"
        start = time.perf_counter()
        docent("ingest", str(args.docs), "--workspace", str(workspace), "--no-pairs", "--quiet")
        print(f"ingested {args.docs} in {time.perf_counter() - start:.1f} s")
        for fusion in ("rrf", "dense", "bm25"):
            out = Path(tmp) / f"{fusion}.jsonl"
            docent(
                "search",
                "--file",
                str(args.questions),
                "--json",
                "-k",
                "20",
                "--fusion",
                fusion,
                "--out",
                str(out),
                "--workspace",
                str(workspace),
            )
            results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
            rows.append((f"docent search, {fusion}", recall([distinct_docs(r["results"]) for r in results], gold)))
    rows.append(("baseline: dense, whole documents", recall(whole_document_baseline(args.docs, questions), gold)))
    print(f"\n{len(questions)} questions over {len(set(gold))} documents\n")
    print(f"{'retrieval':38s} {'recall@1':>9s} {'recall@5':>9s} {'MRR':>7s}")
    for name, m in rows:
        print(f"{name:38s} {m['recall@1']:9.3f} {m['recall@5']:9.3f} {m['mrr']:7.3f}")
    ours, base = rows[0][1], rows[-1][1]
    print(
        f"\nfused vs baseline: recall@1 {ours['recall@1'] - base['recall@1']:+.3f}, "
        f"recall@5 {ours['recall@5'] - base['recall@5']:+.3f}"
    )


if __name__ == "__main__":
    main()
