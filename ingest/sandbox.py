"""Parsing in a child process bounded in memory and time, so that no single file can take an ingest down.

A file built to expand a thousandfold (a zip bomb named .docx, a PDF whose streams inflate to gigabytes) or to
make a parser crawl is that file's problem, not the run's: the child that reads it runs under an address-space
limit (`max_parse_mb`), the parent stops waiting once the child has worked `max_parse_s` seconds on one file,
and either way the file costs one line in the report. The child is started once per ingest and reads file after
file; one that was stopped is replaced for the next file. Blocks come back in batches as the parser yields them,
so a large text file still streams in bounded memory, in both processes.

The child is `python -m ingest.sandbox`, not a multiprocessing Process: spawning one of those imports the
caller's main script again, which breaks any script that calls `ingest()` without a `__main__` guard.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ingest.decode import ParseError
from ingest.parse import Parsed, parse

ROOT = Path(__file__).resolve().parent.parent
BATCH = 256  # blocks a message
STARTUP_S = 60  # a new Python process, on a busy machine


def _serve(conn: Connection, memory_mb: int) -> None:
    """The child: parse each path sent, send back the title, the blocks in batches, then the notes."""
    if memory_mb:
        try:
            import resource

            limit = memory_mb * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ImportError, ValueError, OSError):  # not every system lets a process cap its address space
            pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it ends the child
    conn.send(("ready",))  # the child's start-up does not count against the first file's time
    while (request := _next(conn)) is not None:
        path, max_bytes = request
        try:
            parsed = parse(Path(path), max_bytes)
            conn.send(("head", parsed.title, parsed.format))
            batch = []
            for block in parsed.blocks:
                batch.append(block)
                if len(batch) == BATCH:
                    conn.send(("blocks", batch))
                    batch = []
            conn.send(("blocks", batch))
            conn.send(("done", parsed.notes))
        except ParseError as err:
            conn.send(("error", str(err)))
        except MemoryError:
            conn.send(
                (
                    "error",
                    f"reading it needs more than {memory_mb} MB of memory; raise --max-parse-mb if the file is genuine",
                )
            )
        except Exception as err:  # a parser's own failure: this file's line in the report
            conn.send(("error", f"{type(err).__name__}: {err}"))


def _next(conn: Connection) -> Any:
    try:
        return conn.recv()
    except EOFError:  # the parent is gone
        return None


class Reader:
    """Parses files in a child process; use as a context manager so the child ends with the ingest."""

    def __init__(self, memory_mb: int, seconds: float, max_bytes: int):
        self.memory_mb, self.seconds, self.max_bytes = memory_mb, seconds, max_bytes
        self.process: Any = None
        self.conn: Connection | None = None
        self.busy = False  # a file's blocks are still on their way
        self.left = 0.0

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def parse(self, path: Path) -> Parsed:
        """Like `parse.parse`, read in the child; the blocks stream as the caller consumes them."""
        if self.busy:  # the caller left the last file half read: its child still sends it, so it goes
            self.close()
        conn = self._child()
        conn.send((str(path), self.max_bytes))
        self.busy, self.left = True, self.seconds
        kind, *rest = self._receive()
        if kind == "error":
            self.busy = False
            raise ParseError(rest[0])
        notes: list[str] = []
        return Parsed(rest[0], rest[1], self._blocks(notes), notes)

    def _blocks(self, notes: list[str]) -> Iterator[Any]:
        while True:
            kind, payload = self._receive()
            if kind == "blocks":
                yield from payload
            else:
                self.busy = False
                if kind == "error":
                    raise ParseError(payload)
                notes.extend(payload)
                return

    def _receive(self) -> Any:
        """The child's next message; only the time spent waiting for the child counts against the file."""
        assert self.conn is not None
        start = time.monotonic()
        ready = self.conn.poll(max(self.left, 0.0))
        self.left -= time.monotonic() - start
        if not ready:
            self.close()
            raise ParseError(
                f"reading it took more than {self.seconds:g} s; raise --max-parse-s if the file is genuine"
            )
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            try:
                code = self.process.wait(timeout=5) if self.process is not None else None
            except subprocess.TimeoutExpired:
                code = None
            self.close()
            raise ParseError(
                f"the reader stopped on this file (exit code {code}), as a file built to exhaust memory makes it do"
            ) from None

    def _child(self) -> Connection:
        if self.process is None or self.process.poll() is not None:
            self.close()
            ours, theirs = socket.socketpair()
            command = [sys.executable, "-m", "ingest.sandbox", str(theirs.fileno()), str(self.memory_mb)]
            paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]  # Docent itself, installed or not
            self.process = subprocess.Popen(
                command,
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
            )
            theirs.close()
            self.conn = Connection(ours.detach())
            if not self.conn.poll(STARTUP_S):
                self.close()
                raise RuntimeError(f"the document reader did not start within {STARTUP_S} s")
            self.conn.recv()
        assert self.conn is not None
        return self.conn

    def close(self) -> None:
        if self.process is not None:
            if self.process.poll() is None and not self.busy and self.conn is not None:
                try:
                    self.conn.send(None)
                    self.process.wait(timeout=2)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
        if self.conn is not None:
            self.conn.close()
        self.process, self.conn, self.busy = None, None, False


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])), int(sys.argv[2]))
