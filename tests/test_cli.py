"""The command line: instant help, clear errors, and `docent ask` end to end with the real embedded models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def test_ask_retrieval_answers_from_the_sample_with_sources_and_timing(sample_ws: Path, capsys) -> None:
    question = "How many days of paid leave does an employee earn per month?"
    args = ["ask", question, "--mode", "retrieval", "--workspace", str(sample_ws), "--max-new-tokens", "40"]
    assert main([*args, "--top-k", "3"]) == 0
    out = capsys.readouterr().out
    answer, _, rest = out.partition("\nSources:")
    assert answer.strip()
    assert "[1] hr/" in rest and "[3]" in rest
    assert "retrieval: retrieval" in rest and "first token" in rest and "tokens/s" in rest


def test_ask_base_mode_needs_no_workspace(tmp_path: Path, capsys) -> None:
    assert main(["ask", "What is the capital of France?", "--mode", "base", "--workspace", str(tmp_path / "none"),
                 "--max-new-tokens", "12"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "Paris" in out and "Sources:" not in out
