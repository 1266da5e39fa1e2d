"""The workspace's Q&A pairs as data: counts, samples, and JSONL in the chat `messages` format.

The export is what TRL's SFTTrainer, LLaMA-Factory (sharegpt format with role/content tags) and Axolotl
(`type: chat_template`) read: one object a line, `{"messages": [{"role": "user", ...}, {"role": "assistant",
...}]}`; `--with-source` adds a `source` object (document, heading, chunk id, split) for tracing.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

SPLITS = ("train", "heldout", "unseen")

PAIRS_QUERY = """SELECT p.id, p.question, p.answer, p.evidence, p.kind, p.split, p.chunk_id, c.heading, d.name, d.title
FROM pairs p JOIN chunks c ON c.id = p.chunk_id JOIN documents d ON d.id = c.doc_id"""


def counts(db: sqlite3.Connection) -> dict[str, dict[str, int]]:
    """{split: {kind: n}}"""
    out: dict[str, dict[str, int]] = {}
    for split, kind, n in db.execute("SELECT split, kind, COUNT(*) FROM pairs GROUP BY split, kind"):
        out.setdefault(split, {})[kind] = n
    return out


def rows(db: sqlite3.Connection, split: str | None = None) -> list[sqlite3.Row]:
    if split is None:
        return db.execute(PAIRS_QUERY + " ORDER BY p.id").fetchall()
    return db.execute(PAIRS_QUERY + " WHERE p.split = ? ORDER BY p.id", (split,)).fetchall()


def samples(db: sqlite3.Connection, split: str, n: int, seed: int = 0) -> list[sqlite3.Row]:
    """n pairs spread over the documents, the same ones for the same seed."""
    found = rows(db, split)
    if len(found) <= n:
        return found
    import random

    return sorted(random.Random(seed).sample(found, n), key=lambda r: r["id"])


def export(db: sqlite3.Connection, file: Path, split: str | None = "train", with_source: bool = False) -> int:
    found = rows(db, split)
    file.parent.mkdir(parents=True, exist_ok=True)
    with open(file, "w", encoding="utf-8") as out:
        for r in found:
            record: dict[str, object] = {
                "messages": [{"role": "user", "content": r["question"]}, {"role": "assistant", "content": r["answer"]}]
            }
            if with_source:
                record["source"] = {"doc": r["name"], "heading": r["heading"], "chunk_id": r["chunk_id"],
                                    "evidence": r["evidence"], "split": r["split"], "kind": r["kind"]}  # fmt: skip
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(found)
