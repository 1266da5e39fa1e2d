"""What reading documents in a bounded child process costs, against reading them in the ingest's own process.

    python bench/reader_cost.py [--rounds 3]

Every file of the film set (169 HTML pages) and of data/sample (30 files in five formats) is parsed to its last
block, first in this process with `parse.parse` (the baseline: how ingest read before), then through
`sandbox.Reader` (a child process under a memory limit and a time limit, started once, as one ingest does), in
alternating rounds. Prints each round's seconds, the medians and their ratio. The child's start-up is counted.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from ingest.config import IngestConfig
from ingest.parse import FORMATS, parse
from ingest.sandbox import Reader

ROOT = Path(__file__).resolve().parent.parent
FILM = ROOT.parent / "shared" / "benchmarks" / "film" / "docs"


def files() -> list[Path]:
    found = [p for folder in (FILM, ROOT / "data" / "sample") for p in sorted(folder.rglob("*"))]
    return [p for p in found if p.suffix.lower() in FORMATS]


def in_process(paths: list[Path]) -> tuple[float, int]:
    start, blocks = time.perf_counter(), 0
    for path in paths:
        blocks += sum(1 for _ in parse(path).blocks)
    return time.perf_counter() - start, blocks


def in_child(paths: list[Path]) -> tuple[float, int]:
    cfg = IngestConfig()
    start, blocks = time.perf_counter(), 0
    with Reader(cfg.max_parse_mb, cfg.max_parse_s, int(cfg.max_file_mb * 1_000_000)) as reader:
        for path in paths:
            blocks += sum(1 for _ in reader.parse(path).blocks)
    return time.perf_counter() - start, blocks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    paths = files()
    print(f"{len(paths)} files, {sum(p.stat().st_size for p in paths) / 1e6:.1f} MB")
    times: dict[str, list[float]] = {"in process (baseline)": [], "child process (Docent)": []}
    counts = set()
    for round_ in range(args.rounds):
        for label, read in (("in process (baseline)", in_process), ("child process (Docent)", in_child)):
            seconds, blocks = read(paths)
            times[label].append(seconds)
            counts.add(blocks)
            print(f"round {round_ + 1}: {label}: {seconds:.2f} s, {blocks} blocks")
    assert len(counts) == 1, f"the two ways read different blocks: {counts}"
    base, ours = (statistics.median(t) for t in times.values())
    print(f"\nmedian: in process {base:.2f} s, child process {ours:.2f} s; ratio {ours / base:.2f}x")


if __name__ == "__main__":
    main()
