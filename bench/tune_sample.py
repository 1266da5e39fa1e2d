"""The README's main job, measured: tune the embedded model on the sample corpus as `make demo` does, then ask the
demo's question in `both` mode.

    python bench/tune_sample.py
    python bench/tune_sample.py --also "--time-budget 10"    # the demo's settings with flags added or changed

Ingests data/sample, tunes with the settings `make demo` uses (DEMO_TUNE in the Makefile), timed against the time
the run expected (17 min on the 2-core machine), prints the run's held-out scores in every mode and its verdict,
then answers the demo's question in `both` mode and says whether the answer holds the handbook's figure.
"""

from __future__ import annotations

import argparse
import re
import shlex
import tempfile
import time
from pathlib import Path

from assistant import runs
from assistant.answer import answer
from assistant.cli import build_parser, config_from
from assistant.config import AnswerConfig, TuneConfig
from assistant.generate import open_engine
from assistant.retrieve import Retriever
from assistant.tune import tune
from ingest.config import IngestConfig
from ingest.pipeline import ingest

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How many days of annual leave do employees earn per month?"  # the one `make demo` asks
ANSWER = "2.5"  # data/sample/hr/employee-handbook.pdf: "2.5 days of annual leave for every full month of employment"


def demo_settings(also: str = "") -> TuneConfig:
    """The tuning settings of `make demo`: its DEMO_TUNE flags, read from the Makefile, parsed as `docent tune` does
    (then the flags in `also`, which win)."""
    flags = re.search(r"^DEMO_TUNE \?= (.*)$", (ROOT / "Makefile").read_text(), re.M)
    assert flags, "the Makefile has no DEMO_TUNE line"
    return config_from(build_parser().parse_args(["tune", *shlex.split(flags[1]), *shlex.split(also)]), TuneConfig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--also", default="", help="docent tune flags added to the demo's, e.g. '--time-budget 0'")
    cfg = demo_settings(parser.parse_args().also)
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        start = time.perf_counter()
        ingest([ROOT / "data" / "sample"], IngestConfig(), ws, progress=False)
        ingested = time.perf_counter() - start
        start = time.perf_counter()
        run = tune(cfg, ws)
        tuned = time.perf_counter() - start
        asked = answer(QUESTION, "both", open_engine("embedded", run), Retriever(ws), AnswerConfig(),
                       adapter=run.adapter_for("both"))  # as `docent ask --mode both` answers it  # fmt: skip
    plan, chosen = run.config["plan"], run.config["tune"]
    cut = (
        f", the budget ran out at update {run.metrics['budget_reached_at_step']}"
        if "budget_reached_at_step" in (run.metrics)
        else ""
    )
    print(
        f"\ningest {ingested:.0f} s; tuning ({cfg.recipe}, {chosen['epochs']:g} epoch, {plan['share']:.0%} of the "
        f"examples: {run.metrics['examples']}, {run.metrics['steps']} updates{cut}) {tuned / 60:.1f} min, expected "
        f"{plan['total_s'] / 60:.1f} min\n"
    )
    scores = run.metrics.get("scores", {})
    if scores:
        shown = runs.mode_scores(scores)
        cells = ", ".join(f"{m} {shown[m]:.3f}" for m in ("base", "retrieval", "tuned", "both") if m in shown)
        print(f"held-out ({scores['questions']} questions, contains): {cells}")
        print(runs.verdict(scores) + "\n")
    right = ANSWER in asked.text
    print(f"both: {QUESTION}\n  {asked.text}\n  {'right' if right else 'WRONG'} (the handbook says {ANSWER} days)")


if __name__ == "__main__":
    main()
