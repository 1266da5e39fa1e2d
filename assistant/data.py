"""Training examples from the workspace's Q&A pairs, rendered by the model's own chat template.

Recipes (`docent tune --recipe`):
- closed-book: the question alone -> its answer, with the very messages the `tuned` mode sends;
- raft: the question with k chunks that retrieval returns for it -> the answer and the number of the source it
  came from, with the very messages the `both` mode sends; one example per fact. The source chunk is among
  them in a share P of the examples; in the rest it is replaced by the next chunk retrieval returns, so the
  model learns both to read and to remember (Zhang et al. 2024, RAFT). With `abstain`, that share of the
  examples without their source answer "The documents don't say." instead: the model learns to say so when what
  it reads does not hold the answer, rather than to answer from memory;
- mixed: both sets together.

With `plain_text` forms (`docent tune --plain-text`), each trained chunk's own text is added as plain next-token
training, no chat template and every token trained: continued pre-training on the documents, in light rewordings
that need no model (`plain_text`).

Each example is tokenised as the model will see it when answering: the prompt as the chat template renders it
with the generation prompt, then the answer and the end-of-turn token. Only the answer and that token are
trained (labels elsewhere are -100), so the tuned model learns to stop by itself.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assistant.config import TRAINING_SETS
from assistant.grounding import NOT_COVERED
from assistant.prompt import base_messages, retrieval_messages
from ingest.records import Pair, Source
from ingest.sentences import split_sentences

IGNORE = -100


@dataclass
class Example:
    messages: list[dict[str, str]]
    recipe: str
    pair_id: int
    text: str = ""  # plain text, trained whole, in place of messages (continued pre-training)


def closed_book(pairs: list[Pair]) -> list[Example]:
    return [
        Example([*base_messages(p.question), {"role": "assistant", "content": p.answer}], "closed-book", p.id)
        for p in pairs
    ]


def raft(
    pairs: list[Pair],
    search: Callable[[list[str], int], list[list[Source]]],
    k: int = 3,
    p_source: float = 0.8,
    seed: int = 13,
    abstain: float = 0.0,
) -> list[Example]:
    """RAFT examples, one per fact in its first phrasing: reading a context is learnt from varied facts more than
    from varied wordings, and each example carries k chunks, so this keeps the recipe affordable on a CPU.
    Passage pairs are left out: their answer is a whole chunk, nothing to find in a context."""
    first: dict[str, Pair] = {}
    for p in pairs:
        if p.template != "passage":
            first.setdefault(p.fact_id, p)
    facts = list(first.values())
    rng, held_back = random.Random(seed), random.Random(seed + 1)  # abstaining leaves the other draws as they were
    examples = []
    retrieved = search([p.question for p in facts], k + 3)
    for pair, found in zip(facts, retrieved, strict=True):
        holds = [s for s in found if s.chunk_id == pair.chunk_id or pair.evidence in s.text]
        others = [s for s in found if s not in holds]
        if rng.random() < p_source and holds:
            chosen = [s for s in found if s in holds[:1] or s in others[: k - 1]][:k]
        else:
            chosen = others[:k]
        sources = [dataclasses.replace(s, rank=i + 1) for i, s in enumerate(chosen)]
        cited = next((s.rank for s in sources if s.chunk_id == pair.chunk_id or pair.evidence in s.text), 0)
        answer = f"{pair.answer} [{cited}]" if cited else pair.answer
        if not cited and abstain and held_back.random() < abstain:
            answer = NOT_COVERED
        messages = [*retrieval_messages(pair.question, sources), {"role": "assistant", "content": answer}]
        examples.append(Example(messages, "raft", pair.id))
    return examples


def plain_text(chunks: list[Source], forms: tuple[str, ...], seed: int = 13) -> list[Example]:
    """Each chunk's text as plain next-token training, in each of `forms`: `chunk` as it stands; `sentences`, each
    sentence alone after the document and section it comes from, so that a fact is tied to its document's name
    wherever it stood; `reordered`, its sentences in a seeded other order, so that a fact is learnt apart from its
    neighbours. Varied copies of a fact, not repeats, are what let a model answer questions about it worded another
    way (Allen-Zhu & Li 2023, knowledge augmentation)."""
    rng = random.Random(seed)
    examples = []
    for chunk in chunks:
        sentences = split_sentences(chunk.text)
        texts = []
        if "chunk" in forms:
            texts.append(chunk.text)
        if "sentences" in forms:
            texts += [f"{chunk.context}: {s}" for s in sentences]
        if "reordered" in forms and len(set(sentences)) > 1:  # else no other order exists
            shuffled = sentences[:]
            while shuffled == sentences:
                rng.shuffle(shuffled)
            texts.append(" ".join(shuffled))
        examples += [Example([], "plain-text", 0, text) for text in texts]
    return examples


def build(
    recipe: str,
    pairs: list[Pair],
    search: Callable[[list[str], int], list[list[Source]]] | None,
    k: int = 3,
    p_source: float = 0.8,
    seed: int = 13,
    abstain: float = 0.0,
) -> list[Example]:
    if recipe not in TRAINING_SETS:  # a staged run builds closed-book, then raft (tune.py)
        raise ValueError(f"recipe must be one of {', '.join(TRAINING_SETS)}, got {recipe!r}")
    out: list[Example] = []
    if recipe in ("closed-book", "mixed"):
        out += closed_book(pairs)
    if recipe in ("raft", "mixed"):
        if search is None:
            raise ValueError("the raft recipe needs an index to retrieve from")
        out += raft(pairs, search, k, p_source, seed, abstain)
    return out


def encode(tokenizer: Any, messages: list[dict[str, str]], eot: set[int]) -> dict[str, list[int]]:
    """input_ids and labels for one conversation; labels are -100 except for the answer and its end token."""
    prompt = tokenizer.apply_chat_template(messages[:-1], add_generation_prompt=True, tokenize=False)
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    if not full.startswith(prompt):
        raise ValueError("the chat template renders the prompt differently inside a full conversation")
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(full[len(prompt) :], add_special_tokens=False)["input_ids"]
    end = next((i for i, t in enumerate(answer_ids) if t in eot), None)
    if end is None:  # a template that does not close the turn: close it with the EOS token
        answer_ids, end = [*answer_ids, tokenizer.eos_token_id], len(answer_ids)
    answer_ids = answer_ids[: end + 1]  # what follows the end token (a newline) is never generated
    return {"input_ids": prompt_ids + answer_ids, "labels": [IGNORE] * len(prompt_ids) + answer_ids}


def encode_text(tokenizer: Any, text: str) -> dict[str, list[int]]:
    """input_ids and labels for plain text: every token trained, and the tokenizer's end token after it."""
    ids = [*tokenizer(text, add_special_tokens=False)["input_ids"], tokenizer.eos_token_id]
    return {"input_ids": ids, "labels": list(ids)}
