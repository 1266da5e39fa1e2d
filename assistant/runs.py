"""Fine-tuning runs kept in the workspace, one folder each:

    WORKSPACE/runs/<id>/run.json      status, settings, metrics, and the documents it was trained on
    WORKSPACE/runs/<id>/adapter/      the LoRA adapter (peft), written when the run finishes
    WORKSPACE/runs/<id>/reader/       the adapter at the strength `both` reads best at, when not its whole
    WORKSPACE/runs/<id>/checkpoints/  Trainer checkpoints, for --resume

The newest finished run is the adapter `ask` uses unless told otherwise. A run is stale when documents were
added or changed after it was trained: it has not seen them, and `ask` says so.

A running run records the process that trains it (`owner`: host, pid, start time). A run whose process is gone
(SIGKILL, the out-of-memory killer, a power cut) is read back as interrupted, resumable from its last checkpoint,
or as failed when it left none, and its run.json is corrected: nothing stays `running` forever.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import socket
import sqlite3
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from assistant.config import TuneConfig
from ingest import store
from ingest.records import OWNER, Access


@dataclass
class Run:
    id: str
    folder: Path
    status: str = "running"  # running | interrupted | finished | failed
    created: str = ""
    finished: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    snapshot: dict[str, Any] = field(default_factory=dict)  # {"documents": {path: sha256}, "holdout": [paths]}
    metrics: dict[str, Any] = field(default_factory=dict)
    progress: dict[str, Any] = field(default_factory=dict)  # while running: step, losses, time left
    owner: dict[str, Any] = field(default_factory=dict)  # while running: the training process (host, pid, started)

    @property
    def settings(self) -> TuneConfig:
        """The settings it trained with (a setting an older Docent recorded and this one no longer has is left out)."""
        return _tune_config(self.config["tune"])

    @property
    def staged_as(self) -> TuneConfig | None:
        """For the first run of a staged one, the settings of the whole staged run, which a resume goes on with."""
        return _tune_config(self.config["staged"]) if "staged" in self.config else None

    @property
    def adapter(self) -> Path:
        return self.folder / "adapter"

    @property
    def adapter_name(self) -> str:
        """The name its adapter answers under, in this process (peft refuses dots) and on a model server."""
        return self.id.replace(".", "_")

    @property
    def reader(self) -> Path:
        """The adapter at the strength that read its sources best on the held-out questions, when that was not its
        full strength (`heldout.READING_SCALES`); `both` answers with it."""
        return self.folder / "reader"

    def adapters(self) -> list[tuple[Path, str]]:
        """(folder, name) of each adapter the run answers with: its own, then its reader if it has one."""
        own = [(self.adapter, self.adapter_name)]
        return [*own, (self.reader, self.adapter_name + "-reader")] if self.reader.exists() else own

    def adapter_for(self, mode: str) -> str:
        """The name of the adapter that answers `mode`: the reader for `both` when there is one."""
        return self.adapters()[-1][1] if mode == "both" else self.adapter_name

    @property
    def checkpoints(self) -> Path:
        return self.folder / "checkpoints"

    def save(self) -> None:
        """Written to a temporary file and renamed, so a reader never sees half a run.json."""
        data = {k: v for k, v in self.__dict__.items() if k != "folder"}
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".run-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
        os.replace(tmp, self.folder / "run.json")

    def finish(self, status: str) -> None:
        self.status = status
        self.finished = now()
        self.save()

    def last_checkpoint(self) -> Path | None:
        found = sorted(self.checkpoints.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
        return found[-1] if found else None

    def stopped(self) -> str:
        """The status of a run that stopped before it finished: resumable only from a checkpoint."""
        return "interrupted" if self.last_checkpoint() else "failed"

    def claim(self) -> None:
        """Record this process as the one training the run."""
        import psutil

        self.owner = {"host": socket.gethostname(), "pid": os.getpid(), "started": psutil.Process().create_time()}

    def orphaned(self) -> bool:
        """True when the run says `running` but the process that trained it is gone (on this host; a run trained
        on another host, or recorded by an older Docent, is believed)."""
        import psutil

        if self.status != "running" or not self.owner or self.owner.get("host") != socket.gethostname():
            return False
        try:
            process = psutil.Process(self.owner["pid"])
            gone = process.status() == psutil.STATUS_ZOMBIE
            return gone or abs(process.create_time() - self.owner["started"]) > 1  # the pid now names another
        except psutil.NoSuchProcess:
            return True


def _tune_config(saved: dict[str, Any]) -> TuneConfig:
    known = {f.name for f in dataclasses.fields(TuneConfig)}
    return TuneConfig(**{k: v for k, v in saved.items() if k in known})


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def runs_root(workspace: Path) -> Path:
    return workspace / "runs"


def new_run(workspace: Path, recipe: str) -> Run:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    folder = runs_root(workspace) / f"{stamp}-{recipe}"
    n = 1
    while folder.exists():
        n += 1
        folder = runs_root(workspace) / f"{stamp}-{recipe}-{n}"
    return Run(folder.name, folder, created=now())


def load(folder: Path) -> Run:
    data = json.loads((folder / "run.json").read_text())
    run = Run(folder=folder, **data)
    if run.orphaned():
        run.status, run.finished = run.stopped(), now()
        with contextlib.suppress(OSError):  # a workspace we may only read keeps its file; the answer is the same
            run.save()
    return run


def all_runs(workspace: Path) -> list[Run]:
    root = runs_root(workspace)
    if not root.exists():
        return []
    found = [load(f) for f in sorted(root.iterdir()) if (f / "run.json").exists()]
    return sorted(found, key=lambda r: r.created)


def visible_runs(workspace: Path, access: Access) -> list[Run]:
    """The runs `access` may see and answer with, oldest first: those trained on collections they may all read."""
    found = all_runs(workspace)
    if access.owner or not found:
        return found
    db = store.Workspace(workspace).connect()
    try:
        return [r for r in found if access.may_read_all(collections(r, db))]
    finally:
        db.close()


def finished_runs(workspace: Path, access: Access = OWNER) -> list[Run]:
    """Runs that finished and wrote their adapter, oldest first, of those `access` may use; the short probes of a
    settings search and the first run of a staged one are not among them (they are listed, but never answer unless
    named with --run)."""
    return [
        r
        for r in visible_runs(workspace, access)
        if r.status == "finished" and r.adapter.exists() and not r.config.get("probe") and "staged" not in r.config
    ]


def latest_finished(workspace: Path, access: Access = OWNER) -> Run | None:
    done = finished_runs(workspace, access)
    return done[-1] if done else None


def find(workspace: Path, run_id: str | None, access: Access = OWNER) -> Run:
    """The named run, or the newest finished one, of those `access` may use. A run they may not use is answered as
    one that does not exist: its name tells them nothing."""
    if run_id:
        known = {r.id: r for r in visible_runs(workspace, access)}
        if run_id not in known:
            raise ValueError(f"no run {run_id!r} in {workspace}; runs: {', '.join(known) or 'none yet'}")
        return known[run_id]
    run = latest_finished(workspace, access)
    if run is None and not access.owner and latest_finished(workspace) is not None:
        raise ValueError(
            f"every tuned run was trained on collections {access.shown()} may not read; an admin can train one on "
            "the collections they may read (docent tune --collections general)"
        )
    if run is None:
        raise ValueError(f"no finished fine-tuning run in {workspace}: run `docent tune` first")
    return run


def remove(workspace: Path, run_id: str, by: str = "") -> Run:
    """Deletes a run: its adapter and reader, its checkpoints and its record, logged in the audit log under `by`
    (empty for the owner). What the adapter learnt goes with it: the way to take back a run trained on documents it
    should not have seen. A run still training is refused; the next question answers with the newest one left."""
    run = find(workspace, run_id)
    if run.status == "running" and not run.orphaned():
        raise ValueError(f"run {run.id} is still training: stop it first (Ctrl-C, or `kill` its process)")
    with store.Workspace(workspace).writer() as db:
        store.audit(db, by, "run-remove", {"run": run.id, "collections": sorted(collections(run, db))}, now())
        shutil.rmtree(run.folder)
    return run


REMOVED = "(removed documents)"  # a collection no person is granted: what an old run saw and the workspace lost


def collections(run: Run, db: sqlite3.Connection) -> frozenset[str]:
    """The collections whose text may be in the run's adapter: recorded by the run (its pairs, and the passages its
    examples read). For a run from before collections, those of the documents it was trained on, as they are now;
    a document since removed counts as a collection nobody may read, so such a run answers only its owner."""
    if "collections" in run.config:
        return frozenset(run.config["collections"])
    saw = run.snapshot.get("documents", {})
    if not saw:  # nothing says what it learnt
        return frozenset({REMOVED})
    now_in = {d.path: d.collection for d in store.documents(db, OWNER)}
    return frozenset(now_in.get(path, REMOVED) for path in saw)


def scope(db: sqlite3.Connection, names: str) -> Access:
    """What a run trains on: the collections named (comma-separated), or every collection that holds documents."""
    held = {name: n for name, n in store.collections(db).items() if n}
    chosen = {c.strip() for c in names.split(",") if c.strip()} or set(held)
    empty = sorted(chosen - set(held))
    if empty:
        raise ValueError(
            f"--collections: {empty[0]!r} holds no documents; collections with documents: {', '.join(held) or 'none'}"
        )
    return Access("", frozenset(chosen))


def snapshot(db: sqlite3.Connection, within: Access = OWNER) -> dict[str, Any]:
    docs = store.documents(db, within)
    return {"documents": {d.path: d.sha256 for d in docs}, "holdout": sorted(d.path for d in docs if d.holdout)}


def unseen_documents(run: Run, db: sqlite3.Connection, access: Access = OWNER) -> list[str]:
    """Documents added or changed since the run was trained, by their names, of those `access` may read and the run
    could have learnt (its collections)."""
    trained = run.snapshot.get("documents", {})
    learnt = collections(run, db) if run.config.get("tune", {}).get("collections") else None  # None: every one
    return [
        d.name
        for d in store.documents(db, access)
        if (learnt is None or d.collection in learnt) and trained.get(d.path) != d.sha256
    ]


# Held-out scores (assistant/heldout.py writes them while a run trains) -------------------------------------


def rank(scores: dict[str, Any]) -> tuple[float, float]:
    return scores["contains"], scores["f1"]


def at_best(scores: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each mode's held-out scores: base and retrieval before training, tuned and both at the best epoch."""
    best = best_epoch(scores)
    if best is None or "baseline" not in scores:
        return {}
    return {**scores["baseline"], **{m: best[m] for m in ("tuned", "both")}}


