"""How many retrieved chunks the embedded model should read, and in which order: retrieval answers on the film set.

    python bench/context.py [--questions 150] [--seed 0] [--workspace W]

Ingests the film documents (or reuses W), then answers the same seeded sample of the benchmark's questions in
`retrieval` mode with one, two and three chunks, three both with the best chunk last (next to the question, as
Docent's prompt puts it) and first (in rank order). Prints contains, token F1 and answer length for each: the
figures behind the default `top_k` and the order of the sources in the prompt.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from assistant import evaluate
from assistant.config import AnswerConfig
from assistant.generate import LLM
from assistant.prompt import retrieval_messages
from assistant.retrieve import Retriever, Source
from ingest.config import IngestConfig
from ingest.pipeline import ingest

ROOT = Path(__file__).resolve().parent.parent
FILM = ROOT.parent / "shared" / "benchmarks" / "film"


def rank_order(question: str, sources: list[Source]) -> list[dict[str, str]]:
    return retrieval_messages(question, list(reversed(sources)))  # the prompt reverses them back


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workspace", type=Path, help="reuse this workspace (ingested if empty)")
    args = parser.parse_args()
    questions = evaluate.sample(evaluate.file_questions(FILM / "questions.jsonl"), args.questions, args.seed)
    variants = [
        ("1 chunk", 1, retrieval_messages),
        ("2 chunks, best last", 2, retrieval_messages),
        ("3 chunks, best last", 3, retrieval_messages),
        ("3 chunks, best first", 3, rank_order),
    ]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ws = args.workspace or Path(tmp) / "ws"
        if not (ws / "docent.db").exists():
            ingest([FILM / "docs"], IngestConfig(pairs=False), ws)
        retriever, llm = Retriever(ws), LLM("embedded")
        for name, k, prompt in variants:
            evaluate.retrieval_messages = prompt  # type: ignore[attr-defined]
            start = time.perf_counter()
            results = evaluate.answer_all(questions, "retrieval", llm, retriever, AnswerConfig(top_k=k))
            scores = evaluate.summarise(results, args.seed)
            rows.append((name, scores, time.perf_counter() - start))
            print(f"{name}: contains {scores['contains']:.3f}", flush=True)
    print(f"\n{len(questions)} film questions (seed {args.seed}), retrieval mode, {llm.precision} weights\n")
    print(f"{'context':22s} {'contains':>8s} {'interval':>15s} {'F1':>6s} {'length':>7s} {'time':>7s}")
    for name, s, seconds in rows:
        low, high = s["intervals"]["contains"]
        print(
            f"{name:22s} {s['contains']:8.3f} [{low:.3f}, {high:.3f}] {s['f1']:6.3f} {s['length']:7.1f} {seconds:6.0f}s"
        )


if __name__ == "__main__":
    main()
