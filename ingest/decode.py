"""Bytes to text for plain-text formats: tell binary from text, find the encoding, decode in bounded memory.

UTF-8 (with or without a byte-order mark) and UTF-16/32 with a mark are read as such; anything else is
handed to charset-normalizer, which names the encoding when it can tell. A file it cannot tell, or one that
looks like binary data, is refused with a reason the user can act on.
"""

from __future__ import annotations

import codecs
import zipfile
from collections.abc import Iterator
from pathlib import Path

SNIFF_BYTES = 1 << 20  # the encoding is told from the first MiB; enough for any detector, bounded for huge files
READ_BYTES = 1 << 20

# A compressed part may inflate at most this many times, once it is over ZIP_GRACE: Apache POI's default, which no
# genuine Office file it has met in years of use exceeds, while a zip bomb inflates thousands of times.
ZIP_RATIO = 100
ZIP_GRACE = 1 << 20

LATIN = ("Basic Latin", "Latin", "General Punctuation", "Control character", "Spacing Modifier", "Currency")
BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


class ParseError(Exception):
    """A file Docent cannot read; the message is the reason shown in the ingest report."""


def looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    control = sum(1 for b in head[:8192] if b < 32 and b not in b"\t\n\r\f\v\x1b")
    return control > 0.05 * min(len(head), 8192)


def sniff_encoding(head: bytes) -> str:
    """The encoding of a file that starts with `head`, or ParseError saying why it cannot be read as text."""
    if not head:
        raise ParseError("empty file")
    for bom, encoding in BOMS:
        if head.startswith(bom):
            return encoding
    if looks_binary(head):
        raise ParseError("binary data, not text (is the extension right?)")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)  # a cut multi-byte tail is fine
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    if best is None or best.chaos > 0.3:
        raise ParseError("text encoding cannot be told; save the file as UTF-8 and ingest it again")
    if all(a.startswith(LATIN) for a in best.alphabets):
        # Short Western texts fit many code pages equally well (cp1252 "Café" also decodes as cp775 "Cafķ");
        # Windows-1252 is by far the most common of them, so it wins whenever it decodes.
        try:
            head.decode("cp1252")
            return "cp1252"
        except UnicodeDecodeError:
            pass
    return str(best.encoding)


def check_zip(path: Path, max_bytes: int) -> None:
    """Refuse a Word file (a zip) whose parts would expand past `max_bytes`, or inflate like a zip bomb.

    The parts' declared sizes are checked before anything is inflated; a part whose data inflates past its
    declared size is cut there by zipfile, which then fails its checksum, so the declared sizes bound the actual."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError) as err:
        raise ParseError(f"not a readable Word file ({err}); open and re-save it in Word or LibreOffice") from err
    total = sum(p.file_size for p in parts)
    if total > max_bytes:
        raise ParseError(
            f"it expands to {total / 1e6:,.1f} MB, over the {max_bytes / 1e6:g} MB limit; raise "
            "--max-file-mb if the file is genuine"
        )
    for part in parts:
        if part.file_size > ZIP_GRACE and part.file_size > ZIP_RATIO * max(part.compress_size, 1):
            ratio = part.file_size / max(part.compress_size, 1)
            raise ParseError(
                f"its part {part.filename} inflates {ratio:,.0f} times (to {part.file_size / 1e6:,.1f} "
                "MB), as only a zip bomb does"
            )


def read_text(path: Path, notes: list[str]) -> Iterator[str]:
    """The decoded text of `path` in pieces of about a MiB; a non-UTF-8 encoding is noted in `notes`."""
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
        encoding = sniff_encoding(head)
        if encoding not in ("utf-8", "utf-8-sig"):
            notes.append(f"decoded as {encoding}")
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        replaced = 0
        data = head
        while data:
            text = decoder.decode(data)
            replaced += text.count("\ufffd")
            yield text
            data = f.read(READ_BYTES)
        tail = decoder.decode(b"", final=True)
        replaced += tail.count("\ufffd")
        if tail:
            yield tail
    if replaced:
        notes.append(f"{replaced} undecodable bytes replaced")


def read_lines(path: Path, notes: list[str]) -> Iterator[str]:
    """Lines without their ending, streamed: memory stays bounded by the longest line."""
    pending = ""
    for piece in read_text(path, notes):
        pending += piece
        lines = pending.split("\n")
        pending = lines.pop()
        for line in lines:
            yield line.rstrip("\r")
        if len(pending) > READ_BYTES * 4:  # one enormous line: cut it rather than grow without bound
            yield pending
            pending = ""
    if pending:
        yield pending.rstrip("\r")
