"""Can retrieval's own scores tell a question the documents answer from one they do not? The ground for a
relevance gate before the model reads.

    python bench/relevance.py [--film DIR] [--sample DIR]

Ingests the film documents and the sample corpus (without pairs) into temporary workspaces and, for each, asks
the questions it answers and questions it does not: another corpus's questions, and the 100 written questions
about the sample company that its documents do not cover (tests/fixtures/sample_unanswerable.jsonl). Prints what the
relevance gate reads (the cosine similarity of the closest chunk retrieval found, `grounding.relevance`, with the
default answer settings), by percentile, and for a few thresholds the share of answerable questions the gate would
keep and the share of unanswerable ones it would turn away; then the same at the default threshold with the names
check (`grounding.unknown_names`), and the questions it turns away that the similarity alone would keep.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path

import numpy as np

from assistant.config import AnswerConfig
from assistant.evaluate import file_questions
from assistant.grounding import NEARBY, relevance, unknown_names
from assistant.retrieve import Retriever
from ingest.config import IngestConfig
from ingest.pipeline import ingest

ROOT = Path(__file__).resolve().parent.parent
FILM = ROOT.parent / "shared" / "benchmarks" / "film"
FIXTURES = ROOT / "tests" / "fixtures"
THRESHOLDS = (0.30, 0.35, 0.40, 0.45, 0.50)


def best_similarity(retriever: Retriever, questions: list[str]) -> np.ndarray:
    cfg = AnswerConfig()
    found = retriever.search(questions, k=max(cfg.top_k, NEARBY), fusion=cfg.fusion)
    return np.array([relevance(top) for top in found])


def named(retriever: Retriever, questions: list[str]) -> list[list[str]]:
    """The names each question holds that the workspace never mentions."""
    return [unknown_names(q, retriever.words, AnswerConfig()) for q in questions]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--film", type=Path, default=FILM)
    parser.add_argument("--sample", type=Path, default=ROOT / "data" / "sample")
    parser.add_argument("--questions", type=int, default=300, help="film questions, a seeded sample")
    args = parser.parse_args()
    film = [q.question for q in file_questions(args.film / "questions.jsonl")]
    film = random.Random(0).sample(film, min(args.questions, len(film)))
    sample = [q.question for q in file_questions(FIXTURES / "sample_questions.jsonl")]
    written = [q.question for q in file_questions(FIXTURES / "sample_unanswerable.jsonl")]
    cases = [
        ("sample", args.sample, sample, {"written (sample company)": written, "film": film}),
        ("film", args.film / "docs", film, {"sample": sample, "written (sample company)": written}),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for name, docs, answerable, others in cases:
            ws = Path(tmp) / name
            ingest([docs], IngestConfig(pairs=False), ws, progress=False)
            retriever = Retriever(ws)
            kept = best_similarity(retriever, answerable)
            cfg, kept_unknown = AnswerConfig(), named(retriever, answerable)
            passes = (kept >= cfg.min_relevance) & np.array([not u for u in kept_unknown])
            low = np.percentile(kept, [1, 5, 10, 50])
            print(
                f"\n{name} workspace, {len(answerable)} answerable questions: best chunk's similarity at the 1st, "
                f"5th, 10th percentile and median {' '.join(f'{v:.3f}' for v in low)}"
            )
            for label, questions in others.items():
                away = best_similarity(retriever, questions)
                high = np.percentile(away, [50, 90, 99, 100])
                print(
                    f"  {len(questions)} unanswerable ({label}): median, 90th, 99th percentile and highest "
                    f"{' '.join(f'{v:.3f}' for v in high)}"
                )
                for t in THRESHOLDS:
                    print(
                        f"    gate at {t:.2f}: keeps {np.mean(kept >= t):.3f} of the answerable, turns away "
                        f"{np.mean(away < t):.3f}"
                    )
                away_unknown = named(retriever, questions)
                stopped = (away < cfg.min_relevance) | np.array([bool(u) for u in away_unknown])
                print(
                    f"    gate at {cfg.min_relevance:.2f} with the names check: keeps {np.mean(passes):.3f} of the "
                    f"answerable, turns away {np.mean(stopped):.3f}"
                )
                for q, sim, unknown in zip(questions, away, away_unknown, strict=True):
                    if unknown and sim >= cfg.min_relevance:
                        print(f"      {', '.join(unknown)}: {q}")
            for q, sim, unknown in zip(answerable, kept, kept_unknown, strict=True):
                if unknown and sim >= cfg.min_relevance:
                    print(f"  answerable, turned away for {', '.join(unknown)}: {q}")


if __name__ == "__main__":
    main()
