"""`docent eval`: every answer mode on the same questions, scored side by side.

    docent eval [--questions FILE] [--limit N] [--seed S] [--modes base,tuned,retrieval,both,oracle] [--out DIR]

Questions come from the workspace's held-out set (in slices: questions on trained documents, and on documents
the adapter never saw) or from a JSONL file with `question`, `answer` and optionally `doc`; an `answer` of null
(or `"answerable": false`) marks a question the documents do not answer, scored on whether each mode abstained
or invented one (`--unanswerable FILE` adds a whole file of them, such as another corpus's questions). Answers are
generated in batches with the same prompts and relevance gate as `docent ask`, kept in DIR/answers.jsonl as they
come (an interrupted evaluation goes on where it stopped), then scored (`metrics.py`), with bootstrap intervals, a
paired table, retrieval recall, what supports the answers (`grounding.py`) and latency. The report is written as
DIR/report.json and DIR/report.html, and kept under WORKSPACE/evals/.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from assistant import report
from assistant.answer import Answering, holds
from assistant.config import READS_SOURCES, USES_ADAPTER, AnswerConfig, check_question
from assistant.generate import Engine, Timing
from assistant.grounding import NEARBY, NOT_COVERED, gate, support, unsupported
from assistant.metrics import HEADLINE, abstains, score, unloop
from assistant.prompt import base_messages, retrieval_messages
from assistant.results import Question, Result
from assistant.retrieve import Retriever, Source
from ingest import store
from ingest.records import Access

ALL_MODES = ("base", "tuned", "retrieval", "both", "oracle")
LATENCY_SAMPLE = 12  # questions answered one at a time, streaming, to time the first token and the whole answer


# A question that asks for a fact (a name, a date, a number, a kind) is answered in a few words; past 64 tokens
# a model only rambles on, and one rambling answer holds its whole batch. Other questions get the chat's limit.
FACT_TOKENS = 64
ASKS_FOR_A_FACT = re.compile(
    r"^(?:who|whom|whose|when|where|which|how (?:many|much|long|old|far|often)|(?:in|on|at|since|from) (?:what|which)"
    r"|what (?:year|date|time|day|month|number|percentage|genre|language|kind|type|company|country|city|nationality))"
    r"\b",
    re.IGNORECASE,
)


def answer_tokens(question: str, longest: int) -> int:
    return min(longest, FACT_TOKENS) if ASKS_FOR_A_FACT.match(question.strip()) else longest


def batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Questions ---------------------------------------------------------------------------------------------


def file_questions(path: Path, unanswerable: bool = False) -> list[Question]:
    """JSONL with `question` and `answer` (and optionally `doc`); a bad line is an error naming it. `answer: null` or
    `"answerable": false` marks a question the documents do not answer; `unanswerable` marks every question so (a
    question about another corpus, asked of this one)."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as err:
            raise ValueError(f"{path}:{number}: not JSON ({err}); write one JSON object a line") from err
        if not isinstance(item, dict):
            raise ValueError(f"{path}:{number}: not a JSON object; write one object a line")
        unanswered = unanswerable or item.get("answerable") is False or ("answer" in item and item["answer"] is None)
        missing = [k for k in ("question", "answer") if not str(item.get(k, "")).strip()]
        if missing and (missing != ["answer"] or not unanswered):
            raise ValueError(
                f'{path}:{number}: no "{missing[0]}" field; each line needs "question" and "answer" '
                "(null for a question the documents do not answer)"
            )
        try:
            check_question(str(item["question"]))
        except ValueError as err:
            raise ValueError(f"{path}:{number}: {err}") from err
        answer = None if unanswered else str(item["answer"])
        out.append(Question(str(item["question"]), answer, str(item.get("doc", "")) if answer is not None else ""))
    if not out:
        raise ValueError(f"{path} holds no questions")
    return out


def workspace_questions(db: sqlite3.Connection, trained: dict[str, str] | None, access: Access) -> list[Question]:
    """The held-out questions on what `access` may read; those on documents the adapter never saw (kept out, or
    added or changed since the run in `trained`, {path: sha256}) form their own slice."""
    docs = {d.id: d for d in store.documents(db, access)}
    out = []
    for p in store.pairs(db, access, ("heldout", "unseen")):
        doc = docs[p.doc_id]
        unseen = p.split == "unseen" or (trained is not None and trained.get(doc.path) != doc.sha256)
        out.append(
            Question(
                p.question,
                p.answer,
                p.document,
                p.chunk_id,
                "unseen documents" if unseen else "trained documents",
                p.template,
            )
        )
    return out


