"""vLLM alone, without Docent in between: several requests at once with and without a LoRA adapter.

    python bench/vllm_adapters.py --workspace W --vllm-python .venv-vllm/bin/python [--at-once 4]

Starts vLLM with the embedded model and the workspace's newest run's adapter (`--lora-modules`), then sends the
same retrieval prompts (the questions of the sample company with the chunk retrieval finds) straight to it, N at
once: all to the base model, all to the adapter, and half each. Prints the seconds and answers per second.
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

import openai
from serve_load import free_port, start, stop  # bench/ is the script's folder, first on the path

from assistant import runs
from assistant.loader import resolve_llm
from assistant.prompt import retrieval_messages
from assistant.retrieve import Retriever

QUESTIONS = ["How many days of annual leave do employees earn per month?", "Who approves remote work abroad?",
             "How do I renew my VPN certificate?", "What is the expense limit for meals?"]  # fmt: skip


def at_once(client: openai.OpenAI, models: list[str], prompts: list[list[dict[str, str]]]) -> float:
    def one(model: str, messages: list[dict[str, str]]) -> None:
        client.chat.completions.create(model=model, messages=messages, max_tokens=48, temperature=0)  # type: ignore[call-overload]

    threads = [threading.Thread(target=one, args=(m, p)) for m, p in zip(models, prompts)]
    begin = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", required=True, help="an ingested workspace with a finished run")
    parser.add_argument("--vllm-python", required=True, help="the python of a vLLM environment (make vllm)")
    parser.add_argument("--at-once", type=int, default=4, help="requests sent together")
    args = parser.parse_args()
    workspace = Path(args.workspace)
    run = runs.latest_finished(workspace)
    if run is None:
        raise SystemExit(f"{workspace} has no finished run: `docent tune` first")
    retriever = Retriever(workspace)
    prompts = [retrieval_messages(q, retriever.search([q], 1)[0]) for q in QUESTIONS]
    prompts = [prompts[i % len(prompts)] for i in range(args.at_once)]
    port, model = free_port(), resolve_llm(run.settings.llm)
    command = [args.vllm_python, "-m", "vllm.entrypoints.openai.api_server", "--model", model, "--enable-lora",
               "--max-lora-rank", "64", "--lora-modules", f"adapter={run.adapter}", "--host", "127.0.0.1",
               "--port", str(port)]  # fmt: skip
    log = Path(f"/tmp/vllm-adapters-{port}.log")
    server = start(command, f"http://127.0.0.1:{port}/v1/models", log, {"VLLM_CPU_KVCACHE_SPACE": "4"})
    try:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="none", max_retries=0, timeout=900)
        at_once(client, [model], prompts[:1])  # warm-up
        n = args.at_once
        for label, models in (("base model", [model] * n), ("adapter", ["adapter"] * n),
                              ("half each", [model, "adapter"] * (n // 2) + [model] * (n % 2))):  # fmt: skip
            seconds = at_once(client, models, prompts)
            print(f"{n} at once, {label:10s}: {seconds:6.1f} s, {n / seconds:.2f} answers/s", flush=True)
    finally:
        stop(server)


if __name__ == "__main__":
    main()
