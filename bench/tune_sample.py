"""The README's main job, measured: tune the embedded model on the sample corpus, then ask it its training questions.

    python bench/tune_sample.py [--epochs 1] [--max-pairs 1200] [--recipe closed-book] [--score-questions 40]
                                [--questions 100]

Ingests data/sample, tunes with the settings `make demo` uses (timed: it must fit in 15 minutes on the 2-core
machine), then answers a seeded sample of the questions it was trained on, with the base model and with the
tuned one (no retrieval), and prints token F1 and `contains` for both.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from assistant import data, runs
from assistant.config import AnswerConfig, TuneConfig
from assistant.evaluate import Question, answer_all, summarise
from assistant.generate import LLM
from assistant.tune import tune
from ingest.config import IngestConfig
from ingest.pipeline import ingest
from ingest.store import Workspace

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--max-pairs", type=int, default=1200)
    parser.add_argument("--recipe", default="closed-book")
    parser.add_argument("--score-questions", type=int, default=40, help="held-out questions scored each epoch")
    parser.add_argument("--questions", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        start = time.perf_counter()
        ingest([ROOT / "data" / "sample"], IngestConfig(), ws, progress=False)
        ingested = time.perf_counter() - start
        cfg = TuneConfig(
            recipe=args.recipe, epochs=args.epochs, max_pairs=args.max_pairs, score_questions=args.score_questions
        )
        start = time.perf_counter()
        run = tune(cfg, ws)
        tuned = time.perf_counter() - start
        pairs = data.pairs_for_training(Workspace(ws).connect())
        if cfg.max_pairs and len(pairs) > cfg.max_pairs:  # the very sample `tune` trained on
            pairs = sorted(random.Random(cfg.seed).sample(pairs, cfg.max_pairs), key=lambda p: p["id"])
        facts = [p for p in pairs if p["kind"] != "passage"]
        chosen = random.Random(0).sample(facts, min(args.questions, len(facts)))
        questions = [Question(p["question"], p["answer"]) for p in chosen]
        llm = LLM("embedded", adapter=run.adapter)
        answer_cfg = AnswerConfig(max_new_tokens=32)
        scores = {mode: summarise(answer_all(questions, mode, llm, None, answer_cfg), 0) for mode in ("base", "tuned")}
    print(f"\ningest {ingested:.0f} s; tuning ({args.recipe}, {args.epochs:g} epoch, {run.metrics['examples']} "
          f"examples, {run.metrics['steps']} steps) {tuned / 60:.1f} min\n")  # fmt: skip
    if "scores" in run.metrics:
        print(runs.verdict(run.metrics["scores"]) + "\n")
    print(f"{len(questions)} training questions   {'F1':>6s} {'contains':>9s} {'exact':>6s}")
    for mode, s in scores.items():
        f1, low, high = s["f1"], *s["intervals"]["f1"]
        print(f"{mode:30s} {f1:6.3f} {s['contains']:9.3f} {s['exact']:6.3f}   F1 95% interval [{low:.3f}, {high:.3f}]")


if __name__ == "__main__":
    main()
