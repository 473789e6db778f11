"""Reading one input file into records (dicts of strings/values), whatever its format and encoding.

Rows that cannot be read (wrong number of CSV fields, a JSON line that does not parse) come back as
``BadRow``s with a reason, never dropped."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

csv.field_size_limit(16 * 1024 * 1024)


class SourceFileError(ValueError):
    """The file as a whole cannot be read (missing, empty, undecodable, not the format it claims)."""


@dataclass(frozen=True)
class BadRow:
    row_number: int
    reason: str
    raw: str


@dataclass(frozen=True)
class FileRecords:
    path: str
    encoding: str | None
    columns: list[str]
    records: list[tuple[int, dict]]  # (row number, record); row numbers are 1-based data rows
    bad_rows: list[BadRow]


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


def decode_bytes(data: bytes, declared: str = "auto") -> tuple[str, str]:
    """Return (text, encoding). Tries UTF-8 (with or without BOM), UTF-16 by BOM, then CP932, then detection."""
    if declared != "auto":
        try:
            return data.decode(declared), declared
        except (UnicodeDecodeError, LookupError) as exc:
            raise SourceFileError(f"cannot decode as {declared}: {exc}") from exc
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    for enc in ("utf-8-sig", "cp932"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    # mostly UTF-8 with a few broken bytes: keep it, the broken rows are quarantined (they hold U+FFFD)
    lenient = data.decode("utf-8-sig", errors="replace")
    if lenient.count("\ufffd") <= max(3, len(data) // 1000):
        return lenient, "utf-8 (invalid bytes replaced)"
    best = from_bytes(data).best()
    if best is None:
        raise SourceFileError("cannot detect the text encoding; set sources[].encoding (e.g. cp932, utf-8)")
    return str(best), best.encoding


def read_file(path: Path, fmt: str = "auto", encoding: str = "auto") -> FileRecords:
    """Read ``path`` into records; raises SourceFileError when the file as a whole is unusable."""
    if not path.is_file():
        raise SourceFileError(f"{path}: file not found")
    fmt = detect_format(path, fmt)
    if fmt == "parquet":
        return _read_parquet(path)
    data = path.read_bytes()
    if not data.strip():
        raise SourceFileError(f"{path}: file is empty")
    try:
        text, used = decode_bytes(data, encoding)
    except SourceFileError as exc:
        raise SourceFileError(f"{path}: {exc}") from None
    if fmt == "csv":
        return _read_csv(path, text, used)
    if fmt == "jsonl":
        return _read_jsonl(path, text, used)
    return _read_json(path, text, used)


def _read_csv(path: Path, text: str, encoding: str) -> FileRecords:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    if text.lstrip()[:1] in ("[", "{"):  # a JSON export saved as .csv would read as a header with no rows
        raise SourceFileError(f"{path}: looks like JSON, not CSV; set sources[].format: json (or jsonl)")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise SourceFileError(f"{path}: no header row") from None
    if len(set(header)) != len(header):
        raise SourceFileError(f"{path}: duplicate column names in the header: {header}")
    records, bad = [], []
    for number, row in enumerate(reader, start=1):
        if not row or all(not cell.strip() for cell in row):
            bad.append(BadRow(number, "empty row", ""))
            continue
        if len(row) != len(header):
            reason = f"row has {len(row)} fields, the header has {len(header)}"
            bad.append(BadRow(number, reason, json.dumps(row, ensure_ascii=False)))
            continue
        records.append((number, dict(zip(header, row))))
    return FileRecords(str(path), encoding, header, records, bad)


def _read_jsonl(path: Path, text: str, encoding: str) -> FileRecords:
    records, bad, columns = [], [], {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            bad.append(BadRow(number, f"line is not valid JSON: {exc.msg}", line[:10000]))
            continue
        if not isinstance(obj, dict):
            bad.append(BadRow(number, "line is not a JSON object", line[:10000]))
            continue
        columns.update(dict.fromkeys(obj))
        records.append((number, obj))
    return FileRecords(str(path), encoding, list(columns), records, bad)


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
    records, bad, columns = [], [], {}
    for number, item in enumerate(obj, start=1):
        if not isinstance(item, dict):
            bad.append(BadRow(number, "array element is not an object", json.dumps(item, ensure_ascii=False)))
            continue
        columns.update(dict.fromkeys(item))
        records.append((number, item))
    return FileRecords(str(path), encoding, list(columns), records, bad)


def _read_parquet(path: Path) -> FileRecords:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise SourceFileError(f"{path}: not a readable Parquet file ({exc})") from None
    rows = table.to_pylist()
    return FileRecords(str(path), None, table.column_names, list(enumerate(rows, start=1)), [])
