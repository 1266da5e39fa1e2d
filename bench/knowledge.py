"""Does tuning put the documents' facts into the model? Settings side by side on a slice of the film set.

    python bench/knowledge.py [--docs 12] [--questions 100] \
        --settings "learning_rate=1e-3,lora_r=16,lora_alpha=32,grad_accum=2,epochs=3" --settings "epochs=6"

Ingests the first `--docs` film documents (Docent writes its own Q&A pairs from them; the benchmark's questions
are never trained on), then for each `--settings` (TuneConfig fields over the closed-book defaults) tunes an
adapter and answers, in the `tuned` mode (no retrieval):
- the benchmark's questions on those documents: did the facts carry over to questions worded by someone else?
- a seeded sample of the pairs it trained on: did it learn them at all?
and, in the `both` mode, the benchmark's questions again: does the adapter that knows still read its source?
The base model answers the first two sets, and `retrieval` the film questions, for comparison. Prints `contains`
and token F1 for each, with the training time, and writes the table to bench/results/knowledge.json. A slice,
not the whole set, so that a setting costs minutes. Settings default to the `closed-book` recipe with no
held-out scoring; `recipe=mixed`, `target_modules=...` and any other TuneConfig field can be given.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
import time
from dataclasses import fields
from pathlib import Path

from assistant.config import AnswerConfig, TuneConfig, value_type
from assistant.evaluate import Question, answer_all, file_questions, summarise
from assistant.generate import LLM
from assistant.retrieve import Retriever
from assistant.tune import tune
from ingest import store
from ingest.config import IngestConfig
from ingest.pipeline import ingest
from ingest.records import OWNER
from ingest.store import Workspace

ROOT = Path(__file__).resolve().parent.parent
FILM = ROOT.parent / "shared" / "benchmarks" / "film"


def parse_settings(text: str) -> dict[str, object]:
    """'learning_rate=1e-3,epochs=3' -> TuneConfig keyword arguments, each cast to its field's type.
    A comma starts a new setting only before `name=`, so 'target_modules=up_proj,down_proj' stays one."""
    types = {f.name: f for f in fields(TuneConfig)}
    out: dict[str, object] = {}
    for item in filter(None, re.split(r",(?=\w+=)", text)):
        key, _, value = item.partition("=")
        if key not in types:
            raise SystemExit(f"--settings: {key!r} is not a TuneConfig field ({', '.join(types)})")
        out[key] = value_type(types[key])(value)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=12)
    parser.add_argument("--questions", type=int, default=100, help="training questions asked back")
    parser.add_argument("--settings", action="append", default=[], help="TuneConfig fields, e.g. epochs=6")
    args = parser.parse_args()
    chosen = sorted((FILM / "docs").iterdir())[: args.docs]
    names = {p.name for p in chosen}
    film_qs = [q for q in file_questions(FILM / "questions.jsonl") if q.doc in names]
    answer_cfg = AnswerConfig(max_new_tokens=32)
    table: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        ingest(chosen, IngestConfig(), ws, progress=False)
        pairs = [p for p in store.pairs(Workspace(ws).connect(), OWNER, "train") if p.template != "passage"]
        sample = random.Random(0).sample(pairs, min(args.questions, len(pairs)))
        train_qs = [Question(p.question, p.answer) for p in sample]
        llm = LLM("embedded")
        retriever = Retriever(ws)
        runs = [("base", None), *((s or "defaults", parse_settings(s)) for s in args.settings or [""])]
        for name, settings in runs:
            seconds = None
            mode, reading = ("base", "retrieval") if settings is None else ("tuned", "both")
            if settings is not None:
                start = time.perf_counter()
                config = TuneConfig(**{"recipe": "closed-book", "score_questions": 0, **settings})
                run = tune(config, ws, progress=False)
                seconds = time.perf_counter() - start
                llm.attach(run.adapter, name=run.adapter_name)
            scores = {
                label: summarise(answer_all(qs, mode, llm, None, answer_cfg, progress=False), 0)
                for label, qs in (("film", film_qs), ("trained", train_qs))
            }
            scores["film_" + reading] = summarise(
                answer_all(film_qs, reading, llm, retriever, answer_cfg, progress=False), 0
            )
            table[name] = {"train_minutes": seconds and round(seconds / 60, 1), **scores}
            took = f"{seconds / 60:5.1f} min" if seconds else ""
            read = scores["film_" + reading]
            print(
                f"{name:60s} film {scores['film']['contains']:.3f} / {scores['film']['f1']:.3f}   "
                f"trained {scores['trained']['contains']:.3f} / {scores['trained']['f1']:.3f}   "
                f"{reading} {read['contains']:.3f} / {read['f1']:.3f}   {took}",
                flush=True,
            )
    print(
        f"\n{args.docs} documents, {len(film_qs)} film questions, {len(train_qs)} training questions; "
        "contains / F1 in the tuned mode (base: the model untouched), then the film questions with "
        "their source (both; retrieval for the base model)"
    )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "knowledge.json").write_text(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
