"""Sources: read a configured input file into canonical items plus quarantined rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nlp.config import IngestConfig, SourceConfig
from nlp.pii import redact_pii
from nlp.schema import OPTIONAL_FIELDS, QUARANTINE_COLUMNS, REQUIRED_FIELDS, conform, empty_items
from nlp.sources.canonical import RowError, resolve_mapping, to_item
from nlp.sources.files import SourceFileError, read_file

__all__ = ["SourceBatch", "read_source", "describe_kinds", "SourceFileError"]


@dataclass(frozen=True)
class SourceBatch:
    """What one source gave: items (canonical, de-duplicated by item_id within the file) and quarantine."""

    name: str
    rows_read: int
    items: pd.DataFrame
    quarantine: pd.DataFrame
    duplicates_in_file: int
    encoding: str | None


def read_source(source: SourceConfig, ingest: IngestConfig, base_dir: Path,
                now: pd.Timestamp | None = None) -> SourceBatch:
    """Read every file matching ``source.path`` (relative to ``base_dir``); never raises for bad rows.
    Dates after ``now`` (default: the current time) plus the configured tolerance are quarantined."""
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    paths = _expand(source.path, base_dir)
    items, quarantine, rows_read, dupes, encoding = [], [], 0, 0, None
    if not paths:
        quarantine.append(_q(source, source.path, 0, f"no file matches {source.path!r} (relative to {base_dir})", ""))
    for path in paths:
        try:
            records = read_file(path, source.format, source.encoding)
        except SourceFileError as exc:
            quarantine.append(_q(source, str(path), 0, str(exc), ""))
            continue
        encoding = records.encoding
        rows_read += len(records.records) + len(records.bad_rows)
        quarantine += [_q(source, str(path), b.row_number, b.reason, b.raw) for b in records.bad_rows]
        try:
            mapping = resolve_mapping(source, records.columns)
        except RowError as exc:
            quarantine += [_q(source, str(path), n, str(exc), _raw(r)) for n, r in records.records]
            continue
        for number, record in records.records:
            try:
                items.append(to_item(record, mapping, source, ingest, now))
            except RowError as exc:
                quarantine.append(_q(source, str(path), number, str(exc), _raw(record)))
    frame = conform(pd.DataFrame(items)) if items else empty_items()
    # the same id twice: an exact repeat is a duplicate; with another text it is a conflict to look at
    repeated = frame.duplicated("item_id", keep="first")
    conflict = repeated & (frame["content_hash"] != frame.groupby("item_id")["content_hash"].transform("first"))
    for row in frame[conflict].itertuples():
        quarantine.append(_q(source, source.path, 0, f"duplicate id {row.source_id!r} with a different text "
                             "(the first one was kept)", row.text))
    dupes += int((repeated & ~conflict).sum())
    frame = frame[~repeated].reset_index(drop=True)
    q = pd.DataFrame(quarantine, columns=list(QUARANTINE_COLUMNS))
    return SourceBatch(source.name, rows_read, frame, q, dupes, encoding)


def describe_kinds() -> dict[str, dict[str, list[str]]]:
    """What each source kind expects: required and optional canonical fields."""
    return {k: {"required": list(REQUIRED_FIELDS[k]), "optional": list(OPTIONAL_FIELDS[k])} for k in REQUIRED_FIELDS}


def _expand(pattern: str, base_dir: Path) -> list[Path]:
    p = Path(pattern)
    p = p if p.is_absolute() else base_dir / p
    if any(ch in pattern for ch in "*?["):
        return sorted(p.parent.glob(p.name))
    return [p] if p.exists() else []


def _raw(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, default=str)


def _q(source: SourceConfig, path: str, number: int, reason: str, raw: str) -> dict:
    # the raw row is kept for a person to fix it, but never with PII in it, nor in the reason (which may quote a
    # value from a shifted column)
    return {"source_name": source.name, "source_path": path, "row_number": number,
            "reason": redact_pii(reason, handles=True), "raw": redact_pii(raw, handles=True)}
