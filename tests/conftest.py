from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
SAMPLE_QUESTIONS = ROOT / "tests" / "fixtures" / "sample_questions.jsonl"

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the tests never reach a model hub

# Fixtures that load the real embedded embedder (and what is ingested with it): a test that asks for one is slow.
EMBEDDING = {"embedder", "sample_ws", "own_sample_ws", "small_ws", "ingested", "ui_ws", "server"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`slow` for every test that loads a real embedded model, so that `pytest -m "not slow"` is a quick loop of the
    tests with tiny random models; tests that load the embedded LLM themselves carry the mark in their file."""
    for item in items:
        if EMBEDDING & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture
def own_sample_ws(sample_ws: Path, tmp_path: Path) -> Path:
    """A copy of the sample workspace for a test that writes into it (a run, an evaluation): the session's stays
    as ingested, whatever order the tests run in."""
    copy = tmp_path / "sample-ws"
    shutil.copytree(sample_ws, copy)
    return copy


@pytest.fixture(scope="session")
def chat_tokenizer():
    """The embedded model's tokenizer and chat template (converted into the cache on first use)."""
    from transformers import AutoTokenizer

    from assistant.loader import resolve_llm

    return AutoTokenizer.from_pretrained(resolve_llm("embedded"))


@pytest.fixture(scope="session")
def tiny_llm(tmp_path_factory, chat_tokenizer) -> Path:
    """A randomly initialised two-layer Llama with the embedded model's tokenizer, saved as a local folder."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(chat_tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=chat_tokenizer.bos_token_id,
        eos_token_id=chat_tokenizer.eos_token_id,
    )
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = chat_tokenizer.eos_token_id
    folder = tmp_path_factory.mktemp("tiny-llm")
    model.save_pretrained(folder)
    chat_tokenizer.save_pretrained(folder)
    return folder
