"""Reading one field of a row: text, numbers, yes/no, dates, channels. A value that cannot be read raises RowError
with a reason a person understands (never quoting the value: it may be anything)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from nlp.sources.dates import parse_datetime

if TYPE_CHECKING:
    from nlp.config import IngestConfig

# get(field) -> the row's first value mapped to a canonical field (None when unmapped); get(field, all_=True): all
Get = Callable[..., object]

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


def as_text(value: object) -> str:
    """The value as a string; "" for a missing one (None, NaN)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


def number(value: object, field: str) -> float | None:
    """A number (thousands separators allowed); None when empty."""
    text = as_text(value).strip().replace(",", "")
    if not text:
        return None
    try:
        parsed = float(text)
    except ValueError:
        raise RowError(f"{field} is not a number") from None  # the value is not quoted: it may be anything
    if pd.isna(parsed):
        return None
    return parsed


def number_in(value: object, field: str, low: float, high: float) -> float | None:
    """A number between ``low`` and ``high`` (a score, a rating); None when empty."""
    parsed = number(value, field)
    if parsed is not None and not low <= parsed <= high:
        raise RowError(f"{field} {parsed:g} is outside {low:g}-{high:g}")
    return parsed


def yes_no(value: object, field: str) -> bool | None:
    """True or False from yes/no, 済み/未対応, 1/0...; None when empty."""
    raw = as_text(value).strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False if value is not None and raw != "" else None
    raise RowError(f"{field} is not yes/no (e.g. yes, no, 済み, 未対応)")


def channel(value: object, default: str | None) -> str | None:
    """The canonical channel (email | chat | phone | web_form) of a value, or ``default`` when it is empty; a
    channel koe does not know is kept as written (lower case)."""
    raw = as_text(value).strip().lower() or (default or "")
    return _CHANNELS.get(raw, raw or None)


def date(value: object, field: str, ingest: IngestConfig) -> pd.Timestamp:
    """The date of ``field``, between ingest.earliest_date and what pandas holds; RowError otherwise."""
    try:
        ts = parse_datetime(value, ingest.timezone, ingest.date_order)
    except ValueError as exc:
        raise RowError(f"{field}: {exc}") from None
    if ts < pd.Timestamp(ingest.earliest_date, tz=ingest.timezone):
        raise RowError(f"{field} {ts:%Y-%m-%d} is before ingest.earliest_date ({ingest.earliest_date})")
    return ts


def optional_date(value: object, field: str, ingest: IngestConfig) -> pd.Timestamp | None:
    """As ``date``; None when empty."""
    return date(value, field, ingest) if as_text(value).strip() else None
