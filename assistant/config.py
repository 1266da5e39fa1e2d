"""Settings for answering (`docent ask`, `docent search`): one field, one line of help; CLI flags come from here."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

FUSIONS = ("rrf", "dense", "bm25")
MODES = ("base", "retrieval")  # answer modes available now; "tuned" and "both" arrive with fine-tuning


@dataclass
class AnswerConfig:
    llm: str = field(
        default=os.environ.get("DOCENT_LLM", "embedded"),
        metadata={"help": "LLM: 'embedded' (SmolLM2-135M-Instruct), a local folder or a hub id"},
    )
    top_k: int = field(
        default=3, metadata={"help": "chunks given to the model; more context can confuse a small model"}
    )
    fusion: str = field(default="rrf", metadata={"help": "ranking: rrf (dense + BM25 fused), dense or bm25"})
    max_new_tokens: int = field(default=160, metadata={"help": "longest answer, in tokens"})

    def __post_init__(self) -> None:
        if self.top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {self.top_k}")
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}, got {self.fusion!r}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, got {self.max_new_tokens}")
