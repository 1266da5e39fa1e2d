"""The workspace's Q&A pairs as data: samples, and JSONL in the chat `messages` format.

The export is what TRL's SFTTrainer, LLaMA-Factory (sharegpt format with role/content tags) and Axolotl
(`type: chat_template`) read: one object a line, `{"messages": [{"role": "user", ...}, {"role": "assistant",
...}]}`; `--with-source` adds a `source` object (document, heading, chunk id, split) for tracing.
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

from ingest import store
from ingest.records import Access, Pair

SPLITS = ("train", "heldout", "unseen")


def samples(db: sqlite3.Connection, access: Access, split: str, n: int, seed: int = 0) -> list[Pair]:
    """n pairs spread over the documents `access` may read, the same ones for the same seed."""
    found = store.pairs(db, access, split)
    if len(found) <= n:
        return found
    return sorted(random.Random(seed).sample(found, n), key=lambda p: p.id)


def export(
    db: sqlite3.Connection, access: Access, file: Path, split: str | None = "train", with_source: bool = False
) -> int:
    found = store.pairs(db, access, split)
    file.parent.mkdir(parents=True, exist_ok=True)
    with open(file, "w", encoding="utf-8") as out:
        for p in found:
            record: dict[str, object] = {
                "messages": [{"role": "user", "content": p.question}, {"role": "assistant", "content": p.answer}]
            }
            if with_source:  # "kind" is the template's name: the key stays as files exported before have it
                record["source"] = {
                    "doc": p.document,
                    "heading": p.heading,
                    "chunk_id": p.chunk_id,
                    "evidence": p.evidence,
                    "split": p.split,
                    "kind": p.template,
                }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(found)
