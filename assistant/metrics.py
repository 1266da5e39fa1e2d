"""Answer scores, as in SQuAD: text normalised (lower case, no punctuation, no articles, single spaces), then
exact match and token F1; plus `contains`, abstention and length.

`contains` holds when every normalised token of the reference appears in the answer, in any order, so that
"16 February 2002" holds "February 16, 2002"; read it beside F1 and length, since a rambling answer contains
more. Citations like "[2]" are removed before scoring: they point at sources and are not part of the answer.
"""

from __future__ import annotations

import re
import string
from collections import Counter

ABSTAIN = re.compile(r"\b(?:i (?:do not|don't|dont) know|not (?:mentioned|stated|provided|specified) in the sources"
                     r"|the sources do not (?:say|contain|mention))\b", re.I)  # fmt: skip
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


def length(answer: str) -> int:
    return len(normalise(answer).split())


def score(answer: str, reference: str) -> dict[str, float]:
    return {
        "exact": exact_match(answer, reference),
        "f1": f1(answer, reference),
        "contains": contains(answer, reference),
        "abstain": abstains(answer),
        "length": float(length(answer)),
    }
