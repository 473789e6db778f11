"""Reading one input file into records (dicts of strings/values), whatever its format and encoding.

Rows that cannot be read (wrong number of CSV fields, a JSON line that does not parse, a line that is not valid in
the file's encoding, a field over the size limit, a lone surrogate) come back as ``BadRow``s with a reason, never
dropped. Text files are decoded a line at a time, so a few lines in another encoding cost only their rows. No
reason quotes the row: it may hold anything."""

from __future__ import annotations

import csv
import json
import stat
from collections.abc import Iterator
from pathlib import Path

from nlp.sources.json_files import read_json, read_jsonl
from nlp.sources.text import (CHUNK, BadRow, FileRecords, Lines, SourceFileError, codec_label, decodes,
                              detect_encoding, kept_raw)

__all__ = ["BadRow", "FileRecords", "SourceFileError", "check_regular", "detect_encoding", "detect_format",
           "read_file"]


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

def read_file(path: Path, fmt: str = "auto", encoding: str = "auto", batch_rows: int = 10_000,
              max_field_chars: int = 16 * 1024 * 1024) -> FileRecords:
    """Open ``path`` for reading its rows; raises SourceFileError when the file as a whole is unusable.
    ``batch_rows``: rows read from Parquet at a time; ``max_field_chars``: a longer CSV field quarantines its row."""
    check_regular(path)
    fmt = detect_format(path, fmt)
    if fmt == "parquet":
        return _read_parquet(path, batch_rows)
    with path.open("rb") as handle:
        empty = not any(chunk.strip() for chunk in iter(lambda: handle.read(CHUNK), b""))
    if empty:
        raise SourceFileError(f"{path}: file is empty")
    try:
        codec, name = detect_encoding(path, encoding)
    except SourceFileError as exc:
        raise SourceFileError(f"{path}: {exc}") from None
    if fmt == "json":
        if not decodes(path, codec):
            raise SourceFileError(f"{path}: a JSON array must be valid {name} as a whole (or use JSONL)")
        return read_json(path, path.read_text(encoding=codec), name)
    if fmt == "csv":
        return _read_csv(path, codec, name, max_field_chars)
    return read_jsonl(path, codec, name)


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

def _read_csv(path: Path, codec: str, name: str, max_field_chars: int) -> FileRecords:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with path.open("rb") as handle:
        start = handle.read(CHUNK).decode(codec, errors="replace").lstrip("\ufeff \t\r\n")
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
    lines = Lines(path, codec)
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


def _unreadable(path: Path, number: int, lines: Lines, max_field_chars: int, exc: csv.Error) -> BadRow:
    lines.skip_quoted()
    text, _ = lines.take()
    what = (f"a field is longer than ingest.max_field_chars ({max_field_chars:,} characters)"
            if "field limit" in str(exc) else "it cannot be read as CSV")
    return BadRow(number, f"{path} row {number}: {what}", kept_raw(text))


def _csv_row(number: int, row: list[str], header: list[str], text: str, bad: bool, name: str):
    if bad:
        return BadRow(number, f"row is not valid {codec_label(name)} (its undecodable bytes are shown as \ufffd)",
                      kept_raw(text))
    if not row or all(not cell.strip() for cell in row):
        return BadRow(number, "empty row", "")
    if len(row) != len(header):
        return BadRow(number, f"row has {len(row)} fields, the header has {len(header)}",
                      kept_raw(json.dumps(row, ensure_ascii=False)))
    return number, dict(zip(header, row))

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
