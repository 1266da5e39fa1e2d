"""What an answer stands on: whether the documents cover the question at all (the relevance gate, before the model
reads), and which sentences of the sources support the answer it gave (after).

The gate reads the cosine similarity between the question and the chunks retrieval found. A question about
something the workspace never mentions finds nothing close, and is answered "The documents don't say." without
asking the model, with the nearest documents as places to look; the embedded model invents an answer to
nearly every such question when it is asked (README, "Questions the documents do not answer"). A question close
to the documents may still name what they never mention (the Pelican P7, Harbor 4.5, SAP), or what only other
passages mention ("What's new in Harbor 5.0?", where the release notes found are of other versions): the gate
turns it away too, and says which name it did not find. Last, it reads closer than a whole chunk: a question
that no sentence of the passages comes close to ("Is there a dress code at the office?", beside the office
rules) is one the passages touch on but do not answer.

Support is found in the words first: a sentence of a source (with its document's title and heading) holds most of
the answer's own words, stemmed, without stop words and without the words it repeats from the question. Failing
that, in meaning: the embedder finds a sentence very close to the answer. An answer with neither is marked
unsupported, so that nobody takes it for one drawn from the documents.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from assistant.config import AnswerConfig
from assistant.metrics import abstains, normalise
from assistant.retrieve import Retriever, Source
from ingest.index import WORD
from ingest.models import Embedder
from ingest.sentences import split_sentences

NOT_COVERED = "The documents don't say."
NEARBY = 3  # documents shown as "you may look here" when the gate turns a question away
WORDS_FOUND = 0.6  # share of the answer's words a sentence must hold to support it
# Cosine of answer and sentence for support in meaning (all-MiniLM-L6-v2). Set high because closeness hardly tells
# right from wrong: on the film set, retrieval's answers without support in words had a median of 0.74 when right
# and 0.69 when wrong (bench/support.py).
CLOSE_IN_MEANING = 0.8
MOST_SUPPORT = 2  # sentences shown per answer
# Words that claim nothing: stop words, and "answer" of "The answer is: …", the embedded model's favourite opening.
# Numbers stay, one digit too: "2.5" and "30" are what most answers claim.
FILLER = {
    "i", "me", "my", "we", "our", "you", "your", "he", "him", "his", "she", "her", "it", "its", "they", "them",
    "their", "what", "which", "who", "whom", "whose", "this", "that", "these", "those", "am", "is", "are", "was",
    "were", "be", "been", "being", "have", "has", "had", "do", "does", "did", "will", "would", "shall", "should",
    "can", "could", "may", "might", "must", "and", "but", "if", "or", "as", "of", "at", "by", "for", "with", "about",
    "into", "through", "to", "from", "in", "out", "on", "off", "over", "under", "again", "then", "once", "here",
    "there", "when", "where", "why", "how", "all", "any", "both", "each", "few", "more", "most", "other", "some",
    "such", "no", "nor", "not", "only", "own", "same", "so", "than", "too", "very", "just", "also", "per", "answer",
}  # fmt: skip


def words(text: str) -> set[str]:
    """The stemmed words of a text that can claim something."""
    import Stemmer

    return set(Stemmer.Stemmer("english").stemWords([w for w in normalise(text).split() if w not in FILLER]))


@dataclass
class Support:
    rank: int  # the source's rank, as cited in the answer
    doc: str
    sentence: str
    how: str  # "words": the answer's words are in the sentence; "meaning": the embedder finds them close

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def relevance(sources: list[Source]) -> float:
    """How close the closest source is to the question (cosine); 0 with no sources."""
    return max((s.dense for s in sources if s.dense is not None), default=0.0)


def names(question: str) -> list[str]:
    """What a question names: a capitalised word inside a sentence ("Oulu", "CFO"), a code with digits ("P5X",
    "WM-4") or a version ("4.5"). A plain number is left out: a quantity may be written in words in the documents."""
    found = []
    for m in WORD.finditer(question):
        word, before = m.group(), question[: m.start()].rstrip(" \"'“‘(")
        if any(c.isdigit() for c in word):
            code = not re.fullmatch(r"\d+", word)
        else:  # the first word of a sentence is capitalised whatever it is
            code = word[0].isupper() and word != "I" and bool(before) and before[-1] not in ".?!:;\n"
        if code:
            found.append(word)
    return found


def unknown_names(question: str, known: frozenset[str] | None, cfg: AnswerConfig) -> list[str]:
    """The names in `question` that no indexed text holds (plural or singular); none when the index keeps no words
    or `check_names` is off."""
    if known is None or not cfg.check_names:
        return []
    return missing(names(question), known)


def unplaced_names(question: str, sources: list[Source], cfg: AnswerConfig) -> list[str]:
    """The names in `question` that none of `sources` mentions, in its text, title or heading."""
    if not cfg.check_names or not sources:
        return []
    held = {w.lower() for s in sources for w in WORD.findall(f"{s.title} {s.heading} {s.text}")}
    return missing(names(question), held)


def missing(found: list[str], words: frozenset[str] | set[str]) -> list[str]:
    """The names that `words` (lower case) holds neither as they are nor in the singular."""
    return [n for n in found if n.lower() not in words and n.lower().removesuffix("s") not in words]


def sentence_relevance(question: str, sources: list[Source], embedder: Embedder) -> float:
    """How close the closest sentence of the sources is to the question (cosine); 0 with no sentences."""
    sentences = [text for s in sources for text in split_sentences(s.text)]
    return float(closeness(question, sentences, embedder).max()) if sentences else 0.0


def closeness(text: str, sentences: list[str], embedder: Embedder) -> Any:
    """The cosine of `text` with each sentence (the embedder's vectors are normalised)."""
    vectors = embedder.encode([text, *sentences])
    return vectors[1:] @ vectors[0]


def gate(question: str, found: list[Source], retriever: Retriever, cfg: AnswerConfig) -> str:
    """Why the passages found (the best NEARBY) cannot answer the question, in a sentence; "" when they may, and
    the model is asked. Cheapest checks first: the sentences are embedded only for a question that passed the rest."""
    unknown = unknown_names(question, retriever.words, cfg)
    if unknown:
        return f"No document mentions {quoted(unknown)}"
    if cfg.min_relevance > 0.0 and relevance(found) < cfg.min_relevance:
        return "No document is about this question"
    unplaced = unplaced_names(question, found, cfg)
    if unplaced:
        return f"None of the passages about this question mentions {quoted(unplaced)}"
    close = cfg.min_sentence_relevance
    if close > 0.0 and sentence_relevance(question, found, retriever.embedder) < close:
        return "No passage says anything close to this question"
    return ""


def quoted(names: list[str]) -> str:
    return " or ".join(f"“{n}”" for n in names)


def nearby(sources: list[Source]) -> list[Source]:
    """One source per document, best first: where a person may look when the documents do not answer."""
    seen: dict[str, Source] = {}
    for s in sources:
        seen.setdefault(s.doc, s)
    return list(seen.values())[:NEARBY]


def unsupported(answer: str, found: list[Support]) -> bool:
    """Whether an answer claims what none of the sentences `support` found holds (an abstention claims nothing)."""
    return not found and not abstains(answer)


def support(question: str, answer: str, sources: list[Source], embedder: Embedder | None = None) -> list[Support]:
    """The sentences of `sources` that support `answer`, best first; [] for an abstention or when none does."""
    if not sources or not answer.strip() or abstains(answer):
        return []
    sentences = [(s, text) for s in sources for text in split_sentences(s.text)]
    if not sentences:
        return []
    wanted = words(answer) - words(question)
    if wanted:
        context = {s.chunk_id: words(s.context) for s in sources}
        found = []
        for s, text in sentences:
            share = len(wanted & (words(text) | context[s.chunk_id])) / len(wanted)
            if share >= WORDS_FOUND:
                found.append((share, s, text))
        if found:
            found.sort(key=lambda f: (-f[0], f[1].rank))
            return [Support(s.rank, s.doc, text, "words") for _, s, text in found[:MOST_SUPPORT]]
    if embedder is None:
        return []
    close = closeness(answer, [text for _, text in sentences], embedder)
    order = sorted(range(len(sentences)), key=lambda i: -close[i])
    return [
        Support(sentences[i][0].rank, sentences[i][0].doc, sentences[i][1], "meaning")
        for i in order[:MOST_SUPPORT]
        if close[i] >= CLOSE_IN_MEANING
    ]
