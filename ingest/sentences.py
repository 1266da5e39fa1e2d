"""Sentence splitting for English prose, good enough for chunk borders and question templates.

A period ends a sentence when the next word starts a new one, except after initials ("Morgan S. Dalibert"),
common abbreviations ("e.g.", "Dr.", "approx.") and inside numbers and versions ("2.5", "v4.10.2").
"""

from __future__ import annotations

import re

ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs", "etc", "inc", "ltd", "corp", "dept", "approx",
    "fig", "figs", "ext", "tel", "e.g", "i.e", "cf", "al", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "u.s", "u.k", "a.m", "p.m", "pp", "vol", "ch", "lit",
}  # fmt: skip

_BOUNDARY = re.compile(r"([.!?][\"')\]]*)\s+(?=[\"'(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end(1)
        words = text[start:end].split()
        last = words[-1].strip("\"'()[]").lower() if words else ""
        stem = last[:-1] if last.endswith(".") else ""
        if stem and (stem in ABBREVIATIONS or re.fullmatch(r"[a-z]", stem) or re.fullmatch(r"(?:[a-z]\.)+[a-z]", stem)):
            continue  # "S." in a name, "e.g.", "U.S.": not an end
        piece = text[start:end].strip()
        if piece:
            sentences.append(piece)
        start = match.end()
    rest = text[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences
