"""Which of Docent's held-out questions favour the adapter? A run's `both` against retrieval, template by template.

    python bench/heldout_templates.py --workspace WORKSPACE [--run RUN_ID] [--out FILE.json]

Every held-out question of the workspace (never trained on) is answered in `retrieval` (the base model reading the
top chunk) and in `both` (the run's adapter reading it), answers up to 64 tokens as the run's own check gives
them, and `contains` is printed for each phrasing template ("passive": "Who directed AKA?", "kind": "What kind of
film is AKA?", "in-place": the sentence with the fact asked in its place…), with the questions where the two
modes disagree. A template where `both` leads by far while the benchmark's questions, worded by someone else, show
no such lead is one whose answers are the very unit the adapter was trained to give.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant import runs
from assistant.config import AnswerConfig
from assistant.evaluate import answer_all, workspace_questions
from assistant.generate import LLM
from assistant.retrieve import Retriever
from ingest.records import OWNER
from ingest.store import Workspace

MODES = ("retrieval", "both")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--run", help="run id (default: the latest finished run)")
    parser.add_argument("--out", type=Path, help="write every answer and the table here as JSON")
    args = parser.parse_args()
    run = runs.find(args.workspace, args.run) if args.run else runs.latest_finished(args.workspace)
    questions = workspace_questions(Workspace(args.workspace).connect(), None, OWNER)
    llm = LLM(run.settings.llm, adapter=run.adapter)
    retriever = Retriever(args.workspace)
    cfg = AnswerConfig(llm=run.settings.llm, max_new_tokens=64)
    answered = {mode: answer_all(questions, mode, llm, retriever, cfg) for mode in MODES}

    table = {}
    for template in [*sorted({q.template for q in questions}), "all"]:
        rows = [i for i, q in enumerate(questions) if template in ("all", q.template)]
        table[template] = {"n": len(rows)} | {
            mode: sum(answered[mode][i].scores["contains"] for i in rows) / len(rows) for mode in MODES
        }
    print(f"Run {run.id}, {len(questions)} held-out questions, contains:")
    print(f"{'template':12} {'n':>4} {'retrieval':>10} {'both':>6}")
    for template, row in table.items():
        print(f"{template:12} {row['n']:>4} {row['retrieval']:>10.3f} {row['both']:>6.3f}")
    for i, q in enumerate(questions):
        got = [answered[mode][i] for mode in MODES]
        if got[0].scores["contains"] != got[1].scores["contains"]:
            winner = "both" if got[1].scores["contains"] else "retrieval"
            print(
                f"  {winner:9} {q.template:9} {q.question[:70]!r} wants {q.answer[:40]!r}; both said "
                f"{got[1].answer[:40]!r}"
            )
    if args.out:
        answers = {
            mode: [
                {
                    "question": r.question,
                    "reference": r.reference,
                    "answer": r.answer,
                    "contains": r.scores["contains"],
                    "template": q.template,
                }
                for r, q in zip(answered[mode], questions)
            ]
            for mode in MODES
        }
        args.out.write_text(json.dumps({"run": run.id, "table": table, "answers": answers}, indent=1))


if __name__ == "__main__":
    main()
