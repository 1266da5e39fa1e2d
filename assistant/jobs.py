"""Long work the web app starts: `docent tune` and `docent eval` as processes of their own, which outlive the page
and the server, log to WORKSPACE/logs, and report through the workspace."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from ingest.records import Access


class Jobs:
    def __init__(self, workspace: Path):
        self.workspace = workspace

    def start(self, command: list[str], log_name: str) -> subprocess.Popen[bytes]:
        """A `docent` command in its own process session: it goes on when the page or the server closes."""
        logs = self.workspace / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / log_name, "ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "assistant.cli", *command, "--workspace", str(self.workspace), "--quiet"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start_tune(self, settings: dict[str, Any]) -> subprocess.Popen[bytes]:
        flags = [f"--{k.replace('_', '-')}={v}" for k, v in settings.items()]
        return self.start(["tune", *flags], "tune.log")

    def start_eval(
        self, modes: list[str], limit: int, access: Access, questions: Path | None = None
    ) -> subprocess.Popen[bytes]:
        """An evaluation as `access` sees the workspace: their questions, their documents, a run they may use."""
        command = ["eval", "--modes", ",".join(modes), "--limit", str(limit)]
        if not access.owner:
            command += ["--user", access.name]
        if questions is not None:
            command += ["--questions", str(questions)]
        return self.start(command, "eval.log")

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.workspace / "logs" / name
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def reports(self, access: Access) -> list[dict[str, Any]]:
        """The evaluations `access` made, newest first: each one's answers came from what its maker may read."""
        root = self.workspace / "evals"
        found = []
        for file in sorted(root.glob("*/report.json"), key=lambda p: p.stat().st_mtime, reverse=True):
            data = json.loads(file.read_text(encoding="utf-8"))
            if data.get("user", "") != access.name:
                continue
            found.append({"id": file.parent.name, "path": file.parent, **data})
        return found