def sample(questions: list[Question], limit: int, seed: int) -> list[Question]:
    if not limit or limit >= len(questions):
        return questions
    return random.Random(seed).sample(questions, limit)


# Answering ---------------------------------------------------------------------------------------------


def oracle_sources(retriever: Retriever, questions: list[Question]) -> list[list[Source]]:
    """The chunk that holds each question's answer: its own chunk when known, else the best chunk of its
    document. The base model reading it is the ceiling that retrieval can reach."""
    out: list[list[Source]] = []
    found = retriever.search([q.question for q in questions], k=50)
    for q, hits in zip(questions, found):
        match = [s for s in hits if (q.chunk_id is not None and s.chunk_id == q.chunk_id) or _same_doc(s.doc, q.doc)]
        if not match and q.chunk_id is not None:
            match = retriever.chunks([q.chunk_id])
        out.append([dataclasses.replace(match[0], rank=1)] if match else [])
    return out


def same_reading(
    questions: list[Question], retrieval: list[Result], retriever: Retriever, cfg: AnswerConfig
) -> dict[str, dict[str, Any]]:
    """The oracle's answers that retrieval already gave: where retrieval read one chunk and it is the oracle's,
    the prompt is the same, so is the answer (film set: 298 of 300 questions, all 298 answers identical when
    they were still asked twice)."""
    if cfg.top_k != 1:
        return {}
    out = {}
    for q, r, oracle in zip(questions, retrieval, oracle_sources(retriever, questions), strict=True):
        if oracle and len(r.sources) == 1 and r.sources[0].chunk_id == oracle[0].chunk_id:
            out[q.question] = {"answer": r.answer, "sources": [source_json(oracle[0])]}
    return out


def _same_doc(name: str, doc: str) -> bool:
    """Whether a source's document is `doc`, which a question file may give as a bare file name."""
    return bool(doc) and (name == doc or Path(name).name == Path(doc).name)


def conversations(
    mode: str, questions: list[Question], retriever: Retriever | None, cfg: AnswerConfig
) -> tuple[list[list[dict[str, str]] | None], list[list[Source]]]:
    """The prompt of each question in `mode` and the sources it reads; no prompt (None) where the relevance gate
    finds no source about the question, as `answer` does. The oracle is never gated: it is the ceiling."""
    texts = [q.question for q in questions]
    if mode == "oracle":
        if retriever is None:
            raise ValueError("oracle mode needs an ingested workspace")
        found = oracle_sources(retriever, questions)
        return [retrieval_messages(t, s) for t, s in zip(texts, found)], found
    if mode not in READS_SOURCES:
        return [base_messages(t) for t in texts], [[] for _ in texts]
    if retriever is None:
        raise ValueError(f"{mode} mode needs an ingested workspace")
    found = retriever.search(texts, k=max(cfg.top_k, NEARBY), fusion=cfg.fusion)
    messages = [
        None if gate(t, s, retriever, cfg) else retrieval_messages(t, s[: cfg.top_k])
        for t, s in zip(texts, found, strict=True)
    ]
    return messages, [s[: cfg.top_k] for s in found]


