"""Can retrieval's own scores tell a question the documents answer from one they do not? The ground for the
relevance gate before the model reads (`grounding.gate`).

    python bench/relevance.py [--film DIR] [--sample DIR]

Ingests the film documents and the sample corpus (without pairs) into temporary workspaces and, for each, asks
the questions it answers and questions it does not: another corpus's questions, and the 100 written questions
about the sample company that its documents do not cover (tests/fixtures/sample_unanswerable.jsonl). Prints what the
gate reads first (the cosine similarity of the closest chunk retrieval found, `grounding.relevance`, with the
default answer settings), by percentile, and for a few thresholds the share of answerable questions it would
keep and the share of unanswerable ones it would turn away. Then the whole gate, one check added at a time, at the
default settings: the similarity; the names check (names no document mentions, and names the passages found do
not mention); the closest sentence (`min_sentence_relevance`, at a few thresholds); with the answerable questions
each check turns away, and the unanswerable ones that pass them all.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import tempfile
from pathlib import Path

import numpy as np

from assistant.config import AnswerConfig
from assistant.evaluate import file_questions
from assistant.grounding import NEARBY, gate, relevance
from assistant.retrieve import Retriever, Source
from ingest.config import IngestConfig
from ingest.pipeline import ingest

ROOT = Path(__file__).resolve().parent.parent
FILM = ROOT.parent / "shared" / "benchmarks" / "film"
FIXTURES = ROOT / "tests" / "fixtures"
THRESHOLDS = (0.30, 0.35, 0.40, 0.45, 0.50)
SENTENCE_THRESHOLDS = (0.45, 0.50, 0.55)


def best_similarity(retriever: Retriever, questions: list[str]) -> np.ndarray:
    cfg = AnswerConfig()
    found = retriever.search(questions, k=max(cfg.top_k, NEARBY), fusion=cfg.fusion)
    return np.array([relevance(top) for top in found])


def searched(retriever: Retriever, questions: list[str]) -> list[tuple[str, list[Source]]]:
    """Each question with the passages the gate reads, found once for every setting of the gate."""
    cfg = AnswerConfig()
    found = retriever.search(questions, k=max(cfg.top_k, NEARBY), fusion=cfg.fusion)
    return list(zip(questions, found, strict=True))


def stopped(retriever: Retriever, questions: list[tuple[str, list[Source]]], cfg: AnswerConfig) -> np.ndarray:
    """Which questions the gate turns away at `cfg` (True: not asked of the model)."""
    return np.array([bool(gate(q, top, retriever, cfg)) for q, top in questions])


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
    default = AnswerConfig()
    steps = [
        ("similarity", dataclasses.replace(default, check_names=False, min_sentence_relevance=0.0)),
        ("+ names", dataclasses.replace(default, min_sentence_relevance=0.0)),
        *(
            (f"+ sentences at {t:.2f}", dataclasses.replace(default, min_sentence_relevance=t))
            for t in SENTENCE_THRESHOLDS
        ),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for name, docs, answerable, others in cases:
            ws = Path(tmp) / name
            ingest([docs], IngestConfig(pairs=False), ws, progress=False)
            retriever = Retriever(ws)
            kept = best_similarity(retriever, answerable)
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
                        f"    similarity at {t:.2f}: keeps {np.mean(kept >= t):.3f} of the answerable, turns away "
                        f"{np.mean(away < t):.3f}"
                    )
            print(f"  the gate at the default settings (similarity {default.min_relevance:.2f}), check by check:")
            asked = {label: searched(retriever, questions) for label, questions in {"": answerable, **others}.items()}
            for step, cfg in steps:
                away_answerable = stopped(retriever, asked[""], cfg)
                shares = [f"keeps {1 - np.mean(away_answerable):.3f} of the answerable"]
                for label in others:
                    shares.append(f"turns away {np.mean(stopped(retriever, asked[label], cfg)):.3f} ({label})")
                print(f"    {step}: {', '.join(shares)}")
                if cfg == default:
                    for q in np.array(answerable)[away_answerable]:
                        print(f"      answerable, turned away: {q}")
            for label, questions in others.items():
                for q in np.array(questions)[~stopped(retriever, asked[label], default)]:
                    print(f"  unanswerable ({label}), passes the gate: {q}")


if __name__ == "__main__":
    main()
