"""Settings for `docent ingest`: one field, one line of help; the CLI's flags are made from these fields."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_WORKSPACE = Path("data") / "workspace"
NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")  # a collection's or a group's: it appears in commands and URLs


def checked_name(name: str, what: str = "collection", examples: str = "hr, support, general") -> str:
    """A collection's or a group's name, stripped; a ValueError that says what a name may hold."""
    name = name.strip()
    if not NAME.match(name):
        raise ValueError(
            f"the {what} name {name!r} must be 1 to 40 lower-case letters, digits, '.', '_' or '-', "
            f"beginning with a letter or digit: e.g. {examples}"
        )
    return name


def collection_name(name: str) -> str:
    return checked_name(name)


def workspace_path(value: str | Path | None = None) -> Path:
    """--workspace, else $DOCENT_WORKSPACE, else data/workspace under the current folder."""
    return Path(value or os.environ.get("DOCENT_WORKSPACE") or DEFAULT_WORKSPACE).expanduser()


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class IngestConfig:
    embedder: str = field(
        default=os.environ.get("DOCENT_EMBEDDER", "embedded"),
        metadata=_help("embedding model: 'embedded' (all-MiniLM-L6-v2), a local folder or a hub id"),
    )
    chunk_tokens: int = field(
        default=192, metadata=_help("chunk size in embedder tokens; smaller = sharper retrieval, more chunks")
    )
    chunk_overlap: int = field(
        default=32, metadata=_help("tokens repeated between neighbouring chunks, so a fact cut at a border survives")
    )
    max_file_mb: float = field(
        default=100.0,
        metadata=_help("files larger than this, on disk or decompressed (DOCX), are refused with a line in the report"),
    )
    # A 300-page PDF reads in 1.2 s here: these bounds leave genuine files far room, and stop a file built to
    # exhaust the machine (a 67 KB docx once took 51 s and 1.35 GB; one of 342 KB reached 3.9 GB in 13 s).
    max_parse_s: float = field(
        default=120.0, metadata=_help("seconds one file may take to read before it is given up, with a line")
    )
    max_parse_mb: int = field(
        default=2048, metadata=_help("memory one file's reader may use (MB) before the file is given up, with a line")
    )
    index: str = field(
        default="auto",
        metadata=_help("vector index: flat (exact), hnsw (approximate, for 200k+ chunks) or auto"),
    )
    pairs: bool = field(default=True, metadata=_help("generate Q&A training pairs from every chunk"))
    phrasings: int = field(default=3, metadata=_help("phrasings kept per fact; varied phrasings help tuning learn it"))
    roundtrip_k: int = field(
        default=3, metadata=_help("keep a pair only if its question retrieves its source chunk in the top k")
    )
    holdout_share: float = field(
        default=0.15, metadata=_help("share of facts whose question is held out of training for evaluation")
    )
    holdout_docs: float = field(
        default=0.0, metadata=_help("share of documents kept out of training entirely (0 = train on every one)")
    )
    seed: int = field(default=13, metadata=_help("seed for the held-out choices; recorded in the workspace"))
    generator_model: str = field(
        default="",
        metadata=_help("a model that proposes extra questions (local folder or hub id); empty = templates only"),
    )
    generator_url: str = field(
        default="", metadata=_help("OpenAI-compatible endpoint that proposes questions, e.g. http://localhost:11434/v1")
    )
    strict: bool = field(default=False, metadata=_help("exit non-zero when any file fails"))
    prune: bool = field(default=False, metadata=_help("remove documents whose files vanished under the given paths"))
    collection: str = field(
        default="",
        metadata=_help(
            "the collection the documents join (who may read them is granted per collection: docent grant); "
            "empty = general for new documents, and known ones stay where they are"
        ),
    )

    def __post_init__(self) -> None:
        if self.chunk_tokens < 32:
            raise ValueError(f"chunk_tokens must be at least 32, got {self.chunk_tokens}")
        if not 0 <= self.chunk_overlap < self.chunk_tokens // 2:
            raise ValueError(f"chunk_overlap must be between 0 and half of chunk_tokens, got {self.chunk_overlap}")
        if self.max_file_mb <= 0 or self.max_parse_s <= 0:
            raise ValueError(f"max_file_mb, max_parse_s must be positive, got {self.max_file_mb}, {self.max_parse_s}")
        if self.max_parse_mb < 256:
            raise ValueError(f"max_parse_mb must be at least 256 (the reader needs some), got {self.max_parse_mb}")
        if self.index not in ("auto", "flat", "hnsw"):
            raise ValueError(f"index must be auto, flat or hnsw, got {self.index!r}")
        if self.phrasings < 1 or self.roundtrip_k < 1:
            raise ValueError("phrasings and roundtrip_k must be at least 1")
        for name in ("holdout_share", "holdout_docs"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 0 and below 1, got {getattr(self, name)}")
        self.collection = collection_name(self.collection) if self.collection.strip() else ""
        if self.generator_model and self.generator_url:
            raise ValueError("give generator_model or generator_url, not both")
