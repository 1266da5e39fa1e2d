"""`docent ingest PATH...`: files -> documents -> chunks -> embeddings -> index -> Q&A pairs, in one transaction.

Unchanged files (same SHA-256) are skipped, changed ones have their chunks replaced, vanished ones are removed
with `--prune`. A file that cannot be read costs one line in the report and nothing else. Everything is
committed at the end or not at all (see `store.py`), so an interrupted run leaves the previous workspace.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ingest import store
from ingest.chunk import chunk_blocks, embedded_text
from ingest.config import IngestConfig
from ingest.decode import ParseError
from ingest.index import Index
from ingest.models import Embedder
from ingest.pairs import make_pairs, seeded_share
from ingest.parse import FORMATS, supported
from ingest.questions import TEMPLATES
from ingest.records import OWNER, Document
from ingest.sandbox import Reader
from ingest.store import GENERAL, Workspace, get_meta, remove_stale_generations, set_meta

EMBED_BATCH = 256


@dataclass
class Report:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # unsupported types
    notes: list[tuple[str, str]] = field(default_factory=list)  # ingested, with a warning
    chunks: int = 0
    new_chunks: int = 0
    pairs: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def exit_code(self, strict: bool) -> int:
        if strict and (self.failed or self.skipped):
            return 1
        nothing = self.added + self.updated + self.unchanged == 0
        return 1 if nothing and (self.failed or self.skipped or not self.removed) else 0


def discover(paths: list[Path], report: Report) -> list[tuple[Path, Path]]:
    """(root, file) for every file under the given paths, hidden files and folders left out.

    A link inside a folder is followed only while it stays inside that folder: `ln -s /etc/passwd docs/x.txt` must
    not put /etc/passwd in the index. Each link that leaves is one line in the report; a file given by name is
    read wherever it lies, since the user named it."""
    found: list[tuple[Path, Path]] = []
    for given in paths:
        path = given.expanduser().resolve()
        if path.is_file():
            found.append((path.parent, path))
        elif path.is_dir():
            for file in _walk(path, report):
                found.append((path, file))
        else:
            report.failed.append((str(given), "no such file or folder"))
    return found


def _walk(root: Path, report: Report) -> Iterator[Path]:
    """Files under `root` in name order, not hidden; links leaving `root` reported and not followed."""
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "~$")))
        for name in sorted([*files, *(d for d in dirs if os.path.islink(os.path.join(folder, d)))]):
            path = Path(folder) / name
            if name.startswith((".", "~$")):
                continue
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root):
                    report.skipped.append((str(path), f"a link to {target}, outside the folder given: not followed"))
                    continue
                if target.is_dir():
                    continue  # its files are read where they lie, inside the folder
            if path.is_file():
                yield path


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


Step = Callable[[str, int, int], None]  # (stage, done, total): progress for callers other than the terminal
LoadLLM = Callable[[str], tuple[Any, Any]]  # name -> (tokenizer, model)


def ingest(
    paths: list[Path],
    cfg: IngestConfig,
    workspace: Path,
    progress: bool = True,
    embedder: Embedder | None = None,
    on_step: Step | None = None,
    load_llm: LoadLLM | None = None,
) -> Report:
    """Ingest `paths` into `workspace`; a loaded `embedder` of the configured model can be passed in to reuse it,
    `on_step` hears of each file parsed and each batch embedded (the web app's progress bar), and `load_llm(name)`
    gives (tokenizer, model) of the LLM that writes questions where `generator_model` names one."""
    step: Step = on_step or (lambda stage, done, total: None)
    started, t0 = _now(), time.perf_counter()
    report = Report()
    ws = Workspace(workspace)
    files = discover(paths, report)
    if embedder is None or embedder.name != cfg.embedder:
        embedder = Embedder(cfg.embedder)
    reader = Reader(cfg.max_parse_mb, cfg.max_parse_s, int(cfg.max_file_mb * 1_000_000))
    with ws.writer() as db, reader:
        _check_embedder(db, cfg, embedder)
        seen: set[str] = set()
        for done, (root, file) in enumerate(tqdm(files, desc="Parsing", unit="file", disable=not progress), 1):
            _ingest_file(db, root, file, cfg, embedder, reader, report, seen)
            step("Reading documents", done, len(files))
        if cfg.prune:
            report.removed = _prune(db, paths, seen)
        _embed_missing(db, embedder, progress, step)
        holdout_changed = _assign_holdout_docs(db, cfg)
        index, texts = _build_index(db, cfg)
        if cfg.pairs:
            step("Writing Q&A pairs", 0, 1)
            _update_pairs(db, cfg, embedder, index, texts, holdout_changed, progress, load_llm)
            step("Writing Q&A pairs", 1, 1)
        generation, previous = _switch_index(db, ws, index)
        report.chunks = len(index)
        report.pairs = {split: sum(n.values()) for split, n in store.pair_counts(db).items()}
        report.seconds = time.perf_counter() - t0
        summary = {k: v for k, v in asdict(report).items() if k != "seconds"}
        store.log_ingest(db, started, _now(), [str(p) for p in paths], summary)
    remove_stale_generations(ws, keep={generation, previous})
    return report


def remove(workspace: Path, doc_ids: list[int], cfg: IngestConfig | None = None) -> int:
    """Remove documents (their chunks and pairs go with them) and switch to an index without them."""
    cfg = cfg or IngestConfig()
    ws = Workspace(workspace)
    with ws.writer() as db:
        removed = sum(store.remove_document(db, i) for i in doc_ids)
        index, _ = _build_index(db, cfg)
        generation, previous = _switch_index(db, ws, index)
    remove_stale_generations(ws, keep={generation, previous})
    return removed


def _switch_index(db: sqlite3.Connection, ws: Workspace, index: Index) -> tuple[str, str]:
    """Write the index as a new generation and point the (uncommitted) transaction at it."""
    previous = get_meta(db, "index_generation") or ""
    generation = index.save(ws.index_root)
    set_meta(db, "index_generation", generation)
    set_meta(db, "previous_generation", previous)
    return generation, previous


def _check_embedder(db: sqlite3.Connection, cfg: IngestConfig, embedder: Embedder) -> None:
    """A workspace is embedded by one model; switching models re-embeds every chunk from its stored text."""
    before = get_meta(db, "embedder")
    if before is not None and before != cfg.embedder:
        store.clear_embeddings(db)
    set_meta(db, "embedder", cfg.embedder)
    set_meta(db, "embedding_dim", str(embedder.dim))
    set_meta(db, "chunking", json.dumps({"chunk_tokens": cfg.chunk_tokens, "chunk_overlap": cfg.chunk_overlap}))


def _ingest_file(
    db: sqlite3.Connection,
    root: Path,
    file: Path,
    cfg: IngestConfig,
    embedder: Embedder,
    reader: Reader,
    report: Report,
    seen: set[str],
) -> None:
    shown = str(file)
    seen.add(str(file))
    if file.suffix.lower() not in FORMATS:
        report.skipped.append((shown, f"unsupported file type {file.suffix or '(none)'!r}; Docent reads {supported()}"))
        return
    size = file.stat().st_size
    if size > cfg.max_file_mb * 1_000_000:
        report.failed.append(
            (shown, f"{size / 1e6:.1f} MB is over the {cfg.max_file_mb:g} MB limit; raise --max-file-mb to ingest it")
        )
        return
    digest = sha256(file)
    old = store.document_at(db, str(file))
    collection = cfg.collection or (old.collection if old is not None else GENERAL)  # never moved unless asked
    if old is not None and old.sha256 == digest:
        if old.collection != collection:  # the same file, given to another collection: it moves there
            store.set_collection(db, old.id, collection)
            report.notes.append((shown, f"moved from the collection {old.collection} to {collection}"))
        report.unchanged += 1
        return
    try:
        with store.savepoint(db):
            cached: dict[str, bytes] = {}
            if old is not None:  # embeddings of unchanged chunks are reused, not recomputed
                cached = store.embeddings_of(db, old.id)
                store.remove_document(db, old.id)
            parsed = reader.parse(file)
            doc = Document(
                0,
                str(file),
                str(file.relative_to(root)),
                parsed.title,
                parsed.format,
                digest,
                size,
                holdout=False,
                ingested_at=_now(),
                collection=collection,
            )
            doc_id = store.add_document(db, doc)
            count = 0
            for ord_, chunk in enumerate(
                chunk_blocks(parsed.blocks, embedder.count_tokens, cfg.chunk_tokens, cfg.chunk_overlap)
            ):
                text_hash = hashlib.sha1(embedded_text(parsed.title, chunk.heading, chunk.text).encode()).hexdigest()
                store.add_chunk(db, doc_id, ord_, chunk, text_hash, cached.get(text_hash))
                count += 1
            if count == 0:
                raise ParseError("no text found")
    except sqlite3.Error:
        raise  # the workspace itself failed (disk full…): stop, and the transaction rolls back
    except Exception as err:  # any parser failure costs this file only (the savepoint undid its writes)
        reason = str(err) if isinstance(err, ParseError) else f"{type(err).__name__}: {err}"
        report.failed.append((shown, reason))
        return
    report.new_chunks += count
    for note in parsed.notes:
        report.notes.append((shown, note))
    if old is None:
        report.added += 1
    else:
        report.updated += 1


def _prune(db: sqlite3.Connection, paths: list[Path], seen: set[str]) -> int:
    roots = [str(p.expanduser().resolve()) for p in paths]
    removed = 0
    for doc in store.documents(db, OWNER):
        under = any(doc.path == r or doc.path.startswith(r.rstrip("/") + "/") for r in roots)
        if under and doc.path not in seen:
            store.remove_document(db, doc.id)
            removed += 1
    return removed


def _embed_missing(db: sqlite3.Connection, embedder: Embedder, progress: bool, step: Step) -> None:
    total = store.count_unembedded(db)
    with tqdm(total=total, desc="Embedding", unit="chunk", disable=not progress or total == 0) as bar:
        while chunks := store.unembedded(db, EMBED_BATCH):
            vectors = embedder.encode([c.embedded_text for c in chunks])
            store.set_embeddings(db, [(c.id, v.tobytes()) for c, v in zip(chunks, vectors, strict=True)])
            bar.update(len(chunks))
            step("Embedding chunks", bar.n, total)


def _assign_holdout_docs(db: sqlite3.Connection, cfg: IngestConfig) -> bool:
    """Mark the seeded share of documents kept out of training; True when the marks changed."""
    docs = store.documents(db, OWNER)
    count = round(cfg.holdout_docs * len(docs))
    if cfg.holdout_docs > 0 and len(docs) >= 2:
        count = max(count, 1)
    ranked = sorted(docs, key=lambda d: seeded_share(cfg.seed, "doc:" + d.name))
    chosen = {d.id for d in ranked[:count]}
    changed = [d.id for d in docs if d.holdout != (d.id in chosen)]
    for doc_id in changed:
        store.set_holdout(db, doc_id, doc_id in chosen)
    return bool(changed)


def _build_index(db: sqlite3.Connection, cfg: IngestConfig) -> tuple[Index, dict[int, str]]:
    chunks = store.indexed_chunks(db)
    ids = np.array([c.id for c in chunks], dtype=np.int64)
    dim = int(get_meta(db, "embedding_dim") or 0)
    vectors = np.frombuffer(b"".join(c.embedding or b"" for c in chunks), dtype=np.float32).reshape(len(chunks), dim)
    index = Index.build(ids, vectors, [c.embedded_text for c in chunks], cfg.index)
    return index, {c.id: c.text for c in chunks}


def _pair_settings(cfg: IngestConfig) -> str:
    keys = ("phrasings", "roundtrip_k", "holdout_share", "seed", "generator_model", "generator_url")
    return json.dumps({"templates": TEMPLATES, **{k: getattr(cfg, k) for k in keys}}, sort_keys=True)


def _update_pairs(
    db: sqlite3.Connection,
    cfg: IngestConfig,
    embedder: Embedder,
    index: Index,
    texts: dict[int, str],
    holdout_changed: bool,
    progress: bool,
    load_llm: LoadLLM | None,
) -> None:
    """Pairs for chunks that have none yet; for every chunk when the pair settings or held-out documents changed."""
    settings = _pair_settings(cfg)
    if holdout_changed or get_meta(db, "pair_settings") != settings:
        store.clear_pairs(db)
    set_meta(db, "pair_settings", settings)
    chunks = store.chunks_without_pairs(db)
    if not chunks:
        return

    def embed(questions: list[str]) -> np.ndarray:
        return embedder.encode(questions, progress=progress, desc="Embedding questions")

    def roundtrip(questions: list[str], vectors: np.ndarray) -> list[list[tuple[int, str]]]:
        hits = index.search(vectors, questions, k=cfg.roundtrip_k)
        return [[(h.chunk_id, texts[h.chunk_id]) for h in top] for top in hits]

    proposer = None
    if cfg.generator_url:
        from ingest.generator import endpoint_proposer

        proposer = endpoint_proposer(cfg.generator_url)
    elif cfg.generator_model:
        from ingest.generator import local_proposer

        if load_llm is None:
            raise ValueError("generator_model needs an LLM loader: pass load_llm (docent ingest passes Docent's own)")
        proposer = local_proposer(*load_llm(cfg.generator_model))
    if progress:
        print(f"Writing questions for {len(chunks)} chunks and checking each retrieves its source…", flush=True)
    store.add_pairs(db, make_pairs(chunks, roundtrip, embed, cfg.phrasings, cfg.holdout_share, cfg.seed, proposer))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
