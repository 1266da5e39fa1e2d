"""How the untuned model should be asked to read its sources: retrieval answers with a few prompts, side by side.

    python bench/reader_prompt.py --workspace W --questions FILE [--limit 300] [--seed 0]

Answers the same seeded sample of questions in `retrieval` mode with today's prompt and with each variant below,
in one process, and prints contains, token F1 and answer length for each, with the paired count against today's
prompt (right only with the variant, right only with today's). Run it on more than one corpus before changing the
default: a prompt must not be chosen on the film set alone.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from assistant import evaluate
from assistant.config import AnswerConfig
from assistant.generate import LLM
from assistant.prompt import DONT_KNOW, RETRIEVAL_SYSTEM, retrieval_messages
from assistant.retrieve import Retriever, Source

Messages = list[dict[str, str]]


def _blocks(sources: list[Source]) -> str:
    return "\n\n".join(f"[{s.rank}] {s.context}\n{s.text}" for s in reversed(sources))


def question_twice(question: str, sources: list[Source]) -> Messages:
    """The question before the sources too, so the model reads them knowing what it looks for."""
    user = f"Question: {question}\n\nSources:\n{_blocks(sources)}\n\nQuestion: {question}"
    return [{"role": "system", "content": RETRIEVAL_SYSTEM}, {"role": "user", "content": user}]


def source_words(question: str, sources: list[Source]) -> Messages:
    system = (
        "You answer questions using only the numbered sources you are given. Answer in a short phrase, "
        f'using the words of the source. If the sources do not contain the answer, reply "{DONT_KNOW}"'
    )
    return [{"role": "system", "content": system}, *retrieval_messages(question, sources)[1:]]


EXAMPLE = [  # a worked turn with no domain words: an office's opening hours
    {
        "role": "user",
        "content": "Sources:\n[1] Front desk\nThe front desk is open from 8 am to 5 pm on weekdays. "
        "Visitors sign in with their photo ID.\n\nQuestion: Until when is the front desk open "
        "on weekdays?",
    },
    {"role": "assistant", "content": "5 pm"},
]


def one_example(question: str, sources: list[Source]) -> Messages:
    system, user = retrieval_messages(question, sources)
    return [system, *EXAMPLE, user]


VARIANTS = {
    "today": retrieval_messages,
    "question twice": question_twice,
    "source words": source_words,
    "one example": one_example,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, required=True, help="an ingested workspace")
    parser.add_argument("--questions", type=Path, required=True, help="a JSONL of questions with answers")
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    questions = evaluate.sample(evaluate.file_questions(args.questions), args.limit, args.seed)
    retriever, llm = Retriever(args.workspace), LLM("embedded")
    rows = []
    for name, prompt in VARIANTS.items():
        evaluate.retrieval_messages = prompt  # type: ignore[attr-defined]
        start = time.perf_counter()
        results = evaluate.answer_all(questions, "retrieval", llm, retriever, AnswerConfig())
        rows.append((name, results, evaluate.summarise(results, args.seed), time.perf_counter() - start))
        print(f"{name}: contains {rows[-1][2]['contains']:.3f}", flush=True)
    print(f"\n{len(questions)} questions of {args.questions} (seed {args.seed}), retrieval mode, {llm.precision}\n")
    print(
        f"{'prompt':16s} {'contains':>8s} {'interval':>15s} {'F1':>6s} {'words':>6s} {'+':>4s} {'-':>4s} {'time':>6s}"
    )
    today = rows[0][1]
    for name, results, s, seconds in rows:
        low, high = s["intervals"]["contains"]
        gained = sum(1 for r, t in zip(results, today) if r.scores["contains"] and not t.scores["contains"])
        lost = sum(1 for r, t in zip(results, today) if t.scores["contains"] and not r.scores["contains"])
        print(
            f"{name:16s} {s['contains']:8.3f} [{low:.3f}, {high:.3f}] {s['f1']:6.3f} {s['length']:6.1f} "
            f"{gained:4d} {lost:4d} {seconds:5.0f}s"
        )


if __name__ == "__main__":
    main()
