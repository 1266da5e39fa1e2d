"""Q&A pairs for fine-tuning and evaluation, made from the chunks and checked against the index.

Steps, each on plain records:
1. facts and their phrasings from the templates (`questions.py`), plus a model's proposals when one is set;
2. deduplicate: one copy of each question; a question asked of two different answers is dropped as ambiguous;
3. round trip: a question is kept only if it retrieves its own chunk (or a chunk holding its evidence) in the
   top k, so every pair is answerable from the documents;
4. split, seeded by fact so that a re-ingest keeps earlier choices: a share of facts gives one question to the
   held-out set and none to training (held-out questions are never rewordings of training questions, yet
   their facts are trained through the passage pairs); documents kept out (`--holdout-docs`) give only
   held-out ("unseen") questions;
5. passage pairs ("What does the handbook say about parental leave?" -> the chunk) for every trained chunk: the
   whole text is seen in training, as knowledge-injection studies find necessary (Ovadia et al. 2023).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ingest.generator import Proposer
from ingest.questions import Fact, facts_from_chunk, fit_for_evaluation
from ingest.records import Pair, StoredChunk

NEAR_DUPLICATE = 0.95  # cosine above which a held-out question counts as a rewording of a training one


@dataclass
class Phrasing:
    """One question written for a fact of a chunk, and the template that wrote it."""

    chunk: StoredChunk
    fact: Fact
    question: str
    template: str

    def pair(self, split: str) -> Pair:
        return Pair(
            self.chunk.id, self.fact.key, self.question, self.fact.answer, self.fact.evidence, self.template, split
        )


def normalise(question: str) -> str:
    return " ".join(re.findall(r"\w+", question.lower()))


def seeded_share(seed: int, key: str) -> float:
    """A number in [0, 1) fixed by seed and key: the same fact gets the same split on every ingest."""
    return int(hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()[:12], 16) / 16**12


def section_topic(chunk: StoredChunk) -> str:
    """'New in Harbor 4.4' for heading path 'Harbor 4 Release Notes > Harbor 4.4 > New': the section, told apart
    from same-named sections of the document by its parent."""
    path = [h for h in chunk.heading.split(" > ") if h and h != chunk.title]
    if not path:
        return chunk.title
    return path[-1] if len(path) == 1 else f"{path[-1]} in {path[-2]}"


def passage_pairs(chunk: StoredChunk, part: str = "") -> list[Pair]:
    """Questions whose answer is the whole chunk; `part` ("part 2 of 3") tells apart chunks of one long section."""
    topic = section_topic(chunk)
    key = "passage:" + hashlib.sha1(chunk.text.encode()).hexdigest()[:12]
    suffix = f" ({part})" if part else ""
    if topic == chunk.title:
        asks = [f"What does {chunk.title} say{suffix}?", f"Summarise {chunk.title}{suffix}."]
    else:
        asks = [
            f"What does {chunk.title} say about {topic}{suffix}?",
            f"Summarise the section '{topic}' of {chunk.title}{suffix}.",
        ]
    return [Pair(chunk.id, key, q, chunk.text, chunk.text, "passage") for q in asks]


def candidate_facts(
    chunks: list[StoredChunk], phrasings: int, proposer: Proposer | None = None
) -> list[tuple[StoredChunk, Fact]]:
    found = [
        (chunk, fact)
        for chunk in chunks
        for fact in facts_from_chunk(chunk.text, chunk.title, phrasings, chunk.heading.split(" > ")[-1])
    ]
    if proposer is not None and found:
        proposals = proposer([(c.title, f.evidence, f.answer) for c, f in found])
        for (_, fact), question in zip(found, proposals, strict=True):
            if question and normalise(question) not in {normalise(q) for q, _ in fact.questions}:
                fact.questions = [(question, "model"), *fact.questions][:phrasings]
    return found


def make_pairs(
    chunks: list[StoredChunk],
    roundtrip: Callable[[list[str], np.ndarray], list[list[tuple[int, str]]]],
    embed: Callable[[list[str]], np.ndarray],
    phrasings: int = 3,
    holdout_share: float = 0.15,
    seed: int = 13,
    proposer: Proposer | None = None,
) -> list[Pair]:
    """All pairs for `chunks`. `embed(texts)` gives normalised embeddings; `roundtrip(questions, their embeddings)`
    returns, per question, the top-k hits as (chunk id, text)."""
    found = candidate_facts(chunks, phrasings, proposer)
    answers: dict[str, set[str]] = {}
    for _, fact in found:
        for question, _ in fact.questions:
            answers.setdefault(normalise(question), set()).add(fact.answer.lower())
    seen: set[str] = set()
    flat: list[Phrasing] = []
    for chunk, fact in found:
        for question, template in fact.questions:
            norm = normalise(question)
            if norm in seen or len(answers[norm]) > 1:
                continue  # a repeat, or the same question with two answers
            seen.add(norm)
            flat.append(Phrasing(chunk, fact, question, template))
    questions = [p.question for p in flat]
    vectors = embed(questions)
    hits = roundtrip(questions, vectors) if flat else []
    kept: dict[str, list[Phrasing]] = {}
    vector_of: dict[str, np.ndarray] = {}
    for item, top, vector in zip(flat, hits, vectors, strict=True):
        if any(cid == item.chunk.id or item.fact.evidence in text for cid, text in top):
            kept.setdefault(item.fact.key + str(item.chunk.id), []).append(item)
            vector_of[item.question] = vector
    pairs: list[Pair] = []
    for group in kept.values():
        first = group[0]
        if first.chunk.holdout:
            pairs.append(first.pair("unseen"))
        elif fit_for_evaluation(first.question, first.template) and seeded_share(seed, first.fact.key) < holdout_share:
            pairs.append(first.pair("heldout"))
        else:
            pairs.extend(item.pair("train") for item in group)
    sections: dict[tuple[str, str], list[StoredChunk]] = {}
    for chunk in chunks:
        if not chunk.holdout:
            sections.setdefault((chunk.title, section_topic(chunk)), []).append(chunk)
    for parts in sections.values():
        for i, chunk in enumerate(parts):
            pairs.extend(passage_pairs(chunk, f"part {i + 1} of {len(parts)}" if len(parts) > 1 else ""))
    return _drop_rewordings(pairs, vector_of)


def _drop_rewordings(pairs: list[Pair], vector_of: dict[str, np.ndarray]) -> list[Pair]:
    """A held-out question too close to a training question of its chunk would measure recall, not knowledge."""
    heldout = [p for p in pairs if p.split == "heldout"]
    train = [p for p in pairs if p.split == "train" and p.template != "passage"]
    if not heldout or not train:
        return pairs
    held_vecs = np.stack([vector_of[p.question] for p in heldout])
    train_vecs = np.stack([vector_of[p.question] for p in train])
    by_chunk: dict[int, list[int]] = {}
    for i, p in enumerate(train):
        by_chunk.setdefault(p.chunk_id, []).append(i)
    dropped = set()
    for i, p in enumerate(heldout):
        rows = by_chunk.get(p.chunk_id, [])
        if rows and float(np.max(train_vecs[rows] @ held_vecs[i])) > NEAR_DUPLICATE:
            dropped.add(id(p))
    return [p for p in pairs if id(p) not in dropped]
