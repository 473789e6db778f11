"""Reading one input file into records (dicts of strings/values), whatever its format and encoding.

Rows that cannot be read (wrong number of CSV fields, a JSON line that does not parse) come back as
``BadRow``s with a reason, never dropped."""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from charset_normalizer import from_bytes

csv.field_size_limit(16 * 1024 * 1024)


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


def detect_encoding(path: Path, declared: str = "auto") -> tuple[str, str, str]:
    """(codec, errors mode, name to report) for reading ``path``. Tries UTF-8 (with or without BOM), UTF-16 by
    BOM, then CP932, then detection; each try streams the file, so its size does not matter."""
    if declared != "auto":
        try:
            if _decodes(path, declared):
                return declared, "strict", declared
        except LookupError as exc:
            raise SourceFileError(f"cannot decode as {declared}: {exc}") from exc
        raise SourceFileError(f"cannot decode as {declared}: the file has bytes that are not {declared}")
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", "strict", "utf-16"
    for enc in ("utf-8-sig", "cp932"):
        if _decodes(path, enc):
            return enc, "strict", enc
    # mostly UTF-8 with a few broken bytes: keep it, the broken rows are quarantined (they hold U+FFFD)
    decoder, broken = codecs.getincrementaldecoder("utf-8-sig")(errors="replace"), 0
    for chunk in _chunks(path):
        broken += decoder.decode(chunk).count("\ufffd")
    if broken <= max(3, path.stat().st_size // 1000):
        return "utf-8-sig", "replace", "utf-8 (invalid bytes replaced)"
    best = from_bytes(path.read_bytes()).best()  # a rare file: detection needs the whole of it
    if best is None:
        raise SourceFileError("cannot detect the text encoding; set sources[].encoding (e.g. cp932, utf-8)")
    return best.encoding, "strict", best.encoding


def read_file(path: Path, fmt: str = "auto", encoding: str = "auto", batch_rows: int = 10_000) -> FileRecords:
    """Open ``path`` for reading its rows; raises SourceFileError when the file as a whole is unusable.
    ``batch_rows``: rows read from Parquet at a time."""
    if not path.is_file():
        raise SourceFileError(f"{path}: file not found")
    fmt = detect_format(path, fmt)
    if fmt == "parquet":
        return _read_parquet(path, batch_rows)
    with path.open("rb") as handle:
        empty = not any(chunk.strip() for chunk in iter(lambda: handle.read(_CHUNK), b""))
    if empty:
        raise SourceFileError(f"{path}: file is empty")
    try:
        codec, errors, name = detect_encoding(path, encoding)
    except SourceFileError as exc:
        raise SourceFileError(f"{path}: {exc}") from None
    if fmt == "json":
        return _read_json(path, path.read_text(encoding=codec, errors=errors), name)
    reader = _read_csv if fmt == "csv" else _read_jsonl
    return reader(path, codec, errors, name)


def _open_text(path: Path, codec: str, errors: str) -> TextIO:
    return path.open(encoding=codec, errors=errors, newline="")


def _read_csv(path: Path, codec: str, errors: str, name: str) -> FileRecords:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with _open_text(path, codec, errors) as handle:
        start = handle.read(_CHUNK).lstrip()
    if start[:1] in ("[", "{"):  # a JSON export saved as .csv would read as a header with no rows
        raise SourceFileError(f"{path}: looks like JSON, not CSV; set sources[].format: json (or jsonl)")
    rows = _csv_rows(path, codec, errors, delimiter)
    header = next(rows)
    if header is None:
        raise SourceFileError(f"{path}: no header row")
    if len(set(header)) != len(header):
        raise SourceFileError(f"{path}: duplicate column names in the header: {header}")
    return FileRecords(str(path), name, header, rows)


def _csv_rows(path: Path, codec: str, errors: str, delimiter: str) -> Iterator:
    """First the header (None when there is none), then each data row as (number, record) or BadRow."""
    with _open_text(path, codec, errors) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, None)
        header = None if header is None else [h.strip() for h in header]
        yield header
        if header is None:
            return
        for number, row in enumerate(reader, start=1):
            if not row or all(not cell.strip() for cell in row):
                yield BadRow(number, "empty row", "")
            elif len(row) != len(header):
                reason = f"row has {len(row)} fields, the header has {len(header)}"
                yield BadRow(number, reason, json.dumps(row, ensure_ascii=False))
            else:
                yield number, dict(zip(header, row))


def _read_jsonl(path: Path, codec: str, errors: str, name: str) -> FileRecords:
    # the columns are those of every object in the file: a first pass collects them, the second yields rows
    columns: dict[str, None] = {}
    for row in _jsonl_rows(path, codec, errors):
        if not isinstance(row, BadRow):
            columns.update(dict.fromkeys(row[1]))
    return FileRecords(str(path), name, list(columns), _jsonl_rows(path, codec, errors))


def _jsonl_rows(path: Path, codec: str, errors: str) -> Iterator[tuple[int, dict] | BadRow]:
    with _open_text(path, codec, errors) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield BadRow(number, f"line is not valid JSON: {exc.msg}", line.rstrip("\r\n")[:10000])
                continue
            if not isinstance(obj, dict):
                yield BadRow(number, "line is not a JSON object", line.rstrip("\r\n")[:10000])
                continue
            yield number, obj


def _read_json(path: Path, text: str, encoding: str) -> FileRecords:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceFileError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if isinstance(obj, dict):  # {"items": [...]} or {"data": [...]}
        lists = [v for v in obj.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise SourceFileError(f"{path}: expected a JSON array of objects (or one object holding one)")
        obj = lists[0]
    if not isinstance(obj, list):
        raise SourceFileError(f"{path}: expected a JSON array of objects")
    columns: dict[str, None] = {}
    for item in obj:
        if isinstance(item, dict):
            columns.update(dict.fromkeys(item))
    rows = ((number, item) if isinstance(item, dict) else
            BadRow(number, "array element is not an object", json.dumps(item, ensure_ascii=False))
            for number, item in enumerate(obj, start=1))
    return FileRecords(str(path), encoding, list(columns), rows)


def _read_parquet(path: Path, batch_rows: int) -> FileRecords:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise SourceFileError(f"{path}: not a readable Parquet file ({exc})") from None

    def rows() -> Iterator[tuple[int, dict]]:
        number = 0
        for batch in parquet.iter_batches(batch_size=batch_rows):
            for record in batch.to_pylist():
                number += 1
                yield number, record

    return FileRecords(str(path), None, parquet.schema_arrow.names, rows())