def answer_all(
    questions: list[Question],
    mode: str,
    llm: Engine,
    retriever: Retriever | None,
    cfg: AnswerConfig,
    batch_size: int = 16,
    progress: bool = True,
    done: dict[str, dict[str, Any]] | None = None,
    on_result: Any = None,
    adapter: str | None = None,
) -> list[Result]:
    """Answers in batches; questions in `done` (question -> saved answer) are not asked again. `adapter` names the
    attached adapter of a tuned mode, when not the engine's default (a run's reader for `both`)."""
    from tqdm import tqdm

    done = done or {}
    results: dict[str, Result] = {}
    todo = [q for q in questions if q.question not in done]
    with tqdm(
        total=len(questions),
        initial=len(questions) - len(todo),
        desc=f"Answering ({mode})",
        unit="q",
        disable=not progress,
    ) as bar:
        by_cap: dict[int, list[Question]] = {}
        for q in todo:  # a batch of fact questions is not held up by a longer answer
            by_cap.setdefault(answer_tokens(q.question, cfg.max_new_tokens), []).append(q)
        for cap, group in sorted(by_cap.items()):
            for batch in batches(group, batch_size):
                messages, found = conversations(mode, batch, retriever, cfg)
                asked = [m for m in messages if m is not None]
                generated = iter(llm.generate_batch(asked, cap, mode in USES_ADAPTER, adapter) if asked else [])
                answered = []
                for q, m, s in zip(batch, messages, found):
                    text, cut = unloop(next(generated)) if m is not None else (NOT_COVERED, False)
                    answered.append(
                        Result(q.question, q.answer, mode, text, {}, s, q.doc, covered=m is not None, cut=cut)
                    )
                if holds(mode) and retriever is not None:
                    read_again(answered, messages, llm, retriever, cap)
                for result in answered:
                    result.scores = score(result.answer, result.reference)
                    results[result.question] = result
                    if on_result is not None:
                        on_result(result)
                bar.update(len(batch))
    for q in questions:
        if q.question in done:
            saved = done[q.question]
            sources = [Source(**s) for s in saved["sources"]]
            text, cut = saved["answer"], saved.get("cut", False)
            results[q.question] = Result(
                q.question,
                q.answer,
                mode,
                text,
                score(text, q.answer),
                sources,
                q.doc,
                covered=saved.get("covered", True),
                cut=cut,
                reread=saved.get("reread", False),
            )
    return [results[q.question] for q in questions]


def read_again(
    answered: list[Result],
    messages: list[list[dict[str, str]] | None],
    llm: Engine,
    retriever: Retriever,
    max_new_tokens: int,
) -> None:
    """As `answer.reread` does for one question: the answers of a held mode that no sentence of their sources
    supports, given again by the base model reading the same sources, in one batch. The support found for an answer
    that stands is kept on it, for `grounded`."""
    again = []
    for r, m in zip(answered, messages, strict=True):
        if m is None:
            continue
        r.support = support(r.question, r.answer, r.sources, retriever.embedder)
        if unsupported(r.answer, r.support):
            again.append((r, m))
    texts = llm.generate_batch([m for _, m in again], max_new_tokens) if again else []
    for (r, _), text in zip(again, texts, strict=True):
        r.answer, r.cut = unloop(text)
        r.reread, r.support = True, None


def time_answers(
    questions: list[Question],
    mode: str,
    llm: Engine,
    retriever: Retriever | None,
    cfg: AnswerConfig,
    adapter: str | None = None,
) -> dict[str, float]:
    """Latency of single answers as a user gets them, on the path of `docent ask` (`answer.Answering`): from the
    question to the first text shown and to the whole answer (p50 and p95), retrieval included. `both` shows
    nothing until its answer is whole, and read again where nothing supports it, so its first text is its whole
    answer; `reread` is the share of timed answers read again. The oracle reads its question's own source, which
    only an evaluation knows: it is timed on that prompt."""
    first, total, again = [], [], 0
    for q in questions:
        start = time.perf_counter()
        shown = None
        asking = None if mode == "oracle" else Answering(q.question, mode, llm, retriever, cfg, adapter)
        for piece in oracle_text(q, llm, retriever, cfg) if asking is None else asking.text():
            if shown is None and piece:
                shown = time.perf_counter() - start
        total.append(time.perf_counter() - start)
        first.append(total[-1] if shown is None else shown)
        again += asking is not None and asking.answer().reread
    return {
        "first_token_p50": float(np.percentile(first, 50)),
        "first_token_p95": float(np.percentile(first, 95)),
        "total_p50": float(np.percentile(total, 50)),
        "total_p95": float(np.percentile(total, 95)),
        "reread": again / len(first),
        "n": len(first),
    }


def oracle_text(q: Question, llm: Engine, retriever: Retriever | None, cfg: AnswerConfig) -> Iterator[str]:
    (messages,), _ = conversations("oracle", [q], retriever, cfg)
    assert messages is not None  # the oracle is never gated
    return llm.stream(messages, cfg.max_new_tokens, Timing())


# Scores ------------------------------------------------------------------------------------------------


