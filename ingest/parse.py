"""Documents to a stream of blocks (headings and paragraphs), one parser per format.

Each parser returns a `Parsed`: the document's title and an iterator of `Block`s, so that the chunker keeps
every chunk's heading path and a large text file never sits in memory whole. Parsing uses well-kept
libraries: pypdf, python-docx, BeautifulSoup (lxml), markdown-it-py. Anything a parser cannot read raises
`ParseError` with a reason for the ingest report.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ingest.decode import ParseError, check_zip, read_lines

FORMATS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
}


@dataclass
class Block:
    text: str
    level: int = 0  # 0 = paragraph, 1-6 = heading level


@dataclass
class Parsed:
    title: str
    format: str
    blocks: Iterator[Block]
    notes: list[str] = field(default_factory=list)  # warnings for the report, e.g. "decoded as cp1252"


def parse(path: Path, max_bytes: int | None = None) -> Parsed:
    """The file's blocks; `max_bytes` bounds what a compressed format (DOCX) may expand to. PDF streams are bounded
    by pypdf itself (75 MB each), and the time and memory of any one file by `sandbox.Reader`."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ParseError(f"unsupported file type {path.suffix or '(none)'!r}; Docent reads {supported()}")
    if path.stat().st_size == 0:
        raise ParseError("empty file")
    if fmt == "docx" and max_bytes is not None:
        check_zip(path, max_bytes)
    return PARSERS[fmt](path)


def supported() -> str:
    return " ".join(sorted(FORMATS))


def clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00ad", "")).strip()


def table_blocks(rows: list[list[str]]) -> list[Block]:
    """A table as one block per row, each cell named by its column ("Plan: Pro | Price: EUR 9"), so that a row
    read alone, in a chunk or by the model, still says what its values are."""
    rows = [r for r in rows if any(r)]
    if len(rows) < 2 or len(rows[0]) < 2:
        return [Block(" | ".join(c for c in r if c)) for r in rows]
    header, out = rows[0], []
    for row in rows[1:]:
        if len(row) == len(header):
            out.append(Block(" | ".join(f"{h}: {v}" if h else v for h, v in zip(header, row) if v)))
        else:
            out.append(Block(" | ".join(c for c in row if c)))
    return out


def _title_from_name(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip() or path.name


def _first_heading(blocks: list[Block]) -> str | None:
    return next((b.text for b in blocks if b.level), None)


# Plain text ------------------------------------------------------------------------------------------


def parse_text(path: Path) -> Parsed:
    """Paragraphs are separated by blank lines; a short line alone, or one underlined with === or ---, is a
    heading; the first short line of the file is its title."""
    notes: list[str] = []
    blocks = _text_blocks(read_lines(path, notes))
    first = next(blocks, None)
    if first is None:
        raise ParseError("no text found")
    title = first.text if len(first.text) <= 120 else _title_from_name(path)
    if first.level == 0 and len(first.text) <= 120:
        first = Block(first.text, 1)

    def stream() -> Iterator[Block]:
        yield first
        yield from blocks

    return Parsed(title, "text", stream(), notes)


def _text_blocks(lines: Iterable[str]) -> Iterator[Block]:
    para: list[str] = []
    size = 0
    for line in lines:
        stripped = line.strip()
        if para and re.fullmatch(r"(=+|-+)", stripped) and len(para) == 1:
            yield Block(clean(para[0]), 1 if stripped[0] == "=" else 2)
            para, size = [], 0
            continue
        if not stripped:
            if para:
                yield _text_paragraph(para)
                para, size = [], 0
            continue
        para.append(stripped)
        size += len(stripped)
        if size > 20_000:  # a file without blank lines: emit it in pieces, the chunker re-joins sentences
            yield Block(clean(" ".join(para)))
            para, size = [], 0
    if para:
        yield _text_paragraph(para)


def _text_paragraph(lines: list[str]) -> Block:
    text = clean(" ".join(lines))
    is_heading = len(lines) == 1 and len(text) <= 80 and not re.search(r"[.,;:!?]$", text) and len(text.split()) <= 10
    return Block(text.lstrip("#").strip() if is_heading else text, 2 if is_heading else 0)


# Markdown --------------------------------------------------------------------------------------------


def parse_markdown(path: Path) -> Parsed:
    notes: list[str] = []
    blocks = _markdown_blocks(_markdown_segments(read_lines(path, notes)))
    head = []
    for block in blocks:  # peek up to the first heading for the title
        head.append(block)
        if block.level or len(head) > 20:
            break
    if not head:
        raise ParseError("no text found")
    title = _first_heading(head) or _title_from_name(path)

    def stream() -> Iterator[Block]:
        yield from head
        yield from blocks

    return Parsed(title, "markdown", stream(), notes)


def _markdown_segments(lines: Iterable[str]) -> Iterator[str]:
    """The file in pieces cut at blank lines outside code fences, so each piece parses on its own."""
    buf: list[str] = []
    size, fenced, first = 0, False, True
    for line in lines:
        if first and line.strip() == "---":  # YAML front matter: keep its title, drop the rest
            first = False
            fenced = "front"  # type: ignore[assignment]
            continue
        first = False
        if fenced == "front":
            if line.strip() == "---":
                fenced = False
            elif line.lower().startswith("title:"):
                buf.append("# " + line.split(":", 1)[1].strip().strip("'\""))
                buf.append("")
            continue
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        buf.append(line)
        size += len(line)
        if not fenced and not line.strip() and size > 256_000:
            yield "\n".join(buf)
            buf, size = [], 0
    if buf:
        yield "\n".join(buf)


def _markdown_blocks(segments: Iterable[str]) -> Iterator[Block]:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    for segment in segments:
        level, prefix = 0, ""
        row: list[str] = []
        table: list[list[str]] = []
        in_table = False
        for tok in md.parse(segment):
            if tok.type == "heading_open":
                level = int(tok.tag[1])
            elif tok.type == "heading_close":
                level = 0
            elif tok.type == "bullet_list_open" or tok.type == "ordered_list_open":
                prefix = "- "
            elif tok.type in ("bullet_list_close", "ordered_list_close"):
                prefix = ""
            elif tok.type == "table_open":
                in_table = True
            elif tok.type == "table_close":
                in_table = False
                yield from table_blocks(table)
                table = []
            elif tok.type == "tr_close":
                table.append(row)
                row = []
            elif tok.type == "inline":
                text = clean(_inline_text(tok))
                if in_table:
                    row.append(text)
                elif not text:
                    continue
                elif level:
                    yield Block(text, level)
                else:
                    yield Block(prefix + text if prefix else text)
            elif tok.type in ("fence", "code_block") and tok.content.strip():
                yield Block(tok.content.strip())


def _inline_text(tok: object) -> str:
    parts = []
    for child in getattr(tok, "children", None) or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts)


