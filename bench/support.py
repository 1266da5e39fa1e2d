"""Does support in meaning tell a right answer from a wrong one? The ground for `grounding.CLOSE_IN_MEANING`.

    python bench/support.py EVAL_DIR --questions FILE [--workspace DIR]

Reads the answers of an evaluation (EVAL_DIR/answers.jsonl, as `docent eval` keeps them) and the question file
they answer. For each mode that read sources: how many answers the words of a source sentence support, split by
right and wrong (`contains`); and for the answers no sentence supports in words, the cosine similarity of the
answer with its closest source sentence (the embedder of the workspace), by percentile, right against wrong.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np

from assistant.config import READS_SOURCES
from assistant.evaluate import file_questions
from assistant.grounding import support
from assistant.metrics import abstains, contains
from assistant.retrieve import Source
from ingest.models import Embedder
from ingest.sentences import split_sentences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("eval", type=Path, help="an evaluation folder, with answers.jsonl")
    parser.add_argument("--questions", type=Path, required=True, help="the question file the evaluation answered")
    parser.add_argument("--embedder", default="embedded")
    args = parser.parse_args()
    references = {q.question: q.answer for q in file_questions(args.questions)}
    embedder = Embedder(args.embedder)
    answers = [json.loads(line) for line in (args.eval / "answers.jsonl").read_text(encoding="utf-8").splitlines()]
    latest = {(a["mode"], a["question"]): a for a in answers}  # the last record of each, as a resumed run keeps
    for mode in [m for m in READS_SOURCES if any(k[0] == m for k in latest)]:
        counts: Counter[str] = Counter()
        closeness: dict[bool, list[float]] = {True: [], False: []}
        for (m, question), item in latest.items():
            reference = references.get(question)
            sources = [Source(**s) for s in item["sources"]]
            if m != mode or reference is None or not sources or abstains(item["answer"]):
                continue
            right = bool(contains(item["answer"], reference))
            found = support(question, item["answer"], sources)
            counts[f"{'right' if right else 'wrong'}, {'supported' if found else 'not supported'} in words"] += 1
            if not found:
                sentences = [t for s in sources for t in split_sentences(s.text)]
                vectors = embedder.encode([item["answer"], *sentences])
                closeness[right].append(float((vectors[1:] @ vectors[0]).max()))
        print(f"\n{mode}: {dict(sorted(counts.items()))}")
        for right, values in closeness.items():
            if values:
                shown = " ".join(f"{v:.2f}" for v in np.percentile(values, [10, 25, 50, 75, 90]))
                print(
                    f"  not supported in words, {'right' if right else 'wrong'} ({len(values)}): closest sentence's "
                    f"cosine at the 10th, 25th, 50th, 75th, 90th percentile {shown}"
                )


if __name__ == "__main__":
    main()
