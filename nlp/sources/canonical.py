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
from nlp.schema import OPTIONAL_FIELDS, REQUIRED_FIELDS, stable_hash
from nlp.sources.dates import parse_datetime

_TRUE = {"1", "true", "yes", "y", "t", "はい", "有", "あり", "済", "済み", "返信済み", "回答済み", "対応済み"}
_FALSE = {"0", "false", "no", "n", "f", "いいえ", "無", "なし", "", "未", "未返信", "未回答", "未対応"}
_CHANNELS = {
    "email": "email", "mail": "email", "メール": "email", "e-mail": "email",
    "chat": "chat", "チャット": "chat", "line": "chat",
    "phone": "phone", "tel": "phone", "電話": "phone", "voice": "phone",
    "web": "web_form", "web_form": "web_form", "form": "web_form", "フォーム": "web_form",
    "お問い合わせフォーム": "web_form", "webフォーム": "web_form",
}


class RowError(ValueError):
    """One row cannot become an item; the message is the quarantine reason."""


def resolve_mapping(source: SourceConfig, columns: list[str]) -> dict[str, list[str]]:
    """canonical field -> the file's column names; fields not mapped in config default to same-named columns.

    Raises RowError (applied to every row by the caller) when a required field has no column."""
    fields = REQUIRED_FIELDS[source.kind] + OPTIONAL_FIELDS[source.kind]
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
    for field in REQUIRED_FIELDS[source.kind]:
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
    body = normalize_text(" ".join(_as_text(v) for v in get("text", all_=True) if _as_text(v)))
    subject = normalize_text(_as_text(get("subject")))
    text = f"{subject} / {body}" if subject and body and subject not in body else (body or subject)
    text = redact_pii(text, ingest.pii, handles=source.kind == "ticket")
    extra = _KIND_FIELDS[source.kind](get, source, ingest)
    scored_answer = source.kind == "survey" and any(extra[k] is not None for k in ("nps", "csat", "ces"))
    if not text.strip() and scored_answer:
        text = ""  # a survey answer without a comment still counts in NPS/CSAT/CES
    elif len(text.strip()) < ingest.min_text_chars:
        raise RowError("text is empty" if not text.strip() else f"text is too short ({text!r})")
    if "\ufffd" in text:
        raise RowError("text has bytes that are not valid in the file's encoding (shown as \ufffd)")
    created = _date(get("created_at"), "created_at", ingest)
    if created > now + pd.Timedelta(hours=ingest.future_tolerance_hours):
        raise RowError(f"created_at {created:%Y-%m-%d %H:%M} UTC is in the future")
    source_id = _as_text(get("source_id")).strip() or None
    author = _as_text(get("author")).strip()
    item = {
        "source_kind": source.kind,
        "source_name": source.name,
        "source_id": source_id,
        "created_at": created,
        "text": text,
        "content_hash": stable_hash(text),
        "lang": detect_language(text),
        "author_hash": stable_hash("author", author.lower()) if author else None,
        "customer_id": _customer_id(_as_text(get("customer_id")).strip(), ingest) or None,
        "answered": _yes_no(get("answered"), "answered"),
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
        raw = _as_text(get(f"segment:{name}")).strip()
        values[name] = (redact_pii(normalize_text(raw) or "", ingest.pii) or "").strip()[:80] if raw else ""
    return json.dumps({k: v for k, v in values.items() if v}, ensure_ascii=False, sort_keys=True)


def _customer_id(value: str, ingest: IngestConfig) -> str:
    # an id is kept as written unless it holds PII (an email, a phone number), looked for in its decoded form
    decoded = decode_text(value)
    redacted = redact_pii(decoded, ingest.pii)
    return value if redacted == decoded else redacted


def _review_fields(get: Callable, source: SourceConfig, ingest: IngestConfig) -> dict:
    rating = _number(get("rating"), "rating")
    if rating is not None and not 1 <= rating <= 5:
        raise RowError(f"rating {rating:g} is outside 1-5")
    return {"rating": rating, "product": _as_text(get("product")).strip() or None}


def _social_fields(get: Callable, source: SourceConfig, ingest: IngestConfig) -> dict:
    platform = _as_text(get("platform")).strip().lower() or source.platform
    return {"platform": platform, "reach": _number(get("reach"), "reach"), "likes": _number(get("likes"), "likes")}


def _ticket_fields(get: Callable, source: SourceConfig, ingest: IngestConfig) -> dict:
    raw_channel = _as_text(get("channel")).strip().lower() or (source.channel or "")
    channel = _CHANNELS.get(raw_channel, raw_channel or None)
    csat = _number(get("csat"), "csat")
    if csat is not None and not 1 <= csat <= 5:
        raise RowError(f"csat {csat:g} is outside 1-5")
    contacts = _number(get("contact_count"), "contact_count")
    reopened = _yes_no(get("reopened"), "reopened")
    return {
        "channel": channel,
        "first_response_at": _optional_date(get("first_response_at"), "first_response_at", ingest),
        "resolved_at": _optional_date(get("resolved_at"), "resolved_at", ingest),
        "contact_count": contacts,
        "reopened": reopened,
        "csat": csat,
    }


def _survey_fields(get: Callable, source: SourceConfig, ingest: IngestConfig) -> dict:
    scores = {}
    for field, low, high in (("nps", 0, 10), ("csat", 1, 5), ("ces", 1, 7)):
        value = _number(get(field), field)
        if value is not None and not low <= value <= high:
            raise RowError(f"{field} {value:g} is outside {low}-{high}")
        scores[field] = value
    raw_channel = _as_text(get("channel")).strip().lower() or (source.channel or "")
    return {**scores, "touchpoint": _as_text(get("touchpoint")).strip() or None,
            "channel": _CHANNELS.get(raw_channel, raw_channel or None)}


def _scores(fields: dict) -> str:
    return ",".join(f"{fields.get(k)}" for k in ("nps", "csat", "ces"))


def _yes_no(value: object, field: str) -> bool | None:
    raw = _as_text(value).strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False if value is not None and raw != "" else None
    raise RowError(f"{field} is not yes/no (e.g. yes, no, 済み, 未対応)")


_KIND_FIELDS: dict[str, Callable] = {"review": _review_fields, "social": _social_fields, "ticket": _ticket_fields,
                                     "survey": _survey_fields}


def _getter(record: dict, mapping: dict[str, list[str]]) -> Callable:
    def get(field: str, all_: bool = False):
        names = mapping.get(field, [])
        values = [record.get(n) for n in names]
        return values if all_ else (values[0] if values else None)

    return get


def _as_text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


def _number(value: object, field: str) -> float | None:
    text = _as_text(value).strip().replace(",", "")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise RowError(f"{field} is not a number") from None  # the value is not quoted: it may be anything
    if pd.isna(number):
        return None
    return number


def _optional_date(value: object, field: str, ingest: IngestConfig) -> pd.Timestamp | None:
    return _date(value, field, ingest) if _as_text(value).strip() else None


def _date(value: object, field: str, ingest: IngestConfig) -> pd.Timestamp:
    """The date of ``field``, between ingest.earliest_date and what pandas holds; RowError otherwise."""
    try:
        ts = parse_datetime(value, ingest.timezone, ingest.date_order)
    except ValueError as exc:
        raise RowError(f"{field}: {exc}") from None
    if ts < pd.Timestamp(ingest.earliest_date, tz=ingest.timezone):
        raise RowError(f"{field} {ts:%Y-%m-%d} is before ingest.earliest_date ({ingest.earliest_date})")
    return ts
