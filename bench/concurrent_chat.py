"""Many people chatting at once: answers per second and latency, N sessions beside one session alone.

    python bench/concurrent_chat.py [--sessions 1,4,8] [--questions 3] [--mode retrieval]

Each session is a thread asking its questions one after another through the web app's engine
(`assistant.service.Docent`, as every browser session of the Streamlit server does), on the sample corpus with
the embedded models. Measured with the batcher (questions asked together are answered in one batch) and, for
the same number of sessions, with batches of one (answers one after another), in one process.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from assistant.config import AnswerConfig
from assistant.service import Docent, on_own_thread
from ingest.config import IngestConfig
from ingest.pipeline import ingest
from ingest.records import OWNER

ROOT = Path(__file__).resolve().parent.parent


def session(app: Docent, questions: list[str], mode: str, latencies: list[float], rates: list[float]) -> None:
    for question in questions:
        start = time.perf_counter()
        asking = app.ask(question, mode, cfg=AnswerConfig(max_new_tokens=48), access=OWNER)
        for _ in asking.text():
            pass
        rates.append(asking.answer().timing.tokens_per_s)
        latencies.append(time.perf_counter() - start)


def measure(
    app: Docent, sessions: int, questions: list[str], per_session: int, mode: str
) -> tuple[float, list[float], list[float]]:
    latencies: list[float] = []
    rates: list[float] = []
    threads = [
        threading.Thread(
            target=session, args=(app, questions[i * per_session : (i + 1) * per_session], mode, latencies, rates)
        )
        for i in range(sessions)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sessions * per_session / (time.perf_counter() - start), latencies, rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", default="1,4,8")
    parser.add_argument("--questions", type=int, default=3, help="questions each session asks, one after another")
    parser.add_argument("--mode", default="retrieval")
    args = parser.parse_args()
    fixture = ROOT / "tests" / "fixtures" / "sample_questions.jsonl"
    pool = [json.loads(line)["question"] for line in fixture.read_text().splitlines()]
    with tempfile.TemporaryDirectory() as tmp:
        # as in the web app, where pages ingest on their own threads: see service.on_own_thread
        on_own_thread(
            lambda: ingest([ROOT / "data" / "sample"], IngestConfig(pairs=False), Path(tmp) / "ws", progress=False)
        )
        app = Docent(Path(tmp) / "ws")
        batcher = app.batcher()
        session(app, pool[:1], args.mode, [], [])  # warm-up
        rows = []
        for n in [int(x) for x in args.sessions.split(",")]:
            for batched in [True] if n == 1 else [False, True]:
                batcher.max_batch = 8 if batched else 1
                rows.append((n, batched, *measure(app, n, pool, args.questions, args.mode)))
    print(f"\n{args.mode} answers (up to 48 tokens), {args.questions} questions per session, sample corpus\n")
    print(
        f"{'sessions':>8s} {'answering':>18s} {'answers/s':>10s} {'latency p50':>12s} {'p95':>8s} "
        f"{'tokens/s of one answer p50':>27s}"
    )
    for n, batched, rate, latencies, speeds in rows:
        how = "batched" if batched else "one after another"
        print(
            f"{n:8d} {how:>18s} {rate:10.2f} {np.percentile(latencies, 50):10.1f} s "
            f"{np.percentile(latencies, 95):6.1f} s {np.median(speeds):27.1f}"
        )


if __name__ == "__main__":
    main()
