"""Parsing the dates people write in exports: ISO 8601, 2024/03/05 14:00, 2024年3月5日 10時5分, epoch seconds."""

from __future__ import annotations

import re
from datetime import datetime

import pandas as pd

_JA_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_JA_TIME = re.compile(r"(\d{1,2})\s*時\s*(?:(\d{1,2})\s*分)?(?:\s*(\d{1,2})\s*秒)?")
_WEEKDAY = re.compile(r"[(（][月火水木金土日][)）]")


def parse_datetime(value: object, timezone: str) -> pd.Timestamp:
    """A UTC timestamp; a value without a zone is read in ``timezone``. Raises ValueError with a reason."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        raise ValueError("date is missing")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        ts = pd.Timestamp(value, unit="ms" if value > 1e11 else "s", tz="UTC")
        return ts
    if isinstance(value, datetime):
        ts = pd.Timestamp(value)
    else:
        text = str(value).strip()
        if not text:
            raise ValueError("date is empty")
        text = _WEEKDAY.sub("", text)
        text = _JA_DATE.sub(lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}", text)
        text = _JA_TIME.sub(lambda m: f" {int(m[1]):02d}:{int(m[2] or 0):02d}:{int(m[3] or 0):02d}", text)
        text = text.replace("/", "-").replace("T", " ").strip()
        try:
            ts = pd.Timestamp(text)
        except (ValueError, OverflowError):
            raise ValueError(f"unparsable date {str(value)[:40]!r}") from None
    if pd.isna(ts):
        raise ValueError(f"unparsable date {str(value)[:40]!r}")
    if ts.tzinfo is None:
        # a wall-clock time that happens twice (clocks going back) is read as the first of the two; one that never
        # happens (clocks going forward) moves forward to the first valid time
        ts = ts.tz_localize(timezone, ambiguous=True, nonexistent="shift_forward")
    return ts.tz_convert("UTC")