# HTML ------------------------------------------------------------------------------------------------

BOILERPLATE = ["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template", "svg"]
HTML_BLOCKS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "blockquote", "dt", "dd", "figcaption"]


def parse_html(path: Path) -> Parsed:
    from bs4 import BeautifulSoup

    notes: list[str] = []
    text = "".join(_read_markup(path, notes))
    soup = BeautifulSoup(text, "lxml")
    title_tag = soup.find("title")
    for tag in soup(BOILERPLATE):
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    blocks: list[Block] = []
    for el in root.find_all([*HTML_BLOCKS, "table"]):
        if el.find_parent(["li", "pre", "blockquote", "table", "dd"]):
            continue  # nested inside a block already taken whole
        if el.name == "table":
            rows = [[clean(c.get_text(" ")) for c in tr.find_all(["th", "td"])] for tr in el.find_all("tr")]
            blocks.extend(table_blocks(rows))
            continue
        line = clean(el.get_text(" "))
        if line:
            level = int(el.name[1]) if re.fullmatch(r"h[1-6]", el.name) else 0
            blocks.append(Block(("- " + line) if el.name == "li" else line, level))
    if not blocks:
        loose = clean(root.get_text(" "))
        if not loose:
            raise ParseError("no text found in the HTML")
        blocks.append(Block(loose))
    title = clean(title_tag.get_text()) if title_tag else ""
    h1 = next((b.text for b in blocks if b.level == 1), "")
    if not title or (h1 and title.startswith(h1)):  # "Equipment Policy - Intranet": the page's own h1
        title = h1 or _first_heading(blocks) or _title_from_name(path)
    return Parsed(title, "html", iter(blocks), notes)


def _read_markup(path: Path, notes: list[str]) -> Iterator[str]:
    for line in read_lines(path, notes):
        yield line + "\n"


# DOCX ------------------------------------------------------------------------------------------------


def parse_docx(path: Path) -> Parsed:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except Exception as err:  # python-docx raises zip, XML and package errors on broken files
        raise ParseError(f"not a readable Word file ({err}); open and re-save it in Word or LibreOffice") from err
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = clean(item.text)
            if not text:
                continue
            style = (item.style.name if item.style is not None else "") or ""
            match = re.match(r"Heading (\d)", style)
            level = 1 if style == "Title" else int(match.group(1)) if match else 0
            if style.startswith("List") and not level:
                text = "- " + text
            blocks.append(Block(text, min(level, 6)))
        elif isinstance(item, Table):
            rows = []
            for row in item.rows:
                cells: list[str] = []
                for cell in row.cells:
                    value = clean(cell.text)
                    if not cells or cells[-1] != value:  # merged cells repeat their text
                        cells.append(value)
                rows.append(cells)
            blocks.extend(table_blocks(rows))
    if not blocks:
        raise ParseError("no text found in the Word file")
    title = clean(document.core_properties.title or "") or _first_heading(blocks) or _title_from_name(path)
    return Parsed(title, "docx", iter(blocks))


