"""From records of one source kind to canonical items, one row at a time; a row that cannot be mapped
raises RowError with a reason a person understands."""

from __future__ import annotations

import json

from collections.abc import Callable

import pandas as pd

from nlp.config import IngestConfig, SourceConfig
from nlp.language import detect_language
from nlp.normalize import decode_text, normalize_text
from nlp.pii import redact_pii
from nlp.schema import stable_hash
from nlp.sources.kinds import kind
from nlp.sources.values import RowError, as_text, date, yes_no

__all__ = ["RowError", "resolve_mapping", "to_item"]


def resolve_mapping(source: SourceConfig, columns: list[str]) -> dict[str, list[str]]:
    """canonical field -> the file's column names; fields not mapped in config default to same-named columns.

    Raises RowError (applied to every row by the caller) when a required field has no column."""
    declared = kind(source.kind)
    fields = declared.accepts
    unknown = sorted(set(source.columns) - set(fields))
    if unknown:
        raise RowError(f"columns mapping names unknown fields {unknown}; {source.kind} accepts {list(fields)}")
    mapping: dict[str, list[str]] = {}
    for field in fields:
        wanted = source.columns.get(field, field)
        names = [wanted] if isinstance(wanted, str) else list(wanted)
        present = [n for n in names if n in columns]
        if field in source.columns and len(present) != len(names):
            missing = [n for n in names if n not in columns]
            raise RowError(f"column {missing} mapped to {field!r} is not in the file (columns: {columns})")
        if present:
            mapping[field] = present
    for name, column in source.segments.items():
        if column not in columns:
            raise RowError(f"column {[column]} of segment {name!r} is not in the file (columns: {columns})")
        mapping[f"segment:{name}"] = [column]
    for field in declared.required:
        if field not in mapping:
            raise RowError(
                f"required column for {field!r} is missing; map it with sources[].columns.{field} "
                f"(file columns: {columns})"
            )
    return mapping


def to_item(record: dict, mapping: dict[str, list[str]], source: SourceConfig, ingest: IngestConfig,
            now: pd.Timestamp) -> dict:
    """One canonical item dict from one record; ``now`` bounds plausible dates. Raises RowError."""
    get = _getter(record, mapping)
    body = normalize_text(" ".join(as_text(v) for v in get("text", all_=True) if as_text(v)))
    subject = normalize_text(as_text(get("subject")))
    text = f"{subject} / {body}" if subject and body and subject not in body else (body or subject)
    declared = kind(source.kind)
    text = redact_pii(text, ingest.pii, handles=declared.redact_handles)
    extra = declared.fields(get, source, ingest)
    if not text.strip() and any(extra[k] is not None for k in declared.scored_by):
        text = ""  # e.g. a survey answer without a comment still counts in NPS/CSAT/CES
    elif len(text.strip()) < ingest.min_text_chars:
        raise RowError("text is empty" if not text.strip() else f"text is too short ({text!r})")
    if "\ufffd" in text:
        raise RowError("text has bytes that are not valid in the file's encoding (shown as \ufffd)")
    created = date(get("created_at"), "created_at", ingest)
    if created > now + pd.Timedelta(hours=ingest.future_tolerance_hours):
        raise RowError(f"created_at {created:%Y-%m-%d %H:%M} UTC is in the future")
    source_id = as_text(get("source_id")).strip() or None
    author = as_text(get("author")).strip()
    item = {
        "source_kind": source.kind,
        "source_name": source.name,
        "source_id": source_id,
        "created_at": created,
        "text": text,
        "content_hash": stable_hash(text),
        "lang": detect_language(text),
        "author_hash": stable_hash("author", author.lower()) if author else None,
        "customer_id": _customer_id(as_text(get("customer_id")).strip(), ingest) or None,
        "answered": yes_no(get("answered"), "answered"),
    }
    item.update(extra)
    item["segments"] = _segments(get, source, ingest)
    key = source_id if source_id else f"{created.isoformat()}|{text}|{item['customer_id']}|{_scores(extra)}"
    item["item_id"] = stable_hash(source.name, key)
    return item


def _segments(get: Callable, source: SourceConfig, ingest: IngestConfig) -> str | None:
    """The row's segment values as a JSON object (normalised, PII-redacted, at most 80 characters each; an empty
    value is left out); None when the source declares no segment."""
    if not source.segments:
        return None
    values = {}
    for name in sorted(source.segments):
        raw = as_text(get(f"segment:{name}")).strip()
        values[name] = (redact_pii(normalize_text(raw) or "", ingest.pii) or "").strip()[:80] if raw else ""
    return json.dumps({k: v for k, v in values.items() if v}, ensure_ascii=False, sort_keys=True)


def _customer_id(value: str, ingest: IngestConfig) -> str:
    # an id is kept as written unless it holds PII (an email, a phone number), looked for in its decoded form
    decoded = decode_text(value)
    redacted = redact_pii(decoded, ingest.pii)
    return value if redacted == decoded else redacted


def _scores(fields: dict) -> str:
    return ",".join(f"{fields.get(k)}" for k in ("nps", "csat", "ces"))


def _getter(record: dict, mapping: dict[str, list[str]]) -> Callable:
    def get(field: str, all_: bool = False):
        names = mapping.get(field, [])
        values = [record.get(n) for n in names]
        return values if all_ else (values[0] if values else None)

    return get
