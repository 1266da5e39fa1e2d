"""Time to first token and decoding speed of one retrieval answer: Docent beside a plain fp32 `generate`.

    python bench/answer_speed.py [--questions 8] [--rounds 2]

Both answer the same film questions with the three chunks retrieval returns, in the same prompt, greedy, up to 48
new tokens, alternating in one process: the baseline is the embedded model loaded as transformers loads it
(float32) and called with `model.generate`; Docent is `LLM.stream`, as `docent ask` and the web app use it. The
first token is timed from the tokenised prompt; tokens per second are counted after the first token.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM

from assistant.generate import LLM, Timing
from assistant.loader import resolve_llm
from assistant.prompt import retrieval_messages
from assistant.retrieve import Retriever
from ingest.config import IngestConfig
from ingest.pipeline import ingest

ROOT = Path(__file__).resolve().parent.parent
FILM = ROOT.parent / "shared" / "benchmarks" / "film"
NEW = 48


def plain(model, tokenizer, messages) -> tuple[float, float, str]:  # type: ignore[no-untyped-def]
    """Baseline: first token from a one-token generate, the answer from a full generate (fp32 throughout)."""
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.inference_mode():
        start = time.perf_counter()
        model.generate(**inputs, max_new_tokens=1, do_sample=False)
        first = time.perf_counter() - start
        start = time.perf_counter()
        out = model.generate(**inputs, max_new_tokens=NEW, do_sample=False)
        total = time.perf_counter() - start
    new = out.shape[1] - inputs["input_ids"].shape[1]
    rate = (new - 1) / (total - first) if new > 1 and total > first else 0.0
    return first, rate, tokenizer.decode(out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True).strip()


def ours(llm: LLM, messages) -> tuple[float, float, str]:  # type: ignore[no-untyped-def]
    timing = Timing()
    text = "".join(llm.stream(messages, NEW, timing))
    return timing.first_token_s, timing.tokens_per_s, text.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="Unfeasible length constraints")  # the one-token first-token calls
    questions = [json.loads(line)["question"] for line in (FILM / "questions.jsonl").read_text().splitlines()]
    questions = questions[:: len(questions) // args.questions][: args.questions]
    with tempfile.TemporaryDirectory() as tmp:
        ingest([FILM / "docs"], IngestConfig(pairs=False), Path(tmp) / "ws", progress=False)
        retriever = Retriever(Path(tmp) / "ws")
        conversations = [retrieval_messages(q, s) for q, s in zip(questions, retriever.search(questions, k=3))]
    llm = LLM("embedded")
    baseline = AutoModelForCausalLM.from_pretrained(resolve_llm("embedded"), dtype=torch.float32).eval()
    prompt_tokens = statistics.mean(llm.encode(m)["input_ids"].shape[1] for m in conversations)  # type: ignore[attr-defined]
    plain(baseline, llm.tokenizer, conversations[0])  # warm-up, both
    ours(llm, conversations[0])
    results: dict[str, list[tuple[float, float]]] = {"plain fp32 generate": [], "Docent": []}
    baseline.generation_config.min_new_tokens = NEW  # speed is timed on answers of the full length, on both sides
    stop_ids, llm.stop_ids = llm.stop_ids, set  # type: ignore[method-assign]
    for _ in range(args.rounds):
        for messages in conversations:
            first, rate, _ = plain(baseline, llm.tokenizer, messages)
            results["plain fp32 generate"].append((first, rate))
            first, rate, _ = ours(llm, messages)
            results["Docent"].append((first, rate))
    baseline.generation_config.min_new_tokens, llm.stop_ids = None, stop_ids  # type: ignore[method-assign]
    answers = [(plain(baseline, llm.tokenizer, m)[2], ours(llm, m)[2]) for m in conversations]
    threads = torch.get_num_threads()
    print(
        f"\n{len(conversations)} retrieval answers x {args.rounds} rounds, prompts of {prompt_tokens:.0f} tokens "
        f"(3 chunks), {NEW} new tokens; Docent's weights in {llm.precision}; {threads} threads\n"
    )
    print(f"{'':22s} {'first token p50':>16s} {'p95':>7s} {'tokens/s p50':>13s}")
    for name, found in results.items():
        firsts, rates = [f for f, _ in found], [r for _, r in found]
        print(
            f"{name:22s} {statistics.median(firsts):14.2f} s {sorted(firsts)[int(0.95 * (len(firsts) - 1))]:5.2f} s "
            f"{statistics.median(rates):13.1f}"
        )
    same = sum(a == b for a, b in answers)
    print(f"\nanswers as the model ends them: {same} of {len(answers)} identical to the float32 ones")
    for question, (a, b) in zip(questions, answers):
        if a != b:
            print(f"  {question}\n    float32: {a!r}\n    Docent:  {b!r}")


if __name__ == "__main__":
    main()
