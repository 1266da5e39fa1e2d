"""Small documents in every format, and broken ones, built on the fly for the tests."""

from __future__ import annotations

import io
from pathlib import Path

FACTS = {
    "md": ("Locker policy", "Lockers", "Each employee gets locker number 417 in the Kestrel room."),
    "txt": ("Parking guide", "Visitor parking", "Visitors park in zone C7 for at most 3 hours."),
    "html": ("Canteen rules", "Opening hours", "The canteen serves lunch from 11:15 until 13:30 on weekdays."),
    "docx": ("Badge handbook", "Lost badges", "A lost badge is replaced by Marja Kivinen within 2 working days."),
    "pdf": ("Fire safety", "Assembly point", "The assembly point is the north car park next to gate 6."),
}


def write_md(path: Path, title: str, heading: str, sentence: str) -> Path:
    path.write_text(
        f"# {title}\n\nIntro paragraph for {title.lower()}.\n\n## {heading}\n\n{sentence}\n", encoding="utf-8"
    )
    return path


def write_txt(path: Path, title: str, heading: str, sentence: str) -> Path:
    path.write_text(f"{title}\n\nGeneral notes about {title.lower()}.\n\n{heading}\n\n{sentence}\n", encoding="utf-8")
    return path


def write_html(path: Path, title: str, heading: str, sentence: str) -> Path:
    path.write_text(
        f"<html><head><title>{title} - Intranet</title><script>var x = 1;</script></head><body>"
        f"<nav><a href='/'>Home</a> <a href='/menu'>Menu of the intranet</a></nav>"
        f"<h1>{title}</h1><p>About {title.lower()}.</p><h2>{heading}</h2><p>{sentence}</p>"
        f"<table><tr><th>Day</th><th>Dish</th></tr><tr><td>Monday</td><td>Salmon soup</td></tr></table>"
        f"<footer>Copyright Quillmate</footer></body></html>",
        encoding="utf-8",
    )
    return path


def write_docx(path: Path, title: str, heading: str, sentence: str) -> Path:
    import docx

    document = docx.Document()
    document.add_heading(title, level=0)
    document.add_paragraph(f"Introduction to {title.lower()}.")
    document.add_heading(heading, level=1)
    document.add_paragraph(sentence)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Item", "Fee"
    table.cell(1, 0).text, table.cell(1, 1).text = "Replacement badge", "EUR 15"
    document.save(str(path))
    return path


def pdf_bytes(title: str, heading: str, sentence: str, pages: int = 1) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(title)
    for page in range(pages):
        pdf.add_page()
        pdf.set_font("helvetica", "B", 18)
        pdf.cell(0, 10, title if page == 0 else f"{title} (continued)", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", "B", 14)
        pdf.cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", "", 11)
        pdf.multi_cell(0, 6, sentence if page == 0 else f"Notes for part {page + 1} of the {title.lower()}.")
        pdf.set_auto_page_break(False)
        pdf.set_y(-15)
        pdf.cell(0, 10, f"{title} - page {page + 1}")
    return bytes(pdf.output())


def write_pdf(path: Path, title: str, heading: str, sentence: str) -> Path:
    path.write_bytes(pdf_bytes(title, heading, sentence))
    return path


WRITERS = {"md": write_md, "txt": write_txt, "html": write_html, "docx": write_docx, "pdf": write_pdf}


def write_all(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return {ext: WRITERS[ext](folder / f"{ext}-doc.{ext}", *FACTS[ext]) for ext in FACTS}


def write_encrypted_pdf(path: Path) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf_bytes("Secret", "Salaries", "The salary table is private."))).pages:
        writer.add_page(page)
    writer.encrypt(user_password="hunter2", owner_password="owner")
    with open(path, "wb") as f:
        writer.write(f)
    return path


def write_bad_files(folder: Path) -> dict[str, Path]:
    """Each bad input a user can give, with the reason the report must name."""
    folder.mkdir(parents=True, exist_ok=True)
    good = pdf_bytes("Broken", "Part", "This PDF loses its second half.")
    files = {
        "corrupt_pdf": folder / "corrupt.pdf",
        "encrypted_pdf": write_encrypted_pdf(folder / "encrypted.pdf"),
        "empty": folder / "empty.txt",
        "binary_txt": folder / "binary.txt",
        "unsupported": folder / "diagram.xyz",
        "undecodable": folder / "mystery.txt",
        "corrupt_docx": folder / "corrupt.docx",
    }
    files["corrupt_pdf"].write_bytes(good[: len(good) // 3])
    files["empty"].write_bytes(b"")
    files["binary_txt"].write_bytes(bytes(range(256)) * 20)
    files["unsupported"].write_bytes(b"<diagram/>")
    files["undecodable"].write_bytes(bytes(range(0x80, 0x100)) * 4)
    files["corrupt_docx"].write_bytes(b"PK\x03\x04 not really a zip file")
    return files


def write_docx_bomb(path: Path, megabytes: int) -> Path:
    """A valid Word file whose text is `megabytes` MB of empty paragraphs: a few dozen KB on disk."""
    import zipfile

    write_docx(path.with_suffix(".seed.docx"), "Bomb", "Part", "Nothing to see.")
    with zipfile.ZipFile(path.with_suffix(".seed.docx")) as seed, zipfile.ZipFile(path, "w") as out:
        for item in seed.infolist():
            data = seed.read(item.filename)
            if item.filename == "word/document.xml":
                head, _, tail = data.decode().partition("<w:body>")
                empty = "<w:p/>" * (megabytes * 1_000_000 // 6)
                data = f"{head}<w:body>{empty}{tail}".encode()
            out.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    path.with_suffix(".seed.docx").unlink()
    return path


def write_lying_docx(path: Path) -> Path:
    """A Word file whose document part claims to hold 2 KB and inflates to 5 MB: its zip sizes are forged."""
    import struct
    import zipfile

    write_docx_bomb(path, 5)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("word/document.xml")
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, info.header_offset + 22, 2000)  # the local header's uncompressed size
    at = data.find(b"PK\x01\x02")
    while at != -1:  # the central directory's entries
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + name_len]) == b"word/document.xml":
            struct.pack_into("<I", data, at + 24, 2000)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))
    return path
