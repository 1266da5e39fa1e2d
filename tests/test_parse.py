"""Each format parses into its title, headings and text; each bad input fails with a reason a user can act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.decode import ParseError
from ingest.parse import parse
from tests.docs import FACTS, pdf_bytes, write_all, write_bad_files


@pytest.mark.parametrize("ext", list(FACTS))
def test_each_format_gives_title_heading_and_text(tmp_path: Path, ext: str) -> None:
    path = write_all(tmp_path)[ext]
    title, heading, sentence = FACTS[ext]
    parsed = parse(path)
    blocks = list(parsed.blocks)
    assert parsed.title == title
    assert heading in [b.text for b in blocks if b.level]
    assert any(sentence in b.text for b in blocks if not b.level)


def test_html_drops_navigation_scripts_and_footer(tmp_path: Path) -> None:
    text = " ".join(b.text for b in parse(write_all(tmp_path)["html"]).blocks)
    assert "Menu of the intranet" not in text and "var x" not in text and "Copyright" not in text


@pytest.mark.parametrize("ext", ["html", "docx"])
def test_table_rows_name_their_columns(tmp_path: Path, ext: str) -> None:
    texts = [b.text for b in parse(write_all(tmp_path)[ext]).blocks]
    expected = "Day: Monday | Dish: Salmon soup" if ext == "html" else "Item: Replacement badge | Fee: EUR 15"
    assert expected in texts


def test_markdown_table_and_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "plans.md"
    path.write_text("---\ntitle: Price list\nauthor: x\n---\n\n| Plan | Price |\n|---|---|\n| Pro | EUR 9 |\n")
    parsed = parse(path)
    assert parsed.title == "Price list"
    assert "Plan: Pro | Price: EUR 9" in [b.text for b in parsed.blocks]


def test_pdf_page_footers_do_not_enter_the_text(tmp_path: Path) -> None:
    path = tmp_path / "long.pdf"
    path.write_bytes(pdf_bytes("Handbook", "Rules", "Keep the door closed at night.", pages=3))
    text = " ".join(b.text for b in parse(path).blocks)
    assert "page 2" not in text and "Keep the door closed" in text


def test_non_utf8_text_is_decoded_and_noted(tmp_path: Path) -> None:
    path = tmp_path / "old.txt"
    path.write_bytes("Kahvila\n\nCafé au lait costs 3,50 € at the café in Pori.\n".encode("cp1252"))
    parsed = parse(path)
    assert any("Café au lait costs 3,50 €" in b.text for b in parsed.blocks)
    assert parsed.notes == ["decoded as cp1252"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("corrupt_pdf", "the PDF is damaged"),
        ("encrypted_pdf", "password-protected"),
        ("empty", "empty file"),
        ("binary_txt", "binary data, not text"),
        ("unsupported", "unsupported file type '.xyz'"),
        ("undecodable", "encoding cannot be told; save the file as UTF-8"),
        ("corrupt_docx", "not a readable Word file"),
    ],
)
def test_bad_input_names_the_reason(tmp_path: Path, name: str, reason: str) -> None:
    path = write_bad_files(tmp_path)[name]
    with pytest.raises(ParseError, match=reason.replace("(", r"\(").replace(".", r"\.")):
        parsed = parse(path)
        list(parsed.blocks)  # text formats stream: a problem may surface while reading
