"""`docent ingest`: bad files cost one line each, re-ingest is incremental, an interruption loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.retrieve import Retriever
from ingest import pipeline
from ingest.config import IngestConfig
from ingest.index import Index
from ingest.pipeline import ingest
from ingest.store import Workspace, WorkspaceError
from tests.docs import FACTS, write_all, write_bad_files


def run(paths: list[Path], ws: Path, embedder, **settings) -> object:
    return ingest(paths, IngestConfig(**settings), ws, progress=False, embedder=embedder)


def doc_names(ws: Path) -> set[str]:
    return {r[0] for r in Workspace(ws).connect().execute("SELECT name FROM documents")}


def top_text(ws: Path, query: str, embedder) -> str:
    return Retriever(ws, embedder).search([query], k=1)[0][0].text


def test_bad_files_cost_one_line_each_and_the_rest_is_ingested(tmp_path: Path, embedder) -> None:
    write_all(tmp_path / "docs")
    bad = write_bad_files(tmp_path / "docs" / "bad")
    report = run([tmp_path / "docs"], tmp_path / "ws", embedder)
    assert report.added == len(FACTS)
    failed = dict(report.failed)
    for name, reason in [
        ("corrupt_pdf", "damaged"),
        ("encrypted_pdf", "password-protected"),
        ("empty", "empty file"),
        ("binary_txt", "binary data"),
        ("undecodable", "encoding cannot be told"),
        ("corrupt_docx", "not a readable Word file"),
    ]:
        assert reason in failed[str(bad[name])]
    assert [f for f, _ in report.skipped] == [str(bad["unsupported"])]
    assert report.exit_code(strict=False) == 0 and report.exit_code(strict=True) == 1
    for ext, (_, _, sentence) in FACTS.items():
        assert sentence in top_text(tmp_path / "ws", sentence, embedder), ext


def test_cli_report_lists_each_failure_and_exit_status(tmp_path: Path) -> None:
    write_bad_files(tmp_path / "bad")
    from assistant.cli import main

    assert main(["ingest", str(tmp_path / "bad"), "--workspace", str(tmp_path / "ws"), "--quiet"]) == 1
    write_all(tmp_path / "good")
    code = main(
        ["ingest", str(tmp_path / "good"), str(tmp_path / "bad"), "--workspace", str(tmp_path / "ws"), "--quiet"]
    )
    assert code == 0
    strict = ["ingest", str(tmp_path / "bad"), "--workspace", str(tmp_path / "ws"), "--quiet", "--strict"]
    assert main(strict) == 1


def test_missing_path_and_oversized_file_are_reported(tmp_path: Path, embedder) -> None:
    docs = write_all(tmp_path / "docs")
    report = run([tmp_path / "docs", tmp_path / "nowhere"], tmp_path / "ws", embedder, max_file_mb=0.0005)
    failed = dict(report.failed)
    assert failed[str(tmp_path / "nowhere")] == "no such file or folder"
    assert "over the 0.0005 MB limit; raise --max-file-mb" in failed[str(docs["docx"])]
    assert report.added == sum(1 for p in docs.values() if p.stat().st_size <= 500)


def test_reingest_skips_unchanged_replaces_changed_and_prunes_vanished(tmp_path: Path, embedder) -> None:
    docs = write_all(tmp_path / "docs")
    ws = tmp_path / "ws"
    assert run([tmp_path / "docs"], ws, embedder).added == 5
    again = run([tmp_path / "docs"], ws, embedder)
    assert (again.added, again.updated, again.unchanged, again.new_chunks) == (0, 0, 5, 0)

    docs["md"].write_text("# Locker policy\n\n## Lockers\n\nLockers moved to the Osprey room on floor 6.\n")
    changed = run([tmp_path / "docs"], ws, embedder)
    assert (changed.updated, changed.unchanged) == (1, 4)
    assert "Osprey room" in top_text(ws, "Where are the lockers?", embedder)
    db = Workspace(ws).connect()
    assert db.execute("SELECT COUNT(*) FROM chunks WHERE text LIKE '%Kestrel%'").fetchone()[0] == 0

    docs["txt"].unlink()
    assert run([tmp_path / "docs"], ws, embedder).removed == 0  # kept unless asked
    assert "txt-doc.txt" in doc_names(ws)
    pruned = run([tmp_path / "docs"], ws, embedder, prune=True)
    assert pruned.removed == 1 and "txt-doc.txt" not in doc_names(ws)
    assert db.execute("SELECT COUNT(*) FROM chunks WHERE text LIKE '%zone C7%'").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("target", "attr"), [(pipeline, "_embed_missing"), (pipeline, "_update_pairs"), (Index, "save")]
)
def test_interrupted_ingest_leaves_the_previous_workspace_usable(tmp_path: Path, embedder, monkeypatch, target, attr):
    write_all(tmp_path / "a")
    ws = tmp_path / "ws"
    run([tmp_path / "a"], ws, embedder)
    before = doc_names(ws)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "new.md").write_text("# Bikes\n\nBicycles are stored in the cellar behind door B12.\n")
    original = getattr(target, attr)

    def interrupt(*args, **kwargs):
        if attr == "save":
            original(*args, **kwargs)  # the new index is on disk, the database not yet switched to it
        raise KeyboardInterrupt

    monkeypatch.setattr(target, attr, interrupt)
    with pytest.raises(KeyboardInterrupt):
        run([tmp_path / "b"], ws, embedder)
    monkeypatch.undo()
    assert doc_names(ws) == before
    assert "locker number 417" in top_text(ws, "Which locker do employees get?", embedder)
    after = run([tmp_path / "b"], ws, embedder)  # and the next run completes the work
    assert after.added == 1 and "door B12" in top_text(ws, "Where are bicycles stored?", embedder)
    committed = Workspace(ws).connect().execute("SELECT value FROM meta WHERE key = 'index_generation'").fetchone()[0]
    assert committed in {p.name for p in (ws / "index").iterdir()} and len(list((ws / "index").iterdir())) <= 2


def test_killed_ingest_process_leaves_a_consistent_workspace(tmp_path: Path, embedder) -> None:
    write_all(tmp_path / "a")
    ws = tmp_path / "ws"
    run([tmp_path / "a"], ws, embedder)
    for i in range(40):
        write_all(tmp_path / "b" / f"copy{i}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "ingest", str(tmp_path / "b"), "--workspace", str(ws)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    seen = ""
    while "Parsing" not in seen and proc.poll() is None:
        seen += proc.stderr.read(1)
    time.sleep(1.0)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    names = doc_names(ws)
    assert names == {f"{e}-doc.{e}" for e in FACTS} or len(names) == 5 + 200
    assert Retriever(ws, embedder).search(["locker number"], k=1)[0]


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    with ws.writer(), pytest.raises(WorkspaceError, match="another ingest is writing"), ws.writer():
        pass


def test_a_50_mb_text_file_streams_in_bounded_memory(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    paragraph = "The quarterly report lists revenue, costs and the head count of every team in detail. " * 6 + "\n\n"
    with open(big, "w") as f:
        for _ in range(50_000_000 // len(paragraph) + 1):
            f.write(paragraph)
    script = (
        "import resource, sys\n"
        "from ingest.parse import parse\nfrom ingest.chunk import chunk_blocks\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "n = sum(1 for _ in chunk_blocks(parse(__import__('pathlib').Path(sys.argv[1])).blocks,"
        " lambda ts: [len(t.split()) for t in ts], 192, 32))\n"
        "print(n, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(big)], capture_output=True, text=True, check=True)
    chunks, grown_mb = map(int, out.stdout.split())
    assert chunks > 40_000
    assert grown_mb < 60, f"parsing a 50 MB file grew memory by {grown_mb} MB"
