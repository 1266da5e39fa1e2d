"""What an evaluation is made of: a question with its reference answer, and one mode's answer to it, scored.
`evaluate.py` makes them and `report.py` lays them out."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.grounding import Support
from ingest.records import Source


@dataclass
class Question:
    question: str
    answer: str | None  # None: the documents do not answer it, and the right answer is to say so
    doc: str = ""  # document name (path as ingested) or file name; "" when unknown
    chunk_id: int | None = None
    slice: str = "file"  # "trained documents", "unseen documents" or "file"
    template: str = ""  # the phrasing a held-out question was written in ("passive", "in-place"…)


@dataclass
class Result:
    question: str
    reference: str | None
    mode: str
    answer: str
    scores: dict[str, float]
    sources: list[Source] = field(default_factory=list)
    doc: str = ""
    covered: bool = True  # False: the relevance gate answered without asking the model
    cut: bool = False  # stopped when it began to repeat itself
    support: list[Support] | None = None  # the sentences that hold the answer; None when not looked for
    reread: bool = False  # `both`: the adapter's answer had no support, so this is the base model's reading
