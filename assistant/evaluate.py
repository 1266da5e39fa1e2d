"""Every answer mode on the same questions, scored: the core of `docent eval`.

Answers are generated in batches (greedy, the same prompts as `docent ask`), then scored with `metrics.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from assistant.config import READS_SOURCES, USES_ADAPTER, AnswerConfig
from assistant.generate import LLM
from assistant.metrics import score
from assistant.prompt import base_messages, retrieval_messages
from assistant.retrieve import Retriever, Source


@dataclass
class Result:
    question: str
    reference: str
    mode: str
    answer: str
    scores: dict[str, float]
    sources: list[Source] = field(default_factory=list)
    doc: str = ""


def batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def answer_all(
    questions: list[dict[str, str]],
    mode: str,
    llm: LLM,
    retriever: Retriever | None,
    cfg: AnswerConfig,
    batch_size: int = 16,
    progress: bool = True,
) -> list[Result]:
    from tqdm import tqdm

    results: list[Result] = []
    with tqdm(total=len(questions), desc=f"Answering ({mode})", unit="q", disable=not progress) as bar:
        for batch in batches(questions, batch_size):
            texts = [q["question"] for q in batch]
            found: list[list[Source]] = [[] for _ in batch]
            if mode in READS_SOURCES:
                if retriever is None:
                    raise ValueError(f"{mode} mode needs an ingested workspace")
                found = retriever.search(texts, k=cfg.top_k, fusion=cfg.fusion)
                conversations = [retrieval_messages(t, s) for t, s in zip(texts, found)]
            else:
                conversations = [base_messages(t) for t in texts]
            answers = llm.generate_batch(conversations, cfg.max_new_tokens, tuned=mode in USES_ADAPTER)
            for q, a, s in zip(batch, answers, found):
                results.append(Result(q["question"], q["answer"], mode, a, score(a, q["answer"]), s, q.get("doc", "")))
            bar.update(len(batch))
    return results


def summary(results: list[Result]) -> dict[str, float]:
    if not results:
        return {}
    keys = results[0].scores
    out = {k: sum(r.scores[k] for r in results) / len(results) for k in keys}
    out["n"] = len(results)
    return out
