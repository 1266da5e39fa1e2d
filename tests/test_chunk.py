"""Chunks stay within the token budget, keep their heading path, and overlap by whole sentences."""

from __future__ import annotations

import itertools

from ingest.chunk import chunk_blocks
from ingest.parse import Block
from ingest.sentences import split_sentences


def words(texts: list[str]) -> list[int]:
    return [len(t.split()) for t in texts]


def numbered(n: int, start: int = 0) -> str:
    return " ".join(f"Sentence number {i} says fact {i} plainly." for i in range(start, start + n))


def test_long_section_is_cut_between_sentences_within_budget_with_overlap() -> None:
    blocks = [Block("Guide", 1), Block("Setup", 2), Block(numbered(40))]
    chunks = list(chunk_blocks(blocks, words, chunk_tokens=60, overlap=14))
    assert len(chunks) > 3
    for chunk in chunks:
        assert chunk.heading == "Guide > Setup"
        assert len(chunk.text.split()) <= 60
        assert split_sentences(chunk.text)[-1].endswith(".")  # never cut inside a sentence
    for before, after in itertools.pairwise(chunks):
        shared = set(split_sentences(before.text)) & set(split_sentences(after.text))
        assert split_sentences(before.text)[-1] in shared  # the border sentences are repeated…
        assert sum(len(s.split()) for s in shared) <= 14  # …up to the overlap
    every = set().union(*(split_sentences(c.text) for c in chunks))
    assert every == set(split_sentences(numbered(40)))  # nothing lost


def test_chunks_do_not_cross_headings_and_carry_their_path() -> None:
    blocks = [
        Block("Handbook", 1),
        Block("Leave", 2),
        Block(numbered(8)),
        Block("Parental leave", 3),
        Block(numbered(8, 100)),
        Block("Travel", 2),
        Block(numbered(8, 200)),
    ]
    chunks = list(chunk_blocks(blocks, words, chunk_tokens=200, overlap=20))
    assert [c.heading for c in chunks] == ["Handbook > Leave", "Handbook > Leave > Parental leave", "Handbook > Travel"]
    assert "fact 100 " in chunks[1].text and "fact 7 " not in chunks[1].text


def test_tiny_section_joins_the_next_one_with_its_heading_inline() -> None:
    blocks = [Block("FAQ", 1), Block("Hours", 2), Block("Open 9-17."), Block("Phone", 2), Block(numbered(6))]
    chunks = list(chunk_blocks(blocks, words, chunk_tokens=200, overlap=10))
    assert len(chunks) == 1
    assert chunks[0].heading == "FAQ > Hours"
    assert "Open 9-17.\nPhone:" in chunks[0].text


def test_sentence_longer_than_the_budget_is_cut_by_words() -> None:
    long_sentence = " ".join(f"w{i}" for i in range(500)) + "."
    chunks = list(chunk_blocks([Block(long_sentence)], words, chunk_tokens=64, overlap=8))
    assert all(c.n_tokens <= 64 + 8 for c in chunks)
    assert " ".join(c.text for c in chunks).count("w499") >= 1


def test_sentence_splitter_keeps_initials_abbreviations_and_versions() -> None:
    text = "Directed by Morgan S. Dalibert, e.g. in Paris. Version 4.10.2 shipped on Jan. 5. It works (lit. well)."
    assert split_sentences(text) == [
        "Directed by Morgan S. Dalibert, e.g. in Paris.",
        "Version 4.10.2 shipped on Jan. 5.",
        "It works (lit. well).",
    ]
