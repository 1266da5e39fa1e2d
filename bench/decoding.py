"""Which decoding keeps answers from looping without costing right ones? The ground for decoding greedily with
the loop stop (`LLM.stop_looping`, `metrics.unloop`) rather than with a repetition penalty.

    python bench/decoding.py --workspace DIR --questions FILE [--unanswerable FILE] [--limit N] [--mode retrieval]

Asks the same questions, with the prompts and relevance gate of `docent eval`, once per way of decoding: greedy
as it is, greedy with Docent's loop stop, and greedy with the penalties transformers offers against repeats
(`repetition_penalty`, which also penalises every token of the prompt, and `no_repeat_ngram_size`, which forbids a
4-gram of the prompt too: the very words of the source that an answer should copy). Prints, per way, `contains`
on the answerable questions, the share of all answers that loop (a 4-gram three times or more), the share cut
short by the loop stop, and the mean length in words.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

import numpy as np

from assistant import runs
from assistant.config import USES_ADAPTER, AnswerConfig
from assistant.evaluate import answer_tokens, batches, conversations, file_questions
from assistant.generate import LLM
from assistant.metrics import contains, length, loops, unloop
from assistant.retrieve import Retriever

WAYS: dict[str, dict[str, Any]] = {
    "greedy": {},
    "greedy + loop stop (Docent)": {"stop": True},
    "repetition_penalty 1.1": {"repetition_penalty": 1.1},
    "repetition_penalty 1.3": {"repetition_penalty": 1.3},
    "no_repeat_ngram_size 4": {"no_repeat_ngram_size": 4},
}


def decode(llm: LLM, prompts: list[Any], cap: int, tuned: bool, way: dict[str, Any]) -> list[str]:
    kwargs = {k: v for k, v in way.items() if k != "stop"}
    encoded = llm.encode_batch(prompts)
    if way.get("stop"):
        kwargs["stopping_criteria"] = llm.stop_looping(encoded["input_ids"].shape[1])
    with llm.answering(tuned) as model:
        out = model.generate(
            **encoded, max_new_tokens=cap, do_sample=False, pad_token_id=llm.tokenizer.pad_token_id, **kwargs
        )
    new = out[:, encoded["input_ids"].shape[1] :]
    return [t.strip() for t in llm.tokenizer.batch_decode(new, skip_special_tokens=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--unanswerable", type=Path, action="append", default=[])
    parser.add_argument("--limit", type=int, default=0, help="a seeded sample of this many answerable questions")
    parser.add_argument("--mode", default="retrieval", choices=("base", "retrieval", "tuned", "both"))
    args = parser.parse_args()
    questions = file_questions(args.questions)
    if args.limit:
        questions = random.Random(0).sample(questions, min(args.limit, len(questions)))
    for path in args.unanswerable:
        questions += file_questions(path, unanswerable=True)
    cfg, tuned = AnswerConfig(), args.mode in USES_ADAPTER
    run = runs.find(args.workspace, None) if tuned else None  # the newest finished run, as `docent eval` takes
    llm = LLM(run.settings.llm, adapter=run.adapter) if run else LLM(cfg.llm)
    retriever = Retriever(args.workspace)
    prompts, _ = conversations(args.mode, questions, retriever, cfg)
    asked = [(q, p) for q, p in zip(questions, prompts, strict=True) if p is not None]  # as the gate lets through
    print(
        f"{len(asked)} of {len(questions)} questions asked ({sum(q.answer is not None for q, _ in asked)} "
        f"answerable), mode {args.mode}\n"
    )
    print("| decoding | contains | loops | cut by the loop stop | words |\n|---|---|---|---|---|")
    for name, way in WAYS.items():
        answers: dict[str, str] = {}
        by_cap: dict[int, list[tuple[Any, Any]]] = {}
        for q, p in asked:
            by_cap.setdefault(answer_tokens(q.question, cfg.max_new_tokens), []).append((q, p))
        for cap, group in by_cap.items():
            for batch in batches(group, 16):
                for (q, _), text in zip(batch, decode(llm, [p for _, p in batch], cap, tuned, way), strict=True):
                    answers[q.question] = text
        cut = (
            {k: unloop(v) for k, v in answers.items()}
            if way.get("stop")
            else {k: (v, False) for k, v in answers.items()}
        )
        right = [contains(cut[q.question][0], q.answer) for q, _ in asked if q.answer is not None]
        print(
            f"| {name} | {np.mean(right):.3f} | {np.mean([loops(t) for t, _ in cut.values()]):.3f} | "
            f"{np.mean([c for _, c in cut.values()]):.3f} | {np.mean([length(t) for t, _ in cut.values()]):.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
