"""The text of an input file: its encoding (detected or declared), its lines decoded one at a time, and what
a quarantined row keeps of its text. Also the records every reader returns (``FileRecords``, ``BadRow``) and
``SourceFileError``."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes


class SourceFileError(ValueError):
    """The file as a whole cannot be read (missing, empty, undecodable, not the format it claims)."""


@dataclass(frozen=True)
class BadRow:
    row_number: int
    reason: str
    raw: str


@dataclass
class FileRecords:
    """One file's rows, read lazily in file order: ``rows`` yields (row number, record) or a BadRow; the file
    is open while they are read, so a file of any size is never held in memory as a whole (JSON arrays are)."""

    path: str
    encoding: str | None
    columns: list[str]
    rows: Iterator[tuple[int, dict] | BadRow]

CHUNK = 1 << 20
_RAW_KEPT = 10_000  # characters of an unreadable line or oversized row kept in the quarantine


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def decodes(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes as ``encoding``, read a chunk at a time."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for chunk in _chunks(path):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def line_safe(codec: str) -> bool:
    """Whether a file in ``codec`` can be split into lines at its b"\\n" bytes (every ASCII-compatible codec:
    UTF-8, CP932, EUC-JP...; not UTF-16/32), so each line is decoded on its own."""
    newline = "\n".encode(codec)
    return newline.endswith(b"\n") and b"\x00" not in newline and "a".encode(codec).endswith(b"a")


def _bad_lines(path: Path, codec: str) -> tuple[int, int]:
    """(lines that do not decode as ``codec``, lines), a line at a time."""
    bad = total = 0
    with path.open("rb") as handle:
        for line in handle:
            total += 1
            try:
                line.decode(codec)
            except UnicodeDecodeError:
                bad += 1
    return bad, total


def detect_encoding(path: Path, declared: str = "auto") -> tuple[str, str]:
    """(codec, name to report) for reading ``path``. A declared encoding is used as it is (lines not valid in it
    are quarantined); otherwise UTF-16 by BOM, UTF-8 (with or without BOM) or CP932 when the whole file decodes,
    else whichever of the two leaves fewer lines undecodable (when most lines decode), else detection."""
    if declared != "auto":
        try:
            codecs.lookup(declared)
        except LookupError:
            raise SourceFileError(f"unknown encoding {declared!r} in sources[].encoding (e.g. utf-8, cp932)") from None
        return declared, declared
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", "utf-16"
    if head.count(b"\x00") > max(16, len(head) // 100):  # a NUL in a text is possible, dozens are not
        raise SourceFileError("cannot detect the text encoding: it holds NUL bytes, so it is not a text file "
                              "(a spreadsheet or an image?); export it as CSV, JSON or Parquet")
    for enc in ("utf-8-sig", "cp932"):
        if decodes(path, enc):
            return enc, enc
    (bad, total), codec = min((_bad_lines(path, enc), enc) for enc in ("utf-8-sig", "cp932"))
    if bad * 2 <= total:  # mostly one encoding: the other lines are quarantined as not valid in it
        return codec, codec
    best = from_bytes(path.read_bytes()).best()  # a rare file: detection needs the whole of it
    if best is None or not line_safe(best.encoding):
        raise SourceFileError("cannot detect the text encoding; set sources[].encoding (e.g. cp932, utf-8)")
    return best.encoding, best.encoding

class Lines:
    """A file's decoded lines for csv.reader, each decoded on its own (or the file as a stream, for UTF-16);
    remembers the lines of the record being read and whether one of them was not valid in the encoding."""

    def __init__(self, path: Path, codec: str):
        self._handle = path.open("rb") if line_safe(codec) else path.open(encoding=codec, errors="replace", newline="")
        self._codec, self._lines, self.current, self.bad = codec, iter(self._handle), [], False

    def __iter__(self) -> Lines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        if isinstance(line, bytes):
            try:
                line = line.decode(self._codec)
            except UnicodeDecodeError:
                line, self.bad = line.decode(self._codec, errors="replace"), True
        elif "\ufffd" in line:  # a stream (UTF-16) is decoded with errors replaced
            self.bad = True
        self.current.append(line)
        return line

    def take(self) -> tuple[str, bool]:
        """The text of the record just read and whether it had an undecodable line; starts the next record."""
        text, bad = "".join(self.current), self.bad
        self.current, self.bad = [], False
        return text, bad

    def skip_quoted(self) -> None:
        """After a record cut short inside a quoted field: skip to the line that closes the quote, so the rest
        of that field is not read as records of its own."""
        quotes = "".join(self.current).count('"')
        while quotes % 2:
            try:
                quotes += next(self).count('"')
            except StopIteration:
                return

    def close(self) -> None:
        self._handle.close()

def codec_label(name: str) -> str:
    return "utf-8" if name == "utf-8-sig" else name


def kept_raw(text: str) -> str:
    return text if len(text) <= _RAW_KEPT else f"{text[:_RAW_KEPT]}… ({len(text):,} characters in all)"
