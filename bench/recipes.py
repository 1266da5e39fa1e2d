"""Which fine-tuning recipe answers the film questions best: closed-book, raft or mixed.

    python bench/recipes.py [--questions 150] [--recipes closed-book,raft,mixed] [--epochs 2]

Ingests the film documents (Docent writes its own Q&A pairs from them; the benchmark's questions are never
trained on), answers a seeded sample of the benchmark's questions with the base model and with retrieval,
then for each recipe tunes an adapter with the default settings and answers the same questions in the `tuned`
and `both` modes. Prints contains, token F1, exact match, answer length and abstention for each, with the
training time, and writes the table to bench/results/recipes.json. With --workspace and --reuse, a finished run
of that workspace trained with the same settings stands in for training again (its recorded time is shown).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from assistant import runs
from assistant.config import AnswerConfig, TuneConfig
from assistant.evaluate import answer_all, file_questions, sample, summarise
from assistant.generate import LLM
from assistant.retrieve import Retriever
from assistant.tune import tune
from ingest.config import IngestConfig
from ingest.pipeline import ingest

ROOT = Path(__file__).resolve().parent.parent
FILM = ROOT.parent / "shared" / "benchmarks" / "film"


def row(name: str, scores: dict[str, float], seconds: float | None = None) -> str:
    took = f"{seconds / 60:6.1f} min" if seconds is not None else ""
    return (
        f"{name:24s} {scores['contains']:8.3f} {scores['f1']:6.3f} {scores['exact']:6.3f} "
        f"{scores['length']:7.1f} {scores['abstain']:8.3f}  {took}"
    )


def trained_before(ws: Path, cfg: TuneConfig) -> runs.Run | None:
    """The newest finished run trained with these settings (the raft ones aside for closed-book)."""
    unread = {"raft_k", "raft_p", "raft_abstain"} if cfg.recipe == "closed-book" else set()
    want = {k: v for k, v in asdict(cfg).items() if k not in unread}
    for run in reversed(runs.finished_runs(ws)):
        got = run.config.get("tune", {})
        if all(got.get(k) == v for k, v in want.items()):
            return run
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=150)
    parser.add_argument("--recipes", default="closed-book,raft,mixed")
    parser.add_argument("--epochs", type=float, default=TuneConfig().epochs)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workspace", type=Path, help="reuse this workspace (ingested if empty)")
    parser.add_argument("--reuse", action="store_true", help="reuse the workspace's runs with the same settings")
    args = parser.parse_args()
    questions = sample(file_questions(FILM / "questions.jsonl"), args.questions, args.seed)
    answer_cfg = AnswerConfig(max_new_tokens=48)
    table: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        ws = args.workspace or Path(tmp) / "ws"
        if not (ws / "docent.db").exists():
            ingest([FILM / "docs"], IngestConfig(), ws)
        retriever = Retriever(ws)
        llm = LLM("embedded")
        for mode in ("base", "retrieval"):
            table[mode] = summarise(answer_all(questions, mode, llm, retriever, answer_cfg), args.seed)
            print(row(mode, table[mode]), flush=True)
        for recipe in args.recipes.split(","):
            cfg = TuneConfig(recipe=recipe, epochs=args.epochs)
            run = trained_before(ws, cfg) if args.reuse else None
            if run is not None:
                print(f"{recipe}: reusing run {run.id}", flush=True)
                seconds = run.metrics["seconds"]
            else:
                start = time.perf_counter()
                run = tune(cfg, ws)
                seconds = time.perf_counter() - start
            llm.attach(run.adapter, name=run.adapter_name)
            for mode in ("tuned", "both"):
                table[f"{mode} ({recipe})"] = summarise(
                    answer_all(questions, mode, llm, retriever, answer_cfg), args.seed
                )
                table[f"{mode} ({recipe})"]["train_seconds"] = seconds
                print(row(f"{mode} ({recipe})", table[f"{mode} ({recipe})"], seconds), flush=True)
    print(f"\n{args.questions} film questions (seed {args.seed}), {args.epochs:g} epochs\n")
    print(f"{'mode':24s} {'contains':>8s} {'F1':>6s} {'exact':>6s} {'length':>7s} {'abstain':>8s}  training")
    for name, scores in table.items():
        print(row(name, scores, scores.get("train_seconds")))
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "recipes.json").write_text(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
