"""Blocks to chunks: token-aware, on heading and paragraph borders, with a few sentences of overlap.

A chunk never crosses a heading, so its heading path ("Leave policy > Parental leave") describes all of it;
a section too small to stand alone (a heading and one short line) joins the next one. Inside a section,
paragraphs are packed whole while they fit; a long paragraph is cut between sentences, and the last
sentences of a chunk open the next one (`overlap` tokens) so that a fact at a border is whole in one chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from ingest.parse import Block
from ingest.sentences import split_sentences

MIN_SECTION_TOKENS = 24  # below this a section joins the next one rather than make a chunk of its own


@dataclass
class Chunk:
    heading: str  # heading path, outermost first, joined by " > "
    text: str
    n_tokens: int


@dataclass
class _Unit:
    text: str
    n_tokens: int
    opens_paragraph: bool
    repeated: bool = False  # overlap carried over from the chunk before


def chunk_context(title: str, heading: str) -> str:
    """'Title > Section > Subsection', the title once even when the document repeats it as its first heading."""
    if not heading or heading == title:
        return title
    return heading if heading.startswith(title) else f"{title} > {heading}"


def embedded_text(title: str, heading: str, text: str) -> str:
    """What is embedded, indexed and hashed for a chunk: its place in the document, then its text."""
    return f"{chunk_context(title, heading)}\n{text}"


def chunk_blocks(
    blocks: Iterable[Block],
    count_tokens: Callable[[list[str]], list[int]],
    chunk_tokens: int = 192,
    overlap: int = 32,
) -> Iterator[Chunk]:
    stack: list[tuple[int, str]] = []
    units: list[_Unit] = []
    heading = ""
    size = 0

    def emit(keep_overlap: bool) -> Iterator[Chunk]:
        nonlocal units, size
        if any(not u.repeated and u.n_tokens > 0 for u in units):
            yield Chunk(heading, _join(units), sum(u.n_tokens for u in units))
        tail: list[_Unit] = []
        if keep_overlap:
            budget = overlap
            for unit in reversed(units):
                if unit.n_tokens > budget:
                    break
                budget -= unit.n_tokens
                tail.insert(0, _Unit(unit.text, unit.n_tokens, unit.opens_paragraph, repeated=True))
        units, size = tail, sum(u.n_tokens for u in tail)

    for block in blocks:
        if block.level:
            fresh = sum(u.n_tokens for u in units if not u.repeated)
            if fresh >= MIN_SECTION_TOKENS:
                yield from emit(keep_overlap=False)
            elif fresh:  # a tiny section: keep its text and carry the next heading inline
                units.append(_Unit(block.text + ":", len(block.text.split()) + 1, True))
                size += units[-1].n_tokens
            else:  # only overlap from the section before: it does not cross a heading
                units, size = [], 0
            while stack and stack[-1][0] >= block.level:
                stack.pop()
            stack.append((block.level, block.text))
            if not units:
                heading = " > ".join(text for _, text in stack)
            continue
        pieces = _pieces(block.text, count_tokens, chunk_tokens)
        for i, (text, n) in enumerate(pieces):
            if size + n > chunk_tokens and size > 0:
                yield from emit(keep_overlap=True)
                if not units:
                    heading = " > ".join(t for _, t in stack)
            units.append(_Unit(text, n, i == 0))
            size += n
            if not heading:
                heading = " > ".join(t for _, t in stack)
    yield from emit(keep_overlap=False)


def _pieces(paragraph: str, count_tokens: Callable[[list[str]], list[int]], limit: int) -> list[tuple[str, int]]:
    """The paragraph whole if it fits, else its sentences; a sentence over the limit is cut by words."""
    (n,) = count_tokens([paragraph])
    if n <= limit:
        return [(paragraph, n)]
    sentences = split_sentences(paragraph)
    out: list[tuple[str, int]] = []
    for sentence, count in zip(sentences, count_tokens(sentences), strict=True):
        if count <= limit:
            out.append((sentence, count))
            continue
        words = sentence.split()
        per = max(1, int(len(words) * limit / count * 0.9))
        for start in range(0, len(words), per):
            piece = " ".join(words[start : start + per])
            out.append((piece, count_tokens([piece])[0]))
    return out


def _join(units: list[_Unit]) -> str:
    text = ""
    for unit in units:
        if not text:
            text = unit.text
        elif unit.opens_paragraph:
            text += "\n" + unit.text
        else:
            text += " " + unit.text
    return text
