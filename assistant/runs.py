"""Fine-tuning runs kept in the workspace, one folder each:

    WORKSPACE/runs/<id>/run.json      status, settings, metrics, and the documents it was trained on
    WORKSPACE/runs/<id>/adapter/      the LoRA adapter (peft), written when the run finishes
    WORKSPACE/runs/<id>/checkpoints/  Trainer checkpoints, for --resume

The newest finished run is the adapter `ask` uses unless told otherwise. A run is stale when documents were
added or changed after it was trained: it has not seen them, and `ask` says so.

A running run records the process that trains it (`owner`: host, pid, start time). A run whose process is gone
(SIGKILL, the out-of-memory killer, a power cut) is read back as interrupted, resumable from its last checkpoint,
or as failed when it left none, and its run.json is corrected: nothing stays `running` forever.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


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
    def adapter(self) -> Path:
        return self.folder / "adapter"

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
        run.status, run.finished = "interrupted" if any(run.checkpoints.glob("checkpoint-*")) else "failed", now()
        with contextlib.suppress(OSError):  # a workspace we may only read keeps its file; the answer is the same
            run.save()
    return run


def all_runs(workspace: Path) -> list[Run]:
    root = runs_root(workspace)
    if not root.exists():
        return []
    found = [load(f) for f in sorted(root.iterdir()) if (f / "run.json").exists()]
    return sorted(found, key=lambda r: r.created)


def finished_runs(workspace: Path) -> list[Run]:
    """Runs that finished and wrote their adapter, oldest first."""
    return [r for r in all_runs(workspace) if r.status == "finished" and r.adapter.exists()]


def latest_finished(workspace: Path) -> Run | None:
    done = finished_runs(workspace)
    return done[-1] if done else None


def find(workspace: Path, run_id: str | None) -> Run:
    """The named run, or the newest finished one."""
    if run_id:
        folder = runs_root(workspace) / run_id
        if not (folder / "run.json").exists():
            known = ", ".join(r.id for r in all_runs(workspace)) or "none yet"
            raise ValueError(f"no run {run_id!r} in {workspace}; runs: {known}")
        return load(folder)
    run = latest_finished(workspace)
    if run is None:
        raise ValueError(f"no finished fine-tuning run in {workspace}: run `docent tune` first")
    return run


def snapshot(db: sqlite3.Connection) -> dict[str, Any]:
    rows = db.execute("SELECT path, sha256, holdout FROM documents").fetchall()
    return {
        "documents": {r["path"]: r["sha256"] for r in rows},
        "holdout": sorted(r["path"] for r in rows if r["holdout"]),
    }


def unseen_documents(run: Run, db: sqlite3.Connection) -> list[str]:
    """Documents added or changed since the run was trained, by their names."""
    trained = run.snapshot.get("documents", {})
    return [
        r["name"]
        for r in db.execute("SELECT path, name, sha256 FROM documents ORDER BY name")
        if trained.get(r["path"]) != r["sha256"]
    ]
