"""Many OpenAI clients at once against `docent serve`: answers/s, time to first token, latency p50/p95, errors.

    python bench/serve_load.py --workspace W [--clients 1,4,16,64] [--per-client 2] [--vllm-python PY] [--llm-timeout S]

The workspace is copied first (the bench makes an API key in the copy), and needs a finished run. Each client is a
thread with the `openai` client, streaming; half its questions go to `docent-retrieval` (the base model) and half to
`docent-both` (the run's adapter), drawn from the workspace's held-out questions. Measured against `docent serve`
answering in its own process (int8 on a CPU, batched), then, with --vllm-python, against `docent serve --llm-url`
with a vLLM server started here with the embedded model and the run's adapter (`--lora-modules`). Prints one line per
engine and number of clients, then the ratio of answers per second.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import openai

from assistant import evaluate, keys, runs
from assistant.loader import resolve_llm
from ingest.records import OWNER
from ingest.store import Workspace

DOCENT = str(Path(sys.executable).parent / "docent")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(command: list[str], url: str, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """A server process, once `url` answers."""
    with open(log, "w") as out:
        server = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, start_new_session=True
        )
    deadline = time.time() + 600
    while True:
        if server.poll() is not None or time.time() > deadline:
            raise SystemExit(f"{command[0]} did not start:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return server
        except OSError:
            time.sleep(2)


def stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def client_session(url: str, key: str, asked: list[tuple[str, str]], found: dict[str, list[float]]) -> None:
    client = openai.OpenAI(base_url=url, api_key=key, max_retries=0, timeout=600)
    for model, question in asked:
        start, first = time.perf_counter(), 0.0
        try:
            stream = client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": question}], max_tokens=48, stream=True
            )
            for chunk in stream:
                if not first and any(c.delta.content for c in chunk.choices):
                    first = time.perf_counter() - start
        except openai.OpenAIError:
            found["errors"].append(1)
            continue
        found["latency"].append(time.perf_counter() - start)
        found["first"].append(first)


def measure(url: str, key: str, questions: list[str], clients: int, per_client: int) -> dict[str, float]:
    found: dict[str, list[float]] = {"latency": [], "first": [], "errors": []}
    models = ["docent-retrieval", "docent-both"]
    threads = []
    for c in range(clients):
        asked = [(models[(c + i) % 2], questions[(c * per_client + i) % len(questions)]) for i in range(per_client)]
        threads.append(threading.Thread(target=client_session, args=(url, key, asked, found)))
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    lat, first = np.array(found["latency"] or [0.0]), np.array(found["first"] or [0.0])
    return {
        "answers_per_s": len(found["latency"]) / wall,
        "first_p50": float(np.percentile(first, 50)),
        "p50": float(np.percentile(lat, 50)),
        "p95": float(np.percentile(lat, 95)),
        "errors": len(found["errors"]),
    }


def run_engine(name: str, serve: list[str], workspace: Path, key: str, args: argparse.Namespace, log: Path) -> dict:
    port = free_port()
    command = [DOCENT, "serve", "--workspace", str(workspace), "--port", str(port), *serve]
    server = start(command, f"http://127.0.0.1:{port}/healthz", log)
    url = f"http://127.0.0.1:{port}/v1"
    questions = [q.question for q in evaluate.workspace_questions(Workspace(workspace).connect(), None, OWNER)]
    try:
        measure(url, key, questions, 2, 1)  # loads the models and the index
        results = {}
        for clients in args.clients:
            results[clients] = r = measure(url, key, questions, clients, args.per_client)
            print(
                f"{name:12s} {clients:3d} clients: {r['answers_per_s']:.2f} answers/s, first token p50 "
                f"{r['first_p50']:.2f} s, latency p50 {r['p50']:.2f} s p95 {r['p95']:.2f} s, errors {r['errors']}",
                flush=True,
            )
        return results
    finally:
        stop(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", required=True, help="an ingested workspace with a finished run")
    parser.add_argument("--clients", default="1,4,16,64", help="numbers of concurrent clients")
    parser.add_argument("--per-client", type=int, default=2, help="questions each client asks, one after another")
    parser.add_argument("--vllm-python", help="the python of a vLLM environment (make vllm: .venv-vllm/bin/python)")
    parser.add_argument("--llm-timeout", default="900", help="seconds `docent serve` waits for vLLM to begin an answer")
    args = parser.parse_args()
    args.clients = [int(c) for c in args.clients.split(",")]
    with tempfile.TemporaryDirectory(prefix="serve-load-") as tmp:
        workspace = Path(tmp) / "ws"
        shutil.copytree(args.workspace, workspace)
        run = runs.latest_finished(workspace)
        if run is None:
            raise SystemExit(f"{args.workspace} has no finished run: `docent tune` first")
        key = keys.create(Workspace(workspace).connect(), "serve_load")
        here = run_engine("in-process", [], workspace, key, args, Path(tmp) / "serve.log")
        if not args.vllm_python:
            return
        port = free_port()
        model = resolve_llm(run.settings.llm)
        command = [args.vllm_python, "-m", "vllm.entrypoints.openai.api_server", "--model", model, "--enable-lora",
                   "--max-lora-rank", "64", "--lora-modules", f"{run.adapter_name}={run.adapter}",
                   "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
        vllm = start(
            command,
            f"http://127.0.0.1:{port}/v1/models",
            Path(tmp) / "vllm.log",
            {"VLLM_CPU_KVCACHE_SPACE": "4"},
        )
        try:
            there = run_engine(
                "vllm",
                ["--llm-url", f"http://127.0.0.1:{port}/v1", "--llm-timeout", args.llm_timeout],
                workspace,
                key,
                args,
                Path(tmp) / "serve-vllm.log",
            )
        finally:
            stop(vllm)
        for clients in args.clients:
            ratio = here[clients]["answers_per_s"] / max(there[clients]["answers_per_s"], 1e-9)
            print(f"{clients:3d} clients: in-process answers {ratio:.2f}x as many per second as vLLM's CPU build")


if __name__ == "__main__":
    main()
