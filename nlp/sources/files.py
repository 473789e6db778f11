"""Reading one input file into records (dicts of strings/values), whatever its format and encoding.

Rows that cannot be read (wrong number of CSV fields, a JSON line that does not parse, a line that is not valid in
the file's encoding, a field over the size limit, a lone surrogate) come back as ``BadRow``s with a reason, never
dropped. Text files are decoded a line at a time, so a few lines in another encoding cost only their rows. No
reason quotes the row: it may hold anything."""

from __future__ import annotations

import codecs
import csv
import json
import stat
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


def detect_format(path: Path, declared: str) -> str:
    if declared != "auto":
        return declared
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".json":
        return "json"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise SourceFileError(f"{path}: cannot tell the format from the extension {suffix!r}; set sources[].format")


_CHUNK = 1 << 20
_RAW_KEPT = 10_000  # characters of an unreadable line or oversized row kept in the quarantine


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


def _decodes(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes as ``encoding``, read a chunk at a time."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for chunk in _chunks(path):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _line_safe(codec: str) -> bool:
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
        if _decodes(path, enc):
            return enc, enc
    (bad, total), codec = min((_bad_lines(path, enc), enc) for enc in ("utf-8-sig", "cp932"))
    if bad * 2 <= total:  # mostly one encoding: the other lines are quarantined as not valid in it
        return codec, codec
    best = from_bytes(path.read_bytes()).best()  # a rare file: detection needs the whole of it
    if best is None or not _line_safe(best.encoding):
        raise SourceFileError("cannot detect the text encoding; set sources[].encoding (e.g. cp932, utf-8)")
    return best.encoding, best.encoding


def read_file(path: Path, fmt: str = "auto", encoding: str = "auto", batch_rows: int = 10_000,
              max_field_chars: int = 16 * 1024 * 1024) -> FileRecords:
    """Open ``path`` for reading its rows; raises SourceFileError when the file as a whole is unusable.
    ``batch_rows``: rows read from Parquet at a time; ``max_field_chars``: a longer CSV field quarantines its row."""
    check_regular(path)
    fmt = detect_format(path, fmt)
    if fmt == "parquet":
        return _read_parquet(path, batch_rows)
    with path.open("rb") as handle:
        empty = not any(chunk.strip() for chunk in iter(lambda: handle.read(_CHUNK), b""))
    if empty:
        raise SourceFileError(f"{path}: file is empty")
    try:
        codec, name = detect_encoding(path, encoding)
    except SourceFileError as exc:
        raise SourceFileError(f"{path}: {exc}") from None
    if fmt == "json":
        if not _decodes(path, codec):
            raise SourceFileError(f"{path}: a JSON array must be valid {name} as a whole (or use JSONL)")
        return _read_json(path, path.read_text(encoding=codec), name)
    if fmt == "csv":
        return _read_csv(path, codec, name, max_field_chars)
    return _read_jsonl(path, codec, name)


def check_regular(path: Path) -> None:
    """Raises SourceFileError unless ``path`` is a regular file (saying what it is instead)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise SourceFileError(f"{path}: file not found") from None
    except OSError as exc:
        raise SourceFileError(f"{path}: cannot be read ({exc.strerror})") from None
    if stat.S_ISDIR(mode):
        raise SourceFileError(f"{path}: is a directory, not a file; to read the files in it, give a glob such as "
                              f"{path}/*.csv")
    if not stat.S_ISREG(mode):
        raise SourceFileError(f"{path}: is not a regular file (a FIFO, socket or device); koe reads files only")


class _Lines:
    """A file's decoded lines for csv.reader, each decoded on its own (or the file as a stream, for UTF-16);
    remembers the lines of the record being read and whether one of them was not valid in the encoding."""

    def __init__(self, path: Path, codec: str):
        self._handle = path.open("rb") if _line_safe(codec) else path.open(encoding=codec, errors="replace", newline="")
        self._codec, self._lines, self.current, self.bad = codec, iter(self._handle), [], False

    def __iter__(self) -> _Lines:
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


def _read_csv(path: Path, codec: str, name: str, max_field_chars: int) -> FileRecords:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with path.open("rb") as handle:
        start = handle.read(_CHUNK).decode(codec, errors="replace").lstrip("\ufeff \t\r\n")
    if start[:1] in ("[", "{"):  # a JSON export saved as .csv would read as a header with no rows
        raise SourceFileError(f"{path}: looks like JSON, not CSV; set sources[].format: json (or jsonl)")
    rows = _csv_rows(path, codec, name, delimiter, max_field_chars)
    header = next(rows)
    if header is None:
        raise SourceFileError(f"{path}: no header row")
    if len(set(header)) != len(header):
        raise SourceFileError(f"{path}: duplicate column names in the header: {header}")
    return FileRecords(str(path), name, header, rows)


def _csv_rows(path: Path, codec: str, name: str, delimiter: str, max_field_chars: int) -> Iterator:
    """First the header (None when there is none), then each data row as (number, record) or BadRow."""
    lines = _Lines(path, codec)
    try:
        reader = csv.reader(lines, delimiter=delimiter)
        csv.field_size_limit(max_field_chars)
        header = next(reader, None)
        lines.take()
        header = None if header is None else [h.strip() for h in header]
        yield header
        if header is None:
            return
        number = 0
        while True:
            number += 1
            csv.field_size_limit(max_field_chars)  # process-wide: set again in case another reader changed it
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield _unreadable(path, number, lines, max_field_chars, exc)
                continue
            text, bad = lines.take()
            yield _csv_row(number, row, header, text, bad, name)
    finally:
        lines.close()


def _unreadable(path: Path, number: int, lines: _Lines, max_field_chars: int, exc: csv.Error) -> BadRow:
    lines.skip_quoted()
    text, _ = lines.take()
    what = (f"a field is longer than ingest.max_field_chars ({max_field_chars:,} characters)"
            if "field limit" in str(exc) else "it cannot be read as CSV")
    return BadRow(number, f"{path} row {number}: {what}", _kept(text))


def _csv_row(number: int, row: list[str], header: list[str], text: str, bad: bool, name: str):
    if bad:
        return BadRow(number, f"row is not valid {_label(name)} (its undecodable bytes are shown as \ufffd)",
                      _kept(text))
    if not row or all(not cell.strip() for cell in row):
        return BadRow(number, "empty row", "")
    if len(row) != len(header):
        return BadRow(number, f"row has {len(row)} fields, the header has {len(header)}",
                      _kept(json.dumps(row, ensure_ascii=False)))
    return number, dict(zip(header, row))


def _label(name: str) -> str:
    return "utf-8" if name == "utf-8-sig" else name


def _kept(text: str) -> str:
    return text if len(text) <= _RAW_KEPT else f"{text[:_RAW_KEPT]}… ({len(text):,} characters in all)"


def _has_surrogate(value: object) -> bool:
    """Whether a parsed JSON value holds a lone surrogate (from an escape like "\\ud800"), which no UTF-8 text
    can carry: it would fail every write."""
    if isinstance(value, str):
        return any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return False


_SURROGATE = "has an invalid Unicode escape (a lone surrogate such as \\ud800)"


def _read_jsonl(path: Path, codec: str, name: str) -> FileRecords:
    # the columns are those of every object in the file: a first pass collects them, the second yields rows
    columns: dict[str, None] = {}
    for row in _jsonl_rows(path, codec, name):
        if not isinstance(row, BadRow):
            columns.update(dict.fromkeys(row[1]))
    return FileRecords(str(path), name, list(columns), _jsonl_rows(path, codec, name))


def _jsonl_rows(path: Path, codec: str, name: str) -> Iterator[tuple[int, dict] | BadRow]:
    lines = _Lines(path, codec)
    try:
        for number, line in enumerate(lines, start=1):
            _, bad = lines.take()
            if not line.strip():
                continue
            raw = _kept(line.rstrip("\r\n"))
            if bad:
                yield BadRow(number, f"line is not valid {_label(name)} (its undecodable bytes are shown as \ufffd)",
                             raw)
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield BadRow(number, f"line is not valid JSON: {exc.msg}", raw)
                continue
            except RecursionError:
                yield BadRow(number, "line is not valid JSON: nested too deeply", raw[:1000])
                continue
            if not isinstance(obj, dict):
                yield BadRow(number, "line is not a JSON object", raw)
            elif _has_surrogate(obj):
                yield BadRow(number, f"line {_SURROGATE}", raw)  # the line itself holds only the escape
            else:
                yield number, obj
    finally:
        lines.close()


def _read_json(path: Path, text: str, encoding: str) -> FileRecords:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceFileError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise SourceFileError(f"{path}: not valid JSON (nested too deeply)") from None
    if isinstance(obj, dict):  # {"items": [...]} or {"data": [...]}
        lists = [v for v in obj.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise SourceFileError(f"{path}: expected a JSON array of objects (or one object holding one)")
        obj = lists[0]
    if not isinstance(obj, list):
        raise SourceFileError(f"{path}: expected a JSON array of objects")
    columns: dict[str, None] = {}
    for item in obj:
        if isinstance(item, dict) and not _has_surrogate(item):
            columns.update(dict.fromkeys(item))
    return FileRecords(str(path), encoding, list(columns), _json_rows(obj))


def _json_rows(obj: list) -> Iterator[tuple[int, dict] | BadRow]:
    for number, item in enumerate(obj, start=1):
        if not isinstance(item, dict):
            yield BadRow(number, "array element is not an object", _kept(json.dumps(item)))
        elif _has_surrogate(item):
            yield BadRow(number, f"array element {_SURROGATE}", _kept(json.dumps(item)))  # ASCII: escapes kept
        else:
            yield number, item


def _read_parquet(path: Path, batch_rows: int) -> FileRecords:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise SourceFileError(f"{path}: not a readable Parquet file ({type(exc).__name__})") from None

    def rows() -> Iterator[tuple[int, dict]]:
        number = 0
        for batch in parquet.iter_batches(batch_size=batch_rows):
            for record in batch.to_pylist():
                number += 1
                yield number, record

    return FileRecords(str(path), None, parquet.schema_arrow.names, rows())