def mode_scores(scores: dict[str, Any]) -> dict[str, float]:
    """`contains` of each mode at the run's best epoch: {} for a run that was not scored."""
    return {mode: s["contains"] for mode, s in at_best(scores).items()}


def best_mode(scores: dict[str, Any]) -> str | None:
    """The mode the chat answers in: the adapter's best mode only when it beats the best mode without it by more
    than the 95 % intervals, else that mode without it (retrieval before base on a tie); None for a run that was not
    scored. The held-out questions come from Docent's own templates and favour the adapter that learnt them: on
    the film set they scored the default adapter's `both` 0.14 above retrieval while the benchmark's questions,
    worded by someone else, put it 0.06 below (README), so a win inside the noise is no reason to switch."""
    found = at_best(scores)
    best, challenger = _top(found, ("retrieval", "base")), _top(found, ("both", "tuned"))
    if best is None or challenger is None:
        return best
    won = rank(found[challenger]) > rank(found[best]) and _separate(found[challenger], found[best])
    return challenger if won else best


def _top(found: dict[str, dict[str, Any]], modes: tuple[str, ...]) -> str | None:
    """The best-scored of `modes` in `found`; on a tie, the one listed first."""
    present = [m for m in modes if m in found]
    return max(present, key=lambda m: (rank(found[m]), -present.index(m))) if present else None


