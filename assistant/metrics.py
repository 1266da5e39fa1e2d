"""Answer scores, as in SQuAD: text normalised (lower case, no punctuation, no articles, single spaces), then
exact match and token F1; plus `contains`, abstention, looping and length. A question the documents do not answer
(reference None) is scored on whether the answer abstained or invented one.

`contains` holds when every normalised token of the reference appears in the answer, in any order, so that
"16 February 2002" holds "February 16, 2002"; read it beside F1 and length, since a rambling answer contains
more. Citations like "[2]" are removed before scoring: they point at sources and are not part of the answer.
"""

from __future__ import annotations

import re
import string
from collections import Counter

# Ways a model says it cannot answer from what it read; an answer saying any of them counts as an abstention.
_SOURCES = r"(?:sources?|documents?|context|text|information (?:given|provided))"
ABSTAIN = re.compile(
    r"\b(?:i (?:do not|don't|dont|cannot|can't) (?:know|say|tell|answer|find)"
    rf"|not (?:mentioned|stated|provided|specified|given|covered|found) in the {_SOURCES}"
    rf"|(?:the )?{_SOURCES} (?:do|does|did) ?n[o']t (?:say|contain|mention|cover|specify|state|provide|give)"
    rf"|no information (?:about|on|in|regarding)|(?:the )?{_SOURCES} (?:has|have|holds?) no\b)",
    re.I,
)
LOOP_N, LOOP_TIMES = 4, 3  # an answer loops when one 4-gram comes back three times or more
_PUNCT = set(string.punctuation)
HEADLINE = ("contains", "f1", "exact", "semantic")  # reported with bootstrap intervals


def normalise(text: str) -> str:
    text = re.sub(r"\[\d+\]", " ", text.lower())
    text = "".join(" " if ch in _PUNCT else ch for ch in text)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match(answer: str, reference: str) -> float:
    return float(normalise(answer) == normalise(reference))


def f1(answer: str, reference: str) -> float:
    got, want = normalise(answer).split(), normalise(reference).split()
    if not got or not want:
        return float(got == want)
    common = sum((Counter(got) & Counter(want)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(got), common / len(want)
    return 2 * precision * recall / (precision + recall)


def contains(answer: str, reference: str) -> float:
    got = set(normalise(answer).split())
    want = normalise(reference).split()
    return float(bool(want) and all(token in got for token in want))


def abstains(answer: str) -> float:
    return float(bool(ABSTAIN.search(answer)))


def loops(answer: str) -> float:
    """1.0 when the answer repeats itself ("The answer is: The answer is: ..."), as a model does that cannot stop."""
    words = normalise(answer).split()
    grams = Counter(tuple(words[i : i + LOOP_N]) for i in range(len(words) - LOOP_N + 1))
    return float(bool(grams) and max(grams.values()) >= LOOP_TIMES)


def loop_start(answer: str) -> int | None:
    """Where an answer starts to loop: the end of the text before a 4-gram's second time, once the same 4-gram has
    come back a third time (None when it does not loop). That text holds every 4-gram at most twice, so the answer
    cut there no longer `loops`."""
    words: list[tuple[str, int]] = []  # normalised words, and where the answer may be cut before each
    end = 0  # where the last token that held a word ends: "The answer is: The" is cut after "is:"
    for token in re.finditer(r"\S+", answer):
        found = normalise(token.group()).split()
        words += [(w, end if i == 0 else token.start()) for i, w in enumerate(found)]
        end = token.end() if found else end
    seen: dict[tuple[str, ...], list[int]] = {}
    for i in range(len(words) - LOOP_N + 1):
        cuts = seen.setdefault(tuple(w for w, _ in words[i : i + LOOP_N]), [])
        cuts.append(words[i][1])
        if len(cuts) == LOOP_TIMES:
            return cuts[1]
    return None


def unloop(answer: str) -> tuple[str, bool]:
    """The answer cut where it starts to loop, and whether it was cut."""
    start = loop_start(answer)
    return (answer, False) if start is None else (answer[:start].rstrip(), True)


def length(answer: str) -> int:
    return len(normalise(answer).split())


def score(answer: str, reference: str | None) -> dict[str, float]:
    """`reference` None: the documents do not answer the question, so the right answer is to abstain."""
    if reference is None:
        abstained = abstains(answer)
        return {
            "abstain": abstained,
            "hallucinated": 1.0 - abstained,
            "loops": loops(answer),
            "length": float(length(answer)),
        }
    return {
        "exact": exact_match(answer, reference),
        "f1": f1(answer, reference),
        "contains": contains(answer, reference),
        "abstain": abstains(answer),
        "loops": loops(answer),
        "length": float(length(answer)),
    }