# PDF -------------------------------------------------------------------------------------------------


def parse_pdf(path: Path) -> Parsed:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # a damaged file is reported once, not in 40 warnings
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ParseError("the PDF is password-protected; save an unprotected copy and ingest that")
        lines = _drop_running_lines([_pdf_lines(page) for page in reader.pages])
        meta_title = clean((reader.metadata.title or "") if reader.metadata else "")
    except ParseError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AttributeError, IndexError) as err:
        raise ParseError(f"the PDF is damaged and cannot be read ({type(err).__name__}: {err})") from err
    except Exception as err:  # pypdf raises many kinds of errors on broken files; none may stop the run
        if "crypt" in str(err).lower():
            raise ParseError("the PDF is encrypted in a way Docent cannot open; save an unprotected copy") from err
        raise ParseError(f"the PDF is damaged and cannot be read ({type(err).__name__}: {err})") from err
    blocks = _pdf_blocks(lines)
    if not blocks:
        raise ParseError("no extractable text in the PDF (a scan?); run OCR on it first")
    return Parsed(meta_title or _first_heading(blocks) or _title_from_name(path), "pdf", iter(blocks))


def _pdf_lines(page: object) -> list[tuple[str, float]]:
    """The page's text lines, each with the largest font size on it (headings are set larger)."""
    lines: list[tuple[str, float]] = []
    current: list[str] = []
    size = 0.0

    def visit(text: str, cm: list[float], tm: list[float], font: object, font_size: float) -> None:
        nonlocal size
        scale = abs(tm[3] * cm[3]) or 1.0
        parts = text.split("\n")
        for i, part in enumerate(parts):
            if i:
                flush()
            if part.strip():
                current.append(part)
                size = max(size, float(font_size) * scale)

    def flush() -> None:
        nonlocal current, size
        line = clean("".join(current))
        if line:
            lines.append((line, size))
        current, size = [], 0.0

    page.extract_text(visitor_text=visit)  # type: ignore[attr-defined]
    flush()
    return lines


def _drop_running_lines(pages: list[list[tuple[str, float]]]) -> list[tuple[str, float]]:
    """Page headers and footers ("Employee handbook - page 3") repeat on most pages: keep them out of the text,
    or they land in the middle of a paragraph that runs over a page break."""
    if len(pages) < 2:
        return [line for page in pages for line in page]
    edges: dict[str, int] = {}
    for page in pages:
        for text in {re.sub(r"\d+", "#", t) for t, _ in page[:1] + page[-1:]}:
            edges[text] = edges.get(text, 0) + 1
    running = {text for text, n in edges.items() if n >= max(2, len(pages) // 2)}
    out = []
    for page in pages:
        for i, (text, size) in enumerate(page):
            at_edge = i == 0 or i == len(page) - 1
            if not (at_edge and re.sub(r"\d+", "#", text) in running):
                out.append((text, size))
    return out


def _pdf_blocks(lines: list[tuple[str, float]]) -> list[Block]:
    if not lines:
        return []
    weight: dict[float, int] = {}
    for text, size in lines:
        weight[round(size, 1)] = weight.get(round(size, 1), 0) + len(text)
    body = max(weight, key=lambda size: weight[size])  # the size most of the text is set in
    widest = max(len(t) for t, _ in lines)
    heading_sizes = sorted({round(s, 1) for t, s in lines if s > body * 1.12 and len(t) <= 120}, reverse=True)
    blocks: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(Block(clean(re.sub(r"(\w)- (\w)", r"\1\2", " ".join(para)))))
            para.clear()

    for text, size in lines:
        if round(size, 1) in heading_sizes:
            flush()
            level = min(heading_sizes.index(round(size, 1)) + 1, 6)
            if blocks and blocks[-1].level == level and len(blocks[-1].text) + len(text) < 120:
                blocks[-1] = Block(blocks[-1].text + " " + text, level)  # a heading wrapped over two lines
            else:
                blocks.append(Block(text, level))
            continue
        para.append(text)
        if re.search(r"[.:!?]$", text) and len(text) < 0.7 * widest:  # a short last line ends a paragraph
            flush()
    flush()
    return blocks


PARSERS = {
    "text": parse_text,
    "markdown": parse_markdown,
    "html": parse_html,
    "docx": parse_docx,
    "pdf": parse_pdf,
}
