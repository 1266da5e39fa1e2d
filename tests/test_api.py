"""`docent serve`, driven by the real `openai` client over HTTP: a uvicorn server on a free port, the sample corpus,
a tiny random LLM with a planted LoRA adapter, so that every mode answers in a moment."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import openai
import pytest
import uvicorn

from assistant import api, keys, runs
from assistant.answer import answer
from assistant.cli import main
from assistant.config import AnswerConfig
from assistant.generate import LLM, Timing
from assistant.retrieve import Retriever
from assistant.service import Docent
from ingest.records import OWNER
from ingest.store import Workspace

QUESTION = "How many days of annual leave do employees earn per month?"


def plant_run(workspace: Path, tiny_llm: Path, name: str) -> runs.Run:
    """A finished run whose adapter is a random LoRA on the tiny model: tuned answers differ from base ones."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(len(name))
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_llm),
        LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False),
    )
    run = runs.Run(name, runs.runs_root(workspace) / name, status="finished", created=runs.now())
    run.config = {"tune": {"llm": str(tiny_llm)}}
    model.save_pretrained(run.adapter)
    run.save()
    return run


class Served:
    def __init__(self, docent: Docent, require_key: bool | None = None):
        self.docent = docent
        self.server = uvicorn.Server(
            uvicorn.Config(api.create_app(docent, require_key), host="127.0.0.1", port=0, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started:
            assert time.time() < deadline and self.thread.is_alive(), "the server did not start"
            time.sleep(0.05)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def client(self, key: str | None) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key=key or "none", max_retries=0, timeout=120)

    def post(self, path: str, body: bytes, key: str | None = None) -> tuple[int, dict]:
        """A raw request, for what the openai client would refuse to send."""
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
        request = urllib.request.Request(self.url + path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture
def served(own_sample_ws: Path, tiny_llm: Path) -> Iterator[tuple[Served, str, runs.Run]]:
    older = plant_run(own_sample_ws, tiny_llm, "20260101-000000-older")
    newest = plant_run(own_sample_ws, tiny_llm, "20260102-000000-newest")
    newest.created = "2999-01-01T00:00:00+00:00"  # the newest finished run answers by default
    newest.save()
    older.created = "2000-01-01T00:00:00+00:00"
    older.save()
    key = keys.create(Workspace(own_sample_ws).connect(), "tests")
    server = Served(Docent(own_sample_ws, str(tiny_llm)))
    yield server, key, older
    server.close()


def test_an_answer_names_the_run_that_gave_it_though_a_newer_one_finished_since(
    own_sample_ws: Path, tiny_llm: Path
) -> None:
    """The run is fixed when the question is asked: the API's reply and the stored feedback name it, even when a
    newer run finished and answered another question before this answer was read."""
    first = plant_run(own_sample_ws, tiny_llm, "20260101-000000-first")
    first.created = "2000-01-01T00:00:00+00:00"
    first.save()
    docent = Docent(own_sample_ws, str(tiny_llm))
    cfg = AnswerConfig(max_new_tokens=4)
    asking = docent.ask(QUESTION, "both", cfg=cfg, access=OWNER)
    later = plant_run(own_sample_ws, tiny_llm, "20260102-000000-later")
    later.created = "2999-01-01T00:00:00+00:00"
    later.save()
    again = docent.ask(QUESTION, "tuned", cfg=cfg, access=OWNER)
    "".join(asking.text()) + "".join(again.text())
    assert (asking.run, again.run) == (first.id, later.id)
    assert docent.ask(QUESTION, "retrieval", cfg=cfg, access=OWNER).run is None
    docent.feedback(QUESTION, asking.answer().text, "both", 1, "", asking.run)
    docent.feedback(QUESTION, "Paris", "base", 0, "", later.id)  # base answers without a run, whatever is passed
    stored = Workspace(own_sample_ws).connect().execute("SELECT mode, run FROM feedback ORDER BY id").fetchall()
    assert [tuple(r) for r in stored] == [("both", first.id), ("base", None)]


def test_models_are_listed_and_every_mode_answers_whole_and_streamed(served, tiny_llm: Path) -> None:
    server, key, older = served
    client = server.client(key)
    listed = [m.id for m in client.models.list()]
    newest = runs.latest_finished(server.docent.workspace)
    assert newest is not None and newest.id != older.id
    assert listed[:4] == ["docent-base", "docent-tuned", "docent-retrieval", "docent-both"]
    assert {f"docent-both:{older.id}", f"docent-tuned:{newest.id}"} <= set(listed)

    retriever = Retriever(server.docent.workspace)
    cfg = AnswerConfig(max_new_tokens=12, llm=str(tiny_llm))
    local = LLM(str(tiny_llm))
    local.attach(newest.adapter, name=newest.adapter_name)
    local.attach(older.adapter, name=older.adapter_name, default=False)
    conversation = [{"role": "system", "content": "ignored"}, {"role": "user", "content": QUESTION}]
    for model, mode, adapter in [
        ("docent-base", "base", None),
        ("docent-tuned", "tuned", None),
        ("docent-retrieval", "retrieval", None),
        ("docent-both", "both", None),
        (f"docent-both:{older.id}", "both", older.adapter_name),
    ]:
        expected = answer(QUESTION, mode, local, retriever, cfg, adapter=adapter)
        whole = client.chat.completions.create(model=model, messages=conversation, max_tokens=12)
        assert whole.choices[0].message.content == expected.text, model
        extra = whole.model_extra["docent"]
        assert extra["mode"] == mode and extra["run"] == (
            None if mode in ("base", "retrieval") else (older.id if adapter else newest.id)
        )
        assert [s["chunk_id"] for s in extra["sources"]] == [s.chunk_id for s in expected.sources]
        assert whole.usage is not None and whole.usage.completion_tokens == expected.timing.tokens > 0
        pieces, last = [], None
        for chunk in client.chat.completions.create(model=model, messages=conversation, max_tokens=12, stream=True):
            pieces += [c.delta.content for c in chunk.choices if c.delta.content]
            last = chunk
        assert last is not None and last.choices[0].finish_reason in ("stop", "length")
        final = last.model_extra["docent"]
        assert final["answer"] == expected.text and final["sources"] == extra["sources"], model
        # what was streamed is the answer, and the repeats the answer was cut before, if it began to loop
        streamed = "".join(pieces).strip()
        assert streamed == expected.text or (final["cut"] and streamed.startswith(expected.text)), model
    # the older run's adapter answers differently from the newest's: the model name chose it
    tuned_new = answer(QUESTION, "tuned", local, None, cfg)
    tuned_old = answer(QUESTION, "tuned", local, None, cfg, adapter=older.adapter_name)
    assert tuned_new.text != tuned_old.text


def test_sources_come_back_with_their_documents_and_search_ranks_chunks(served, monkeypatch) -> None:
    server, key, _ = served
    monkeypatch.setattr(Docent, "llm", lambda self: pytest.fail("a search loaded the LLM"))
    status, found = server.post("/v1/search", json.dumps({"query": "annual leave per month", "k": 3}).encode(), key)
    assert status == 200 and len(found["results"]) == 3
    expected = Retriever(server.docent.workspace).search(["annual leave per month"], 3)[0]
    assert [r["chunk_id"] for r in found["results"]] == [s.chunk_id for s in expected]
    assert found["results"][0]["doc"] == "hr/employee-handbook.pdf" and "leave" in found["results"][0]["text"]


def test_no_key_a_wrong_key_and_a_revoked_key_get_401_and_cost_no_model_time(served, monkeypatch) -> None:
    server, key, _ = served
    asked: list[str] = []
    real_ask = Docent.ask
    monkeypatch.setattr(Docent, "ask", lambda self, *a, **k: asked.append(a[0]) or real_ask(self, *a, **k))
    monkeypatch.setattr(Docent, "llm", lambda self: pytest.fail("a refused request loaded the model"))
    message = [{"role": "user", "content": QUESTION}]
    for given in (None, "docent-wrong", key[:-2] + "xx", "Basic " + key):
        with pytest.raises(openai.AuthenticationError) as refused:
            server.client(given).chat.completions.create(model="docent-base", messages=message)
        assert "a valid API key is needed" in str(refused.value)
    assert server.post("/v1/search", b'{"query": "leave"}')[0] == 401
    keys.revoke(server.docent.library.db(), "tests")
    with pytest.raises(openai.AuthenticationError):
        server.client(key).models.list()
    assert asked == []
    with urllib.request.urlopen(server.url + "/healthz") as health:  # no key needed
        assert json.loads(health.read()) == {"status": "ok"}
    fresh = keys.create(server.docent.library.db(), "tests")  # a new key under the revoked one's label
    metrics = urllib.request.Request(server.url + "/metrics", headers={"Authorization": f"Bearer {fresh}"})
    with urllib.request.urlopen(metrics) as shown:
        text = shown.read().decode()
    assert 'docent_requests_total{endpoint="/v1/chat/completions",mode="",status="401"} 4.0' in text


def test_malformed_and_oversized_requests_get_a_sentence_not_a_traceback(served) -> None:
    server, key, older = served
    ask = [{"role": "user", "content": QUESTION}]

    def chat(**body: object) -> tuple[int, str]:
        status, reply = server.post("/v1/chat/completions", json.dumps(body).encode(), key)
        return status, reply["error"]["message"]

    assert chat(model="docent-base") == (400, "messages: Field required")
    assert chat(model="docent-base", messages=ask, max_tokens=5000)[0] == 400
    assert "max_tokens" in chat(model="docent-base", messages=ask, max_tokens=5000)[1]
    assert chat(model="gpt-4", messages=ask) == (404, "no model 'gpt-4': GET /v1/models lists them")
    assert chat(model="docent-retrieval:" + older.id, messages=ask)[0] == 404  # a run answers only in tuned modes
    assert "no finished run '../../etc'" in chat(model="docent-both:../../etc", messages=ask)[1]
    assert chat(model="docent-base", messages=[{"role": "assistant", "content": "hi"}]) == (
        400,
        "messages: the last message must be the user's question",
    )
    status, message = chat(model="docent-base", messages=[{"role": "user", "content": "why? " * 1000}])
    assert status == 400 and "over the limit of 4,000" in message
    status, reply = server.post("/v1/chat/completions", b'{"model": "docent-base", "messages": [', key)
    assert status == 400 and "JSON" in reply["error"]["message"]
    huge = json.dumps({"model": "docent-base", "messages": ask, "padding": "x" * 300_000}).encode()
    status, reply = server.post("/v1/chat/completions", huge, key)
    assert status == 413 and reply["error"]["message"] == "the request is too large: at most 256 KB"
    client = server.client(key)  # the server still answers
    assert client.chat.completions.create(model="docent-base", messages=ask, max_tokens=4).choices[0].message


def test_a_client_that_disconnects_mid_stream_frees_its_place(served, monkeypatch) -> None:
    server, key, _ = served
    produced: dict[str, int] = {}

    def decode(self, batch):  # type: ignore[no-untyped-def]
        """A model that writes one word every 50 ms while its asker is there: 400 to the first question, 3 to others."""
        for step in range(400):
            live = [r for r in batch if not r.cancelled and step < (400 if "everything" in str(r.messages) else 3)]
            if not live:
                break
            for request in live:
                request.put(f"word{step} ")
                produced[request.messages[-1]["content"]] = step + 1
            time.sleep(0.05)

    monkeypatch.setattr("assistant.serving.Batcher._decode", decode)
    client = server.client(key)
    stream = client.chat.completions.create(
        model="docent-base", messages=[{"role": "user", "content": "Tell me everything"}], stream=True
    )
    seen = [c for _, c in zip(range(3), stream, strict=False)]
    assert len(seen) == 3
    stream.close()  # the client goes away
    after = client.chat.completions.create(model="docent-base", messages=[{"role": "user", "content": "Next one"}])
    assert after.choices[0].message.content == "word0 word1 word2"
    assert produced["Tell me everything"] < 200  # not the 400 words (20 s) that would have held the next answer


def test_serving_beyond_this_machine_needs_a_key(own_sample_ws: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("the server started"))
    assert main(["serve", "--host", "0.0.0.0", "--workspace", str(own_sample_ws)]) == 2
    assert "without an API key would let anyone" in capsys.readouterr().err


def test_keys_are_shown_once_and_kept_only_as_a_hash(tmp_path: Path, capsys) -> None:
    ws = tmp_path / "ws"
    assert main(["keys", "create", "helpdesk", "--workspace", str(ws)]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith(keys.PREFIX) and len(key) > 40
    db = Workspace(ws).connect()
    assert keys.check(db, key) is not None and keys.check(db, key + "x") is None
    stored = b"".join(p.read_bytes() for p in ws.glob("docent.db*"))
    assert key.encode() not in stored and keys.digest(key).encode() in stored
    assert main(["keys", "create", "helpdesk", "--workspace", str(ws)]) == 2  # one key in use per label
    assert "already exists" in capsys.readouterr().err
    assert main(["keys", "list", "--workspace", str(ws)]) == 0
    listed = capsys.readouterr().out
    assert "helpdesk" in listed and key not in listed and "in use" in listed
    assert main(["keys", "revoke", "helpdesk", "--workspace", str(ws)]) == 0
    assert keys.check(db, key) is None
    assert main(["keys", "revoke", "nobody", "--workspace", str(ws)]) == 2
    assert "no key in use is labelled 'nobody'" in capsys.readouterr().err


def test_a_model_server_that_is_down_costs_one_sentence(tmp_path: Path) -> None:
    from assistant.remote import ServerLLM
    from ingest.models import ModelError

    with pytest.raises(ModelError, match=r"the model server at http://127.0.0.1:9/v1 did not answer \(could not"):
        ServerLLM("http://127.0.0.1:9/v1")


def test_a_model_server_that_cannot_take_an_adapter_says_how_to_start_vllm(served) -> None:
    from assistant.remote import ServerLLM
    from ingest.models import ModelError

    server, key, older = served  # docent serve is an OpenAI-compatible server without adapters of its own
    remote = ServerLLM(server.url + "/v1", key)
    assert remote.name == "docent-base"
    with pytest.raises(ModelError) as refused:
        remote.attach(older.adapter, older.adapter_name)
    said = str(refused.value)
    assert "HTTP 404" in said and f"--lora-modules {older.adapter_name}={older.adapter.resolve()}" in said
    assert "answer base and retrieval only" in said
    with pytest.raises(ModelError, match="no fine-tuned adapter is served"):
        list(remote.stream([{"role": "user", "content": "hi"}], 4, Timing(), tuned=True))


def test_the_web_app_answers_through_the_api_and_loads_no_model(served, tiny_llm: Path, monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    server, key, _ = served
    monkeypatch.setenv("DOCENT_WORKSPACE", str(server.docent.workspace))
    monkeypatch.setenv("DOCENT_API_URL", server.url + "/v1")
    monkeypatch.setenv("DOCENT_API_KEY", key)
    monkeypatch.setenv("DOCENT_LLM", "/nowhere")  # a page that loaded a model here would fail
    monkeypatch.delenv("DOCENT_PASSWORD", raising=False)
    expected = server.client(key).chat.completions.create(
        model="docent-retrieval", messages=[{"role": "user", "content": QUESTION}], max_tokens=160
    )
    at = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=180)
    at.run()
    assert at.segmented_control[0].options == ["base", "tuned", "retrieval", "both"]  # the API's modes
    at.segmented_control[0].set_value("retrieval").run()
    at.chat_input[0].set_value(QUESTION).run()
    assert not at.exception, at.exception
    (assistant,) = [m for m in at.chat_message if m.name == "assistant"]
    assert assistant.markdown[0].value == expected.choices[0].message.content
    assert any(e.label.startswith("Sources (1)") for e in at.expander)  # the sources came back with the answer
    with urllib.request.urlopen(
        urllib.request.Request(server.url + "/metrics", headers={"Authorization": f"Bearer {key}"})
    ) as shown:
        text = shown.read().decode()
    assert 'docent_requests_total{endpoint="/v1/chat/completions",mode="retrieval",status="200"} 2.0' in text


def test_through_a_server_without_adapters_tuned_modes_say_why_and_errors_are_sentences(served) -> None:
    from assistant.remote import ServerLLM
    from ingest.models import ModelError

    server, key, _ = served  # docent serve as the model server: it answers, but takes no adapter
    remote = Docent(server.docent.workspace, llm_url=server.url + "/v1", llm_key=key)
    assert remote.modes(OWNER) == ["base", "retrieval"]  # tuned and both cannot answer there
    with pytest.raises(ValueError, match=r"does not serve run .* adapter and did not take it"):
        remote.ask(QUESTION, "both", access=OWNER)
    asking = remote.ask(QUESTION, "retrieval", cfg=AnswerConfig(max_new_tokens=8), access=OWNER)
    assert "".join(asking.text()) and asking.answer().sources  # retrieval here, the model there
    wrong = ServerLLM(server.url + "/v1", key, model="docent-nope")
    with pytest.raises(ModelError, match=r"failed to answer with docent-nope \(HTTP 404: .*no model 'docent-nope'"):
        list(wrong.stream([{"role": "user", "content": QUESTION}], 4, Timing()))


def test_without_a_key_only_requests_addressed_to_localhost_are_answered(own_sample_ws: Path, tiny_llm: Path) -> None:
    server = Served(Docent(own_sample_ws, str(tiny_llm)))  # the workspace has no key
    try:
        with urllib.request.urlopen(server.url + "/v1/models") as listed:
            assert json.loads(listed.read())["data"][0]["id"] == "docent-base"
        rebound = urllib.request.Request(server.url + "/v1/models", headers={"Host": "attacker.example:8000"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(rebound)
        assert refused.value.code == 403 and b"answers only requests addressed to localhost" in refused.value.read()
        for path in ("/nothing-here", "/another-one"):
            with pytest.raises(urllib.error.HTTPError):
                urllib.request.urlopen(server.url + path)
        with urllib.request.urlopen(server.url + "/metrics") as shown:
            text = shown.read().decode()
        assert 'endpoint="other",mode="",status="404"} 2.0' in text and "nothing-here" not in text
    finally:
        server.close()


def test_a_run_tuned_from_another_base_model_is_not_offered(served) -> None:
    server, key, _ = served
    other = runs.Run("20260103-000000-other", runs.runs_root(server.docent.workspace) / "20260103-000000-other")
    other.status, other.created, other.config = "finished", "2000-01-01T00:00:00+00:00", {"tune": {"llm": "other"}}
    other.adapter.mkdir(parents=True)
    other.save()
    assert not any(other.id in m.id for m in server.client(key).models.list())
    ask = json.dumps({"model": f"docent-both:{other.id}", "messages": [{"role": "user", "content": QUESTION}]})
    status, reply = server.post("/v1/chat/completions", ask.encode(), key)
    assert status == 404 and "no finished run '20260103-000000-other' answers here" in reply["error"]["message"]


def test_an_unexpected_failure_is_a_sentence_and_the_server_goes_on(served, monkeypatch) -> None:
    server, key, _ = served
    ask = json.dumps({"model": "docent-base", "messages": [{"role": "user", "content": QUESTION}]}).encode()
    with monkeypatch.context() as patched:
        patched.setattr(Docent, "ask", lambda self, *a, **k: 1 / 0)
        status, reply = server.post("/v1/chat/completions", ask, key)
    assert status == 500 and reply["error"]["message"].startswith("Docent failed to answer this request")
    assert server.post("/v1/chat/completions", ask, key)[0] == 200


def test_one_model_keeps_a_bounded_number_of_adapters(tmp_path: Path, tiny_llm: Path) -> None:
    from assistant.generate import MAX_ADAPTERS

    planted = [plant_run(tmp_path, tiny_llm, f"2026010{i}-000000-run") for i in range(MAX_ADAPTERS + 2)]
    llm = LLM(str(tiny_llm))
    llm.attach(planted[0].adapter, planted[0].adapter_name)  # the default
    for run in planted[1:]:
        llm.attach(run.adapter, run.adapter_name, default=False)
        list(llm.stream([{"role": "user", "content": "hi"}], 2, Timing(), tuned=True, adapter=run.adapter_name))
    assert len(llm.attached) == MAX_ADAPTERS and llm.adapter == planted[0].adapter_name
    assert planted[0].adapter_name in llm.attached and planted[-1].adapter_name in llm.attached
    assert planted[1].adapter_name not in llm.attached  # used longest ago
    with pytest.raises(Exception, match="is not attached"):
        llm.generate_batch([[{"role": "user", "content": "hi"}]], 2, tuned=True, adapter=planted[1].adapter_name)


class SlowModelServer:
    """An OpenAI-compatible server that lists one model and takes `delay_s` to begin any answer; it counts the
    answers asked of it."""

    def __init__(self, delay_s: float):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        outer = self
        self.asked = 0

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def reply(self, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self.reply({"object": "list", "data": [{"id": "slow", "object": "model", "owned_by": "x"}]})

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                outer.asked += 1
                time.sleep(delay_s)
                choice = {"index": 0, "message": {"role": "assistant", "content": "late"}, "finish_reason": "stop"}
                self.reply({"id": "x", "object": "chat.completion", "created": 0, "model": "slow", "choices": [choice]})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_an_answer_that_times_out_is_not_asked_again_and_costs_one_sentence(monkeypatch, tmp_path, capsys) -> None:
    from assistant.remote import ServerLLM
    from ingest.models import ModelError

    slow = SlowModelServer(delay_s=5)
    try:
        monkeypatch.setenv("DOCENT_LLM_TIMEOUT", "1")  # as `--llm-timeout 1` would set it for the web app
        remote = ServerLLM(slow.url)
        started = time.perf_counter()
        with pytest.raises(ModelError, match=r"failed to answer with slow \(no answer in time\)"):
            list(remote.stream([{"role": "user", "content": QUESTION}], 4, Timing()))
        with pytest.raises(ModelError, match=r"no answer in time"):
            remote.generate_batch([[{"role": "user", "content": QUESTION}]], 4)
        assert slow.asked == 2  # each question once: a timed-out one may still be in the server's queue
        assert time.perf_counter() - started < 4.5  # two waits of the 1 s given, not of the 5 s the server takes
        # given more time than the server takes, the same server answers (the 5 s delay against a 60 s wait, so
        # a slow machine cannot turn it into a race)
        assert ServerLLM(slow.url, timeout_s=60).complete([{"role": "user", "content": "hi"}], 4, "slow") == "late"
        monkeypatch.setenv("DOCENT_LLM_TIMEOUT", "soon")
        with pytest.raises(ValueError, match=r"\(DOCENT_LLM_TIMEOUT\) must be a number of seconds above 0, got 'soon'"):
            ServerLLM(slow.url)
        monkeypatch.setattr("os.execve", lambda *a: pytest.fail("the web app started with a timeout of 0"))
        assert main(["ui", "--llm-timeout", "0", "--workspace", str(tmp_path / "ws")]) == 2
        assert (
            "--llm-timeout (DOCENT_LLM_TIMEOUT) must be a number of seconds above 0, got 0.0" in capsys.readouterr().err
        )
    finally:
        slow.server.shutdown()


def test_a_question_the_server_never_received_is_sent_again() -> None:
    import httpx2
    from openai import APIConnectionError, APITimeoutError

    from assistant import remote

    request = httpx2.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    tries: list[str] = []

    def failing(first: BaseException, then: str = "answer") -> Callable[[], str]:
        def ask() -> str:
            tries.append("asked")
            if len(tries) == 1:
                raise first
            return then

        return ask

    def wrapped(error: type[APIConnectionError], cause: BaseException) -> APIConnectionError:
        try:
            raise error(request=request) from cause
        except APIConnectionError as err:
            return err

    refused = wrapped(APIConnectionError, httpx2.ConnectError("refused"))
    assert remote._send(failing(refused)) == "answer" and len(tries) == 2
    tries.clear()
    timed_out = wrapped(APITimeoutError, httpx2.ReadTimeout("slow"))
    with pytest.raises(APITimeoutError):
        remote._send(failing(timed_out))
    assert len(tries) == 1
    tries.clear()
    cut = wrapped(APIConnectionError, httpx2.RemoteProtocolError("closed mid-answer"))
    with pytest.raises(APIConnectionError):
        remote._send(failing(cut))
    assert len(tries) == 1


def test_a_run_with_a_reader_answers_both_with_it_wherever_it_is_asked(
    own_sample_ws: Path, tiny_llm: Path, capsys
) -> None:
    """A run whose adapter read best at part of its strength answers `both` with that reader (here at no strength:
    the base model reading), and `tuned` with the whole adapter: in the engine the web app and the API share, in
    `docent ask`, and in `docent eval`."""
    from assistant import heldout

    run = plant_run(own_sample_ws, tiny_llm, "20260101-000000-reader")
    run.snapshot = {"documents": {}, "holdout": []}
    run.save()
    heldout.write_reader(run.adapter, run.reader, 0.0)
    question = "How long is the payment term?"
    docent = Docent(own_sample_ws, str(tiny_llm))

    def said(mode: str) -> str:
        asking = docent.ask(question, mode, cfg=AnswerConfig(max_new_tokens=8), access=OWNER)
        "".join(asking.text())
        return asking.answer().text

    assert said("both") == said("retrieval") and said("tuned") != said("base")
    args = ["--workspace", str(own_sample_ws), "--max-new-tokens", "8", "--json"]
    assert main(["ask", question, "--mode", "both", *args]) == 0
    assert json.loads(capsys.readouterr().out)["answer"] == said("retrieval")
    assert main(["eval", "--workspace", str(own_sample_ws), "--modes", "retrieval,both,tuned", "--limit", "6",
                 "--max-new-tokens", "8", "--quiet"]) == 0  # fmt: skip
    (folder,) = (own_sample_ws / "evals").iterdir()
    answered: dict[str, dict[str, str]] = {}
    for line in (folder / "answers.jsonl").read_text().splitlines():
        item = json.loads(line)
        answered.setdefault(item["mode"], {})[item["question"]] = item["answer"]
    assert answered["both"] == answered["retrieval"] and answered["tuned"] != answered["retrieval"]
