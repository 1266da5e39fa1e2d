from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
SAMPLE_QUESTIONS = ROOT / "tests" / "fixtures" / "sample_questions.jsonl"

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the tests never reach a model hub


@pytest.fixture(scope="session")
def embedder():
    from ingest.models import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def sample_ws(tmp_path_factory, embedder) -> Path:
    """The sample corpus ingested once, with the real embedded embedder."""
    from ingest.config import IngestConfig
    from ingest.pipeline import ingest

    ws = tmp_path_factory.mktemp("sample") / "ws"
    report = ingest([SAMPLE], IngestConfig(), ws, progress=False, embedder=embedder)
    assert report.added == 30 and not report.failed and not report.skipped, report
    return ws
