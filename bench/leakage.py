"""Does anything of a restricted collection reach a person who may not read it? Every mode, every surface.

    python bench/leakage.py [--questions 20] [--epochs 1] [--max-pairs 0] [--cli-questions 3]

The sample corpus in two collections: data/sample/hr in `hr`, the rest in `general`. alice is in the group hr
(granted hr), bob reads `general` alone. Two runs are tuned: one on `general` alone, then one on both collections
(it carries HR facts in its weights), the newer: alice's tuned modes answer with it, bob's must fall back. Then
the HR questions (the hand-written ones on HR documents, and Docent's
held-out questions on them) are asked by bob in base, tuned, retrieval and both:
- through the engine the web app and the API share (`Docent.ask`, as the chat page calls it),
- through `docent serve` over HTTP (the `openai` client, and /v1/search),
- through the CLI (`docent ask --user bob --json` for the first --cli-questions, `docent search --user bob`).
A leak is an HR document among the sources, the passages pointed to, or the search results shown to bob, or an
answer given to bob by a run that learnt HR; the bench exits 1 on any. bob's `contains` on the HR questions is
printed beside the base model's (what a model guesses without the documents) and alice's (the questions are
answerable to someone who may read them).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import uvicorn

from assistant import api, keys, people, runs
from assistant.cli import main as cli
from assistant.config import AnswerConfig, TuneConfig
from assistant.evaluate import file_questions, sample, workspace_questions
from assistant.metrics import score
from assistant.service import Docent
from assistant.tune import tune
from ingest import store
from ingest.config import IngestConfig
from ingest.pipeline import ingest
from ingest.records import OWNER
from ingest.store import Workspace

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
HAND_WRITTEN = ROOT / "tests" / "fixtures" / "sample_questions.jsonl"
MODES = ("base", "tuned", "retrieval", "both")


def build(ws: Path, epochs: float, max_pairs: int) -> tuple[runs.Run, runs.Run]:
    ingest([SAMPLE], IngestConfig(), ws, progress=False)
    ingest([SAMPLE / "hr"], IngestConfig(collection="hr"), ws, progress=False)
    people.add_user(ws, "alice", groups=["hr"])
    people.add_user(ws, "bob")
    people.grant(ws, "hr", "hr")
    tuned = []
    for collections in ("general", "general,hr"):
        start = time.perf_counter()
        cfg = TuneConfig(epochs=epochs, max_pairs=max_pairs, score_questions=0, collections=collections)
        run = tune(cfg, ws, progress=False)
        print(f"run {run.id} on {collections}: {time.perf_counter() - start:.0f} s", flush=True)
        tuned.append(run)
    return tuned[1], tuned[0]


def hr_questions(ws: Path, n: int) -> list[tuple[str, str]]:
    hand = [(q.question, q.answer or "") for q in file_questions(HAND_WRITTEN) if q.doc.startswith("hr/")]
    db = Workspace(ws).connect()
    hr_docs = {d.name for d in store.documents(db, OWNER) if d.collection == "hr"}
    held = [(q.question, q.answer or "") for q in workspace_questions(db, None, OWNER) if q.doc in hr_docs]
    return (hand + sample(held, max(n - len(hand), 0), 0))[:n]


class Tally:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str], dict[str, Any]] = {}

    def add(self, surface: str, who: str, mode: str, answer: str, reference: str, shown: list[str], run: str | None,
            hr_docs: set[str], hr_runs: set[str]) -> None:  # fmt: skip
        row = self.rows.setdefault((surface, who, mode), {"n": 0, "contains": 0, "sources": 0, "run": 0})
        row["n"] += 1
        row["contains"] += score(answer, reference)["contains"]
        row["sources"] += bool(set(shown) & hr_docs)
        row["run"] += run in hr_runs

    def leaks(self, who: str) -> int:
        return sum(r["sources"] + r["run"] for (_, w, _), r in self.rows.items() if w == who)


def by_engine(docent: Docent, who: Any, mode: str, question: str) -> tuple[str, list[str], str | None]:
    asking = docent.ask(question, mode, cfg=AnswerConfig(max_new_tokens=48), access=who)
    "".join(asking.text())
    result = asking.answer()
    return result.text, [s.doc for s in result.sources + result.nearby], asking.run


def by_cli(ws: Path, mode: str, question: str) -> tuple[str, list[str], str | None]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli(["ask", question, "--mode", mode, "--user", "bob", "--json", "--workspace", str(ws),
                    "--max-new-tokens", "48"])  # fmt: skip
    if code != 0:  # refused (no run bob may use for tuned modes): nothing shown
        return "", [], None
    shown = json.loads(out.getvalue())
    return shown["answer"], [s["doc"] for s in shown["sources"] + shown["nearby"]], None


@contextlib.contextmanager
def serving(docent: Docent) -> Iterator[str]:
    """`docent serve` on a free port of this machine, in a thread: its URL."""
    server = uvicorn.Server(uvicorn.Config(api.create_app(docent), host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=20, help="HR questions asked (hand-written first)")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--max-pairs", type=int, default=0, help="train each run on this many pairs (0 = all)")
    parser.add_argument("--cli-questions", type=int, default=3, help="asked through the CLI too (it loads models)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        everything, general = build(ws, args.epochs, args.max_pairs)
        db = Workspace(ws).connect()
        hr_docs = {d.name for d in store.documents(db, OWNER) if d.collection == "hr"}
        hr_runs = {everything.id}
        asked = hr_questions(ws, args.questions)
        bob, alice = store.access_of(db, "bob"), store.access_of(db, "alice")
        docent = Docent(ws)
        tally = Tally()
        for mode in MODES:
            for question, reference in asked:
                for who, name in ((bob, "bob"), (alice, "alice"), (OWNER, "owner")):
                    if name == "owner" and mode != "base":
                        continue
                    try:
                        text, shown, run = by_engine(docent, who, mode, question)
                    except ValueError:  # no run this person may use: nothing answered, nothing shown
                        text, shown, run = "", [], None
                    tally.add("engine", name, mode, text, reference, shown, run, hr_docs, hr_runs)
        key = keys.create(Workspace(ws).connect(), "bob's", "bob")
        with serving(docent) as url:
            client = openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=300)
            for mode in MODES:
                for question, reference in asked:
                    reply = client.chat.completions.create(
                        model=f"docent-{mode}", messages=[{"role": "user", "content": question}], max_tokens=48
                    )
                    extra = reply.model_extra["docent"]  # type: ignore[index]
                    shown = [s["doc"] for s in extra["sources"] + extra["nearby"]]
                    text = reply.choices[0].message.content or ""
                    tally.add("api", "bob", mode, text, reference, shown, extra["run"], hr_docs, hr_runs)
            for question, _ in asked:
                request = urllib.request.Request(
                    url + "/v1/search",
                    data=json.dumps({"query": question, "k": 5}).encode(),
                    headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
                )
                with urllib.request.urlopen(request, timeout=60) as response:
                    found = [r["doc"] for r in json.loads(response.read())["results"]]
                tally.add("api", "bob", "search", "", "", found, None, hr_docs, hr_runs)
        for mode in MODES:
            for question, reference in asked[: args.cli_questions]:
                text, shown, run = by_cli(ws, mode, question)
                tally.add("cli", "bob", mode, text, reference, shown, run, hr_docs, hr_runs)
        for question, _ in asked:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                cli(["search", question, "--user", "bob", "--json", "--workspace", str(ws)])
            shown = [r["doc"] for r in json.loads(out.getvalue())["results"]]
            tally.add("cli", "bob", "search", "", "", shown, None, hr_docs, hr_runs)

    print(f"\n{len(asked)} HR questions; runs: {everything.id} (general+hr), {general.id} (general)")
    print(f"{'surface':8s} {'who':6s} {'mode':10s} {'n':>4s} {'HR sources shown':>16s} {'by an HR run':>12s} "
          f"{'contains':>8s}")  # fmt: skip
    for (surface, who, mode), r in sorted(tally.rows.items()):
        print(f"{surface:8s} {who:6s} {mode:10s} {r['n']:4d} {r['sources']:16d} {r['run']:12d} "
              f"{r['contains'] / r['n']:8.3f}")  # fmt: skip
    leaks = tally.leaks("bob")
    print(f"\nleaks to bob: {leaks} (must be 0). bob's contains is what a model answers without the HR documents;")
    print("compare it with the owner's base mode (no documents at all) and alice's (who may read them).")
    sys.exit(1 if leaks else 0)


if __name__ == "__main__":
    main()