def _separate(better: dict[str, Any], worse: dict[str, Any]) -> bool:
    """True when the 95 % intervals of `contains` do not overlap."""
    high, low = better.get("intervals", {}).get("contains"), worse.get("intervals", {}).get("contains")
    return bool(high and low) and high[0] > low[1]


def best_epoch(scores: dict[str, Any]) -> dict[str, Any] | None:
    epochs = scores.get("epochs") or []
    return max(epochs, key=lambda e: (rank(e["both"]), -e["epoch"])) if epochs else None


def verdict(scores: dict[str, Any]) -> str:
    """What tuning did on the held-out questions, in a sentence or two."""
    best = best_epoch(scores)
    if best is None or "baseline" not in scores:
        return "Not scored: the run ended before its first epoch did."
    base, retrieval = scores["baseline"]["base"], scores["baseline"]["retrieval"]
    both, tuned = best["both"], best["tuned"]
    asked = (
        f"{scores['questions']} questions of {scores['source']}"
        if "source" in scores
        else (f"{scores['questions']} held-out questions")
    )
    scale = best.get("reading_scale", 1.0)
    reader = f", the adapter at {scale:g} of its strength, which read best" if scale < 1 else ""
    figures = (
        f"On {asked}, epoch {best['epoch']:g} answered {both['contains']:.2f} "
        f"reading the sources (both{reader}) against {retrieval['contains']:.2f} for retrieval alone, and "
        f"{tuned['contains']:.2f} from memory (tuned) against {base['contains']:.2f} for the base model."
    )
    if rank(both) > rank(retrieval) and _separate(both, retrieval):
        return f"{figures} Tuning helped: the chat answers in {best_mode(scores)} mode by default."
    if rank(both) > rank(retrieval):
        own = (
            "" if "source" in scores else (", and Docent's own questions favour the adapter that learnt their wording")
        )
        return (
            f"{figures} Reading the sources, the tuned model did about as well as retrieval alone: the difference "
            f"is within the 95 % intervals of {scores['questions']} questions{own}, so the chat answers in "
            f"{best_mode(scores)} mode by default. Pick both in the chat to compare, or score the run on "
            "questions of your own (docent tune --check-questions FILE)."
        )
    advice = (
        "Try the raft recipe, which reads a source in every example, or a lower learning rate (on the film set "
        "a lower rate read sources better)."
    )
    return f"{figures} Tuning did not help here, so the chat answers in {best_mode(scores)} mode by default. {advice}"
