"""What ingest will not read: links that leave the folder given, files that expand like a bomb, and files that
take more time or memory than allowed. Each costs its file one line in the report; the rest is ingested."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ingest.config import IngestConfig
from ingest.decode import ParseError
from ingest.pipeline import ingest
from ingest.sandbox import Reader
from ingest.store import Workspace
from tests.docs import FACTS, write_all, write_docx_bomb, write_lying_docx

SECRET = "The vault code is 7319 and only the board may know it."


def run(paths: list[Path], ws: Path, embedder, **settings):  # type: ignore[no-untyped-def]
    return ingest(paths, IngestConfig(**settings), ws, progress=False, embedder=embedder)


def stored_text(ws: Path) -> str:
    return " ".join(r[0] for r in Workspace(ws).connect().execute("SELECT text FROM chunks"))


def test_links_that_leave_the_folder_are_not_followed(tmp_path: Path, embedder) -> None:
    docs = tmp_path / "docs"
    write_all(docs)
    outside = tmp_path / "outside"
    (outside / "private").mkdir(parents=True)
    (outside / "secret.txt").write_text(f"Vault\n\n{SECRET}\n")
    (outside / "private" / "board.md").write_text(f"# Board\n\n{SECRET}\n")
    (docs / "x.txt").symlink_to(outside / "secret.txt")
    (docs / "more").symlink_to(outside / "private", target_is_directory=True)
    (docs / "passwd.txt").symlink_to("/etc/passwd")
    (docs / "alias.md").symlink_to(docs / "md-doc.md")  # a link inside the folder is fine

    report = run([docs], tmp_path / "ws", embedder)
    skipped = dict(report.skipped)
    for link, target in [
        ("x.txt", outside / "secret.txt"),
        ("more", outside / "private"),
        ("passwd.txt", Path("/etc/passwd")),
    ]:
        assert f"a link to {target}, outside the folder given: not followed" == skipped[str(docs / link)]
    text = stored_text(tmp_path / "ws")
    assert "vault code" not in text and "root:" not in text
    names = {r[0] for r in Workspace(tmp_path / "ws").connect().execute("SELECT name FROM documents")}
    assert names == {f"{ext}-doc.{ext}" for ext in FACTS} | {"alias.md"}
    assert report.exit_code(strict=False) == 0


def test_a_file_named_on_the_command_line_is_read_where_its_link_points(tmp_path: Path, embedder) -> None:
    (tmp_path / "elsewhere.md").write_text("# Note\n\nThe shuttle leaves at 07:45 from gate 3.\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "note.md").symlink_to(tmp_path / "elsewhere.md")
    report = run([tmp_path / "docs" / "note.md"], tmp_path / "ws", embedder)
    assert report.added == 1 and "shuttle leaves at 07:45" in stored_text(tmp_path / "ws")


def test_a_docx_bomb_is_refused_before_it_is_inflated(tmp_path: Path, embedder) -> None:
    docs = tmp_path / "docs"
    write_all(docs)
    bomb = write_docx_bomb(docs / "bomb.docx", 20)  # 20 MB of empty paragraphs in a few dozen KB
    assert bomb.stat().st_size < 100_000
    started = time.perf_counter()
    report = run([docs], tmp_path / "ws", embedder)
    assert "inflates 667 times (to 20.0 MB), as only a zip bomb does" in dict(report.failed)[str(bomb)]
    assert report.added == len(FACTS)
    assert time.perf_counter() - started < 60  # it took 51 s and 1.35 GB before, with nothing else to do

    small_limit = run([docs], tmp_path / "ws2", embedder, max_file_mb=1)  # what it expands to counts, not its size
    assert "it expands to 20.8 MB, over the 1 MB limit" in dict(small_limit.failed)[str(bomb)]


def test_a_docx_whose_sizes_lie_is_refused_by_its_checksum(tmp_path: Path, embedder) -> None:
    docs = tmp_path / "docs"
    write_all(docs)
    liar = write_lying_docx(docs / "liar.docx")  # says 2 KB, inflates to 5 MB
    report = run([docs], tmp_path / "ws", embedder)
    assert "Bad CRC-32" in dict(report.failed)[str(liar)]
    assert report.added == len(FACTS)


@pytest.fixture(scope="module")
def big_html(tmp_path_factory) -> Path:
    """A genuine but heavy page: a 300,000-row table (20 MB) that BeautifulSoup takes seconds and a GB to read."""
    path = tmp_path_factory.mktemp("big") / "big.html"
    row = "<tr><td>Cell one</td><td>Cell two with words</td><td>3</td></tr>\n"
    path.write_text("<html><body><table>" + row * 300_000 + "</table><p>End.</p></body></html>")
    return path


def test_a_file_that_takes_too_long_is_given_up_and_the_next_is_read(tmp_path: Path, big_html: Path) -> None:
    (tmp_path / "next.md").write_text("# Next\n\nThe next file is read as usual.\n")
    with Reader(memory_mb=4096, seconds=1.0, max_bytes=10**9) as reader:
        started = time.perf_counter()
        with pytest.raises(ParseError, match=r"reading it took more than 1 s; raise --max-parse-s"):
            list(reader.parse(big_html).blocks)
        assert time.perf_counter() - started < 10
        assert [b.text for b in reader.parse(tmp_path / "next.md").blocks][-1] == "The next file is read as usual."


def test_a_file_that_needs_too_much_memory_is_given_up(tmp_path: Path, big_html: Path) -> None:
    (tmp_path / "next.md").write_text("# Next\n\nThe next file is read as usual.\n")
    with Reader(memory_mb=300, seconds=300, max_bytes=10**9) as reader:
        with pytest.raises(ParseError, match=r"needs more than 300 MB of memory; raise --max-parse-mb"):
            list(reader.parse(big_html).blocks)
        child = reader.process.pid
        assert [b.text for b in reader.parse(tmp_path / "next.md").blocks][-1] == "The next file is read as usual."
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)  # and the reader ended with the ingest


def test_limits_reach_the_report_of_a_real_ingest(tmp_path: Path, big_html: Path, embedder) -> None:
    docs = tmp_path / "docs"
    write_all(docs)
    heavy = docs / "heavy.html"
    heavy.symlink_to(big_html)  # outside the folder: not followed
    report = run([docs], tmp_path / "ws", embedder)
    assert str(heavy) in dict(report.skipped)
    heavy.unlink()
    heavy.write_bytes(big_html.read_bytes())
    report = run([docs], tmp_path / "ws", embedder, max_parse_mb=300)
    assert "needs more than 300 MB of memory" in dict(report.failed)[str(heavy)]
    assert report.unchanged == len(FACTS)
