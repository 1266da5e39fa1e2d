"""A model's proposed questions: asked of an OpenAI-compatible endpoint, kept only when the text allows them."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from ingest import store
from ingest.config import IngestConfig
from ingest.generator import endpoint_proposer, valid
from ingest.models import ModelError
from ingest.pipeline import ingest
from ingest.records import OWNER
from ingest.store import Workspace


class FakeChat(BaseHTTPRequestHandler):
    """Answers /chat/completions with a question built from the prompt's text, like a helpful model would."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][0]["content"]
        reply = "Which room holds the spare projector?" if 'exactly "B214"' in prompt else "Answer: 42"
        data = json.dumps({"choices": [{"message": {"role": "assistant", "content": reply}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server():
    httpd = HTTPServer(("127.0.0.1", 0), FakeChat)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}/v1"
    httpd.shutdown()


def test_text_decides_which_proposals_stay() -> None:
    sentence = "The spare projector is kept in the Heron room."
    assert valid("Which room holds the spare projector?", sentence, "Heron room")
    assert not valid("Is the projector in the Heron room?", sentence, "Heron room")  # gives the answer away
    assert not valid("What is the capital of France?", sentence, "Heron room")  # not about the text
    assert not valid("Tell me about it", sentence, "Heron room")  # not a question


def test_endpoint_proposals_become_phrasings(server: str, tmp_path: Path, embedder) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "rooms.md").write_text(
        "# Rooms\n\nThe spare projector is kept by Aino Virtanen in room B214.\n"
    )
    cfg = IngestConfig(generator_url=server, holdout_share=0.0)
    ingest([tmp_path / "docs"], cfg, tmp_path / "ws", progress=False, embedder=embedder)
    rows = Workspace(tmp_path / "ws").connect().execute("SELECT question, answer, kind FROM pairs").fetchall()
    assert ("Which room holds the spare projector?", "B214", "model") in [tuple(r) for r in rows]
    assert not any(r["question"].startswith("Answer") for r in rows)  # an invalid reply is dropped


def test_unreachable_endpoint_is_a_clear_error() -> None:
    propose = endpoint_proposer("http://127.0.0.1:9/v1", timeout=2)
    with pytest.raises(ModelError, match=r"did not answer .* check --generator-url"):
        propose([("Rooms", "The spare projector is kept in the Heron room.", "Heron room")])


def test_a_local_generator_model_is_loaded_by_the_loader_it_is_given(tmp_path: Path, embedder, tiny_llm: Path) -> None:
    from assistant import loader

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "rooms.md").write_text("# Rooms\n\nThe spare projector is kept by Aino Virtanen in B214.\n")
    cfg = IngestConfig(generator_model=str(tiny_llm), holdout_share=0.0)
    with pytest.raises(ValueError, match="generator_model needs an LLM loader"):
        ingest([tmp_path / "docs"], cfg, tmp_path / "bare", progress=False, embedder=embedder)
    assert not (tmp_path / "bare" / "docent.db").exists() or not store.documents(
        Workspace(tmp_path / "bare").connect(), OWNER
    )
    asked: list[str] = []

    def load(name: str):  # type: ignore[no-untyped-def]
        asked.append(name)
        return loader.load(name)

    ingest([tmp_path / "docs"], cfg, tmp_path / "ws", progress=False, embedder=embedder, load_llm=load)
    assert asked == [str(tiny_llm)]  # the random model's proposals fail the text's checks; the templates' stay
    assert any(p.answer == "B214" for p in store.pairs(Workspace(tmp_path / "ws").connect(), OWNER))