def bootstrap(values: list[float], seed: int = 0, rounds: int = 2000) -> tuple[float, float]:
    """95% percentile-bootstrap interval of the mean."""
    if not values:
        return (0.0, 0.0)
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), size=(rounds, len(data)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def semantic(results: list[Result], retriever: Retriever | None) -> None:
    """Cosine similarity of each answer and its reference, with the workspace's embedder."""
    results = [r for r in results if r.reference is not None]
    if retriever is None or not results:
        return
    answers = retriever.embedder.encode([r.answer or "-" for r in results])
    references = retriever.embedder.encode([r.reference or "" for r in results])
    for r, a, b in zip(results, answers, references):
        r.scores["semantic"] = float(np.dot(a, b))


def grounded(results: list[Result], retriever: Retriever | None) -> None:
    """The sentences of its sources that support each answer the model gave from them, where not yet found."""
    for r in results:
        if retriever is not None and r.covered and r.sources and r.support is None:
            r.support = support(r.question, r.answer, r.sources, retriever.embedder)


def support_summary(results: list[Result]) -> dict[str, Any]:
    """Of the answers given from sources (not abstentions), the share with a supporting sentence, and of those
    on questions whose document is known, the share whose support lies in that document."""
    given = [r for r in results if r.support is not None and not abstains(r.answer)]
    if not given:
        return {}
    held = [r for r in given if r.support]
    known = [r for r in held if r.doc]
    in_doc = [r for r in known if any(_same_doc(f.doc, r.doc) for f in r.support or [])]
    return {
        "answers": len(given),
        "supported": len(held) / len(given),
        "in_gold_doc": len(in_doc) / len(known) if known else None,
        "by_meaning": sum(1 for r in held if r.support and r.support[0].how == "meaning") / len(given),
    }


def retrieval_recall(results: list[Result], k: int) -> dict[str, float]:
    """Recall@k and MRR of the source document among the sources a mode read (questions with a known doc)."""
    ranks = []
    for r in results:
        if r.doc:
            docs = []
            for s in r.sources:
                if s.doc not in docs:
                    docs.append(s.doc)
            hit = next((i + 1 for i, d in enumerate(docs) if _same_doc(d, r.doc)), 0)
            ranks.append(hit)
    if not ranks:
        return {}
    return {
        f"recall@{k}": sum(1 for x in ranks if 0 < x <= k) / len(ranks),
        "mrr": sum(1 / x for x in ranks if x) / len(ranks),
    }


def summarise(results: list[Result], seed: int) -> dict[str, Any]:
    """Today's scores over the questions that have an answer; those the documents do not answer are summed up
    apart, under `unanswerable`: the share abstained and the share answered anyway, with intervals."""
    answerable = [r for r in results if r.reference is not None]
    out: dict[str, Any] = {"n": len(answerable), "intervals": {}}
    for key in answerable[0].scores if answerable else ():
        values = [r.scores[key] for r in answerable]
        out[key] = float(np.mean(values))
        if key in HEADLINE:
            out["intervals"][key] = list(bootstrap(values, seed))
    if answerable:
        out["cut"] = float(np.mean([r.cut for r in answerable]))  # stopped when they began to loop
        out["not_asked"] = float(np.mean([not r.covered for r in answerable]))  # turned away by the gate
        if holds(answerable[0].mode):  # given by the base model, as the adapter's answers had no support
            out["reread"] = float(np.mean([r.reread for r in answerable]))
    if found := support_summary(answerable):
        out["support"] = found
    unanswerable = [r for r in results if r.reference is None]
    if unanswerable:
        abstained = [r.scores["abstain"] for r in unanswerable]
        low, high = bootstrap(abstained, seed)
        out["unanswerable"] = {
            "n": len(unanswerable),
            "abstained": float(np.mean(abstained)),
            "hallucinated": 1.0 - float(np.mean(abstained)),
            "loops": float(np.mean([r.scores["loops"] for r in unanswerable])),
            "cut": float(np.mean([r.cut for r in unanswerable])),
            "not_asked": float(np.mean([not r.covered for r in unanswerable])),
            "intervals": {"abstained": [low, high], "hallucinated": [1.0 - high, 1.0 - low]},
        }
    return out


def paired(by_mode: dict[str, list[Result]], key: str = "contains") -> list[dict[str, Any]]:
    """For each pair of modes, the questions one gets right and the other wrong (right = `key` is 1); on questions
    the documents do not answer, right is an abstention, and `a_abstains_b_invents` counts where only `a` held back."""
    modes = list(by_mode)
    rows = []
    for i, a in enumerate(modes):
        for b in modes[i + 1 :]:
            pairs = [(x, y) for x, y in zip(by_mode[a], by_mode[b]) if x.reference is not None]
            row = {
                "a": a,
                "b": b,
                "a_only": sum(1 for x, y in pairs if x.scores[key] and not y.scores[key]),
                "b_only": sum(1 for x, y in pairs if y.scores[key] and not x.scores[key]),
                "both": sum(1 for x, y in pairs if x.scores[key] and y.scores[key]),
                "neither": sum(1 for x, y in pairs if not x.scores[key] and not y.scores[key]),
            }
            held_back = [
                (x.scores["abstain"], y.scores["abstain"])
                for x, y in zip(by_mode[a], by_mode[b])
                if x.reference is None
            ]
            if held_back:
                row["a_abstains_b_invents"] = sum(1 for x, y in held_back if x > y)
                row["b_abstains_a_invents"] = sum(1 for x, y in held_back if y > x)
            rows.append(row)
    return rows


def settings_key(data: dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def source_json(s: Source) -> dict[str, Any]:
    return asdict(s)


# The whole evaluation -----------------------------------------------------------------------------------


def run(
    questions: list[Question],
    modes: list[str],
    llm: Engine,
    retriever: Retriever | None,
    cfg: AnswerConfig,
    folder: Path,
    meta: dict[str, Any],
    batch_size: int = 16,
    seed: int = 0,
    progress: bool = True,
    adapters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Answer, score and report; answers already in folder/answers.jsonl for the same settings are reused.
    `adapters`: the adapter each tuned mode answers with, when not the engine's default (`Run.adapter_for`)."""
    adapters = adapters or {}
    folder.mkdir(parents=True, exist_ok=True)
    key = settings_key(  # with the modes whose answers are read again: saved from before, theirs were not
        {
            "meta": {k: v for k, v in meta.items() if k != "created"},
            "cfg": asdict(cfg),
            "fact_tokens": FACT_TOKENS,
            "read_again": [m for m in ALL_MODES if holds(m)],
        }
    )
    log = folder / "answers.jsonl"
    saved: dict[str, dict[str, dict[str, Any]]] = {}
    if log.exists():
        for line in log.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            if item["key"] == key:
                saved.setdefault(item["mode"], {})[item["question"]] = item
    by_mode: dict[str, list[Result]] = {}
    with open(log, "a", encoding="utf-8") as out:

        def keep(result: Result) -> None:
            record = {
                "key": key,
                "mode": result.mode,
                "question": result.question,
                "answer": result.answer,
                "sources": [source_json(s) for s in result.sources],
                "covered": result.covered,
                "cut": result.cut,
                "reread": result.reread,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()

        for mode in modes:
            done = saved.get(mode, {})
            if mode == "oracle" and "retrieval" in by_mode and retriever is not None:
                done = same_reading(questions, by_mode["retrieval"], retriever, cfg) | done
            by_mode[mode] = answer_all(
                questions, mode, llm, retriever, cfg, batch_size, progress, done, keep, adapters.get(mode)
            )
    summaries: dict[str, Any] = {}
    timed = questions[:LATENCY_SAMPLE]
    for mode, results in by_mode.items():
        semantic(results, retriever)
        if mode in READS_SOURCES:
            grounded(results, retriever)
        summaries[mode] = summarise(results, seed)
        if mode in (*READS_SOURCES, "oracle"):
            summaries[mode].update(retrieval_recall(results, cfg.top_k))
        slices = sorted({q.slice for q in questions})
        if len(slices) > 1:
            summaries[mode]["slices"] = {
                name: summarise([r for r, q in zip(results, questions) if q.slice == name], seed) for name in slices
            }
        if progress:
            print(f"Timing {len(timed)} single answers ({mode})…", flush=True)
        summaries[mode]["latency"] = time_answers(timed, mode, llm, retriever, cfg, adapters.get(mode))
    built = report.build(
        by_mode,
        summaries,
        {**meta, "settings": asdict(cfg) | {"fact_tokens": FACT_TOKENS}, "slices": [q.slice for q in questions]},
        paired(by_mode),
    )
    report.write(built, folder)
    return built
