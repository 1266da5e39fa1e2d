"""The command line: instant help, clear errors, and `docent ask` end to end with the real embedded models."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.cli import main


def test_help_answers_without_loading_torch() -> None:
    code = "import sys; from assistant.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    help_text = subprocess.run([sys.executable, "-m", "assistant.cli", "--help"], capture_output=True, text=True).stdout
    for command in ("ingest", "search", "ask", "pairs"):
        assert command in help_text


def test_missing_workspace_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["search", "anything", "--workspace", str(tmp_path / "none")]) == 2
    assert "run `docent ingest PATH` first" in capsys.readouterr().err


def test_bad_setting_names_the_field(tmp_path: Path, capsys) -> None:
    assert main(["ingest", str(tmp_path), "--workspace", str(tmp_path / "ws"), "--chunk-tokens", "8"]) == 2
    assert "chunk_tokens must be at least 32" in capsys.readouterr().err


def test_ask_retrieval_answers_from_the_sample_with_sources_and_timing(own_sample_ws: Path, capsys) -> None:
    question = "How many days of paid leave does an employee earn per month?"  # logged: a workspace of its own
    args = ["ask", question, "--mode", "retrieval", "--workspace", str(own_sample_ws), "--max-new-tokens", "40"]
    assert main([*args, "--top-k", "3"]) == 0
    out = capsys.readouterr().out
    answer, _, rest = out.partition("\nSources:")
    assert answer.strip()
    assert "[1] hr/" in rest and "[3]" in rest
    assert "retrieval: retrieval" in rest and "first token" in rest and "tokens/s" in rest


@pytest.mark.slow
def test_ask_base_mode_needs_no_workspace(tmp_path: Path, capsys) -> None:
    assert (
        main(
            [
                "ask",
                "What is the capital of France?",
                "--mode",
                "base",
                "--workspace",
                str(tmp_path / "none"),
                "--max-new-tokens",
                "12",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Paris" in out and "Sources:" not in out


def damaged(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "docent.db").write_bytes(b"this is not a database, it was overwritten " * 100)
    return ws


@pytest.mark.parametrize(
    "command",
    [
        ["search", "vpn"],
        ["ask", "What is the VPN?", "--mode", "retrieval"],
        ["pairs"],
        ["runs"],
        ["eval"],
        ["ingest", "DOCS", "--quiet"],
    ],
)
def test_a_damaged_workspace_is_one_sentence_naming_it(tmp_path: Path, capsys, command: list[str]) -> None:
    ws = damaged(tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n\nSome text.\n")
    args = [str(tmp_path / "docs") if a == "DOCS" else a for a in command]
    assert main([*args, "--workspace", str(ws)]) == 2
    err = capsys.readouterr().err
    assert f"{ws / 'docent.db'} is damaged or is not a Docent workspace" in err and "restore it" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (["ingest", "DOCS", "--quiet"], "is a file, not a workspace folder"),
        (["search", "vpn"], "is a file, not a workspace folder"),
        (["runs"], "is a file, not a workspace folder"),
    ],
)
def test_a_workspace_that_is_a_file_is_one_sentence(tmp_path: Path, capsys, command: list[str], says: str) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n\nSome text.\n")
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    args = [str(tmp_path / "docs") if a == "DOCS" else a for a in command]
    assert main([*args, "--workspace", str(notes)]) == 2
    assert f"{notes} {says}" in capsys.readouterr().err
    assert notes.read_text() == "my notes"


def test_runs_outside_a_workspace_is_an_error_not_an_empty_list(tmp_path: Path, capsys) -> None:
    assert main(["runs", "--workspace", str(tmp_path / "nowhere")]) == 2
    assert "no workspace at" in capsys.readouterr().err


def test_a_question_too_long_is_refused_before_any_model_loads(tmp_path: Path, capsys) -> None:
    question = "Why? " * 20_000  # 100 KB: it held the model for 3 min 41 s and answered garbage
    assert main(["ask", question, "--mode", "base", "--workspace", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "the question is 99,999 characters long, over the limit of 4,000" in err
    assert "Loading models" not in err
    assert main(["search", question, "--workspace", str(tmp_path)]) == 2
    assert "over the limit of 4,000" in capsys.readouterr().err


@pytest.fixture
def no_server(monkeypatch):  # type: ignore[no-untyped-def]
    """`docent ui` up to the point where it would become the server; what it would have started is kept."""
    started: dict = {}

    def execve(path, command, env):  # type: ignore[no-untyped-def]
        started.update(command=command, env=env)

    monkeypatch.setattr("os.execve", execve)
    monkeypatch.delenv("DOCENT_PASSWORD", raising=False)
    monkeypatch.delenv("DOCENT_PASSWORD_HASH", raising=False)
    return started


@pytest.mark.parametrize(
    ("answers", "says"),
    [(["", ""], "an empty password would leave the web app open"), (["one", "two"], "the two passwords differ")],
)
def test_ui_refuses_an_empty_or_mistyped_password(tmp_path: Path, capsys, monkeypatch, no_server, answers, says):
    given = iter(answers)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(given))
    assert main(["ui", "--password", "--workspace", str(tmp_path)]) == 2
    assert says in capsys.readouterr().err and not no_server


def test_ui_refuses_an_empty_password_from_the_environment(tmp_path: Path, capsys, monkeypatch, no_server) -> None:
    monkeypatch.setenv("DOCENT_PASSWORD", "")
    assert main(["ui", "--workspace", str(tmp_path)]) == 2
    assert "DOCENT_PASSWORD is set but empty" in capsys.readouterr().err and not no_server


def test_ui_hands_the_server_a_hash_never_the_password(tmp_path: Path, monkeypatch, no_server) -> None:
    from assistant import access

    monkeypatch.setattr("getpass.getpass", lambda prompt="": "correct horse")
    assert main(["ui", "--password", "--workspace", str(tmp_path)]) == 0
    env = no_server["env"]
    assert access.verify("correct horse", env["DOCENT_PASSWORD_HASH"])
    assert "DOCENT_PASSWORD" not in env and not any("correct horse" in v for v in env.values())
    assert no_server["command"][1:4] == ["-m", "streamlit", "run"]


def test_sigterm_to_docent_ui_leaves_nothing_listening(tmp_path: Path) -> None:
    import os
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "ui", "--workspace", str(tmp_path / "ws"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                assert process.poll() is None and time.time() < deadline, "the app did not start"
                time.sleep(0.5)
        os.kill(process.pid, signal.SIGTERM)  # what a process supervisor sends to the process it started
        process.wait(timeout=30)
        with pytest.raises(ProcessLookupError):
            os.killpg(process.pid, 0)  # no process of the group is left: Streamlit was not a child left behind
        with socket.socket() as s, pytest.raises(OSError):
            s.connect(("127.0.0.1", port))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


@pytest.mark.slow
def test_ingest_writes_a_workspace_only_its_owner_can_read(tmp_path: Path) -> None:
    import stat

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "salaries.md").write_text("# Salaries\n\nThe CEO earns 410,000 euros a year.\n")
    old = tmp_path / "old"  # a workspace folder left world-readable, as an older Docent made them
    old.mkdir(mode=0o755)
    for ws in (tmp_path / "new", old):
        command = f"umask 022 && {sys.executable} -m assistant.cli ingest {tmp_path / 'docs'} --workspace {ws} --quiet"
        subprocess.run(["sh", "-c", command], check=True, capture_output=True)
        found = [ws, *ws.rglob("*")]
        assert any(p.name == "docent.db" for p in found) and any(p.parent.name == "index" for p in found)
        for path in found:
            assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
