"""`docent tune --search FIELD=A,B[,C]`: settings chosen on the workspace's own held-out questions.

Each candidate (a value of each searched field; several --search flags make a grid) trains a short probe run: one
epoch of a seeded quarter of the training examples (not of the pairs: a `raft` example stands for a fact, so a
quarter of the pairs would keep most of the facts), scored on the held-out questions as every run is. The settings
whose probe answered best in `both` (`contains`, then F1) are then trained for real. With --time-budget, the probes
share a third of it and the real run gets what is left. Probes are runs like any other, kept and listed, but never
the adapter the chat answers with. Epochs are not searched: every run already keeps its best epoch and stops when
more stop helping.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from pathlib import Path
from typing import Any

from assistant import runs
from assistant.config import TuneConfig, value_type

PROBE_SHARE = 0.25  # of the training examples, one epoch: enough facts to tell settings apart, at a quarter the cost
PROBE_TIME = 1 / 3  # of a time budget, for all probes together
NOT_SEARCHED = {"epochs": "every run keeps its best epoch by the held-out questions already",
                "llm": "a search compares settings of one model", "time_budget": "it is the search's own limit",
                "score_questions": "the search is scored on them", "max_pairs": "probes train on a share of them",
                "report_to": "it changes no result", "save_steps": "it changes no result"}  # fmt: skip


def candidates(specs: list[str]) -> list[dict[str, Any]]:
    """'learning_rate=1e-3,2e-3' (one flag per field) -> every combination of the values, each checked by TuneConfig."""
    types = {f.name: f for f in dataclasses.fields(TuneConfig)}
    axes: dict[str, list[Any]] = {}
    for spec in specs:
        name, _, values = spec.partition("=")
        name = name.strip().replace("-", "_")
        if name not in types:
            raise ValueError(f"--search {spec}: {name!r} is not a tuning setting; settings: {', '.join(types)}")
        if name in NOT_SEARCHED:
            raise ValueError(f"--search {spec}: {name} is not searched: {NOT_SEARCHED[name]}")
        cast = value_type(types[name])
        try:
            axes[name] = [cast(v.strip()) for v in values.split(",") if v.strip()]
        except ValueError:
            kind = {"int": "whole number", "float": "number"}[cast.__name__]
            raise ValueError(f"--search {spec}: every value of {name} must be a {kind}") from None
        if len(axes[name]) < 2:
            raise ValueError(f"--search {spec}: give two values or more, as in --search {name}=A,B")
    grid = [dict(zip(axes, values)) for values in itertools.product(*axes.values())]
    for settings in grid:
        TuneConfig(**settings)  # a value out of range fails here, before any model time
    return grid


def search(cfg: TuneConfig, workspace: Path, specs: list[str], progress: bool = True) -> runs.Run:
    from assistant.tune import tune

    grid = candidates(specs)
    if not cfg.score_questions:
        raise ValueError("--search chooses by the held-out questions: it needs --score-questions above 0")
    probe_budget = cfg.time_budget * PROBE_TIME / len(grid) if cfg.time_budget else 0.0
    start = time.perf_counter()
    tried = []
    for i, settings in enumerate(grid, 1):
        if progress:
            shown = ", ".join(f"{k}={v}" for k, v in settings.items())
            print(f"Search {i} of {len(grid)}: {shown}, one epoch of {PROBE_SHARE:.0%} of the examples", flush=True)
        probe_cfg = dataclasses.replace(cfg, **settings, epochs=1.0, time_budget=probe_budget)
        probe = tune(probe_cfg, workspace, progress=progress, probe=PROBE_SHARE)
        best = runs.best_epoch(probe.metrics.get("scores", {}))
        if probe.status != "finished" or best is None:
            raise ValueError(f"the search stopped at probe {probe.id} ({probe.status})")
        tried.append({"settings": settings, "run": probe.id, "both": best["both"], "tuned": best["tuned"]})
    chosen = max(tried, key=lambda t: runs.rank(t["both"]))
    left = cfg.time_budget - (time.perf_counter() - start) / 60 if cfg.time_budget else 0.0
    if cfg.time_budget and left <= 0:
        raise ValueError(f"the search's probes took the whole --time-budget of {cfg.time_budget:g} min")
    if progress:
        print(describe(tried, chosen), flush=True)
    run = tune(dataclasses.replace(cfg, **chosen["settings"], time_budget=max(left, 0.0)), workspace, progress=progress)
    run.config["search"] = {"probe_share": PROBE_SHARE, "tried": tried, "chosen": chosen["settings"]}
    run.save()
    return run


def describe(tried: list[dict[str, Any]], chosen: dict[str, Any]) -> str:
    lines = ["Search on the held-out questions (both, contains):"]
    for t in tried:
        shown = ", ".join(f"{k}={v}" for k, v in t["settings"].items())
        mark = "  <- chosen" if t is chosen else ""
        lines.append(f"  {shown}: both {t['both']['contains']:.3f}, tuned {t['tuned']['contains']:.3f}{mark}")
    return "\n".join(lines)
