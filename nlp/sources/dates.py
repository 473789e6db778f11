"""Parsing the dates people write in exports: ISO 8601, 2024/03/05 14:00, 2024年3月5日 10時5分, 25/12/2026, epoch
seconds, milliseconds, microseconds or nanoseconds. A reason never quotes the value (it may be anything)."""

from __future__ import annotations

import math
import re
from datetime import datetime

import pandas as pd

_JA_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_JA_TIME = re.compile(r"(\d{1,2})\s*時\s*(?:(\d{1,2})\s*分)?(?:\s*(\d{1,2})\s*秒)?")
_WEEKDAY = re.compile(r"[(（][月火水木金土日][)）]")
_NUMERIC_DATE = re.compile(r"(\d{1,4})([/.\-])(\d{1,2})\2(\d{1,4})(?=$|[\sT])(.*)", re.S)
_EPOCH_TEXT = re.compile(r"[+-]?\d{9,}(?:\.\d+)?")
# an epoch's unit told by its magnitude: seconds up to ~5138, then ms, µs, ns (each 1000× the last)
_EPOCH_UNITS = ((1e11, "s"), (1e14, "ms"), (1e17, "us"), (1e20, "ns"))
_ORDERS = {"YMD": (0, 1, 2), "DMY": (2, 1, 0), "MDY": (2, 0, 1)}  # positions of year, month, day


def parse_datetime(value: object, timezone: str, date_order: str | None = None) -> pd.Timestamp:
    """A UTC timestamp; a value without a zone is read in ``timezone``; a numeric date whose order the value does
    not tell is read in ``date_order`` (YMD, DMY, MDY), or refused as ambiguous without one. Raises ValueError
    with a reason, never another exception."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise ValueError("date is missing")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _epoch(value)
    if isinstance(value, datetime):
        ts = pd.Timestamp(value)
    else:
        text = str(value).strip()
        if not text:
            raise ValueError("date is empty")
        if _EPOCH_TEXT.fullmatch(text):
            return _epoch(float(text) if "." in text else int(text))
        ts = _parse_text(text, date_order)
    if not 1678 <= ts.year <= 2261:  # what pandas holds at any unit, and far beyond a plausible date
        raise ValueError("date is out of range")
    if ts.tzinfo is None:
        # a wall-clock time that happens twice (clocks going back) is read as the first of the two; one that never
        # happens (clocks going forward) moves forward to the first valid time
        ts = ts.tz_localize(timezone, ambiguous=True, nonexistent="shift_forward")
    return ts.tz_convert("UTC").as_unit("us")


def _epoch(value: int | float) -> pd.Timestamp:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("date is not a finite number")
    if value < 0:
        raise ValueError("date is a negative epoch (before 1970)")
    unit = next((u for limit, u in _EPOCH_UNITS if value < limit), None)
    if unit is None:
        raise ValueError("date is an epoch too large for any unit (s, ms, µs, ns)")
    try:
        ts = pd.Timestamp(value, unit=unit, tz="UTC").as_unit("us")
    except (ValueError, OverflowError, pd.errors.OutOfBoundsDatetime):
        raise ValueError("date is an epoch out of range") from None
    if pd.isna(ts) or not 1678 <= ts.year <= 2261:
        raise ValueError("date is an epoch out of range")
    return ts


def _parse_text(text: str, date_order: str | None) -> pd.Timestamp:
    text = _WEEKDAY.sub("", text)
    text = _JA_DATE.sub(lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}", text)
    text = _JA_TIME.sub(lambda m: f" {int(m[1]):02d}:{int(m[2] or 0):02d}:{int(m[3] or 0):02d}", text)
    if (numeric := _NUMERIC_DATE.match(text)) is not None:
        text = _ordered(numeric, date_order) + numeric[5]
    text = text.replace("T", " ").strip()
    try:
        ts = pd.Timestamp(text)
    except (ValueError, OverflowError, TypeError, pd.errors.OutOfBoundsDatetime):
        raise ValueError("unparsable date") from None
    if pd.isna(ts):
        raise ValueError("unparsable date")
    return ts


def _ordered(match: re.Match, date_order: str | None) -> str:
    """The numeric date of ``match`` as YYYY-MM-DD: the order the value tells (a 4-digit year first is YMD; a
    4-digit year last with a part above 12 is DMY or MDY), else ``date_order``; raises ValueError when neither
    tells, or the parts do not make a date in that order."""
    parts = (match[1], match[3], match[4])
    order = date_order
    if len(parts[0]) == 4:
        order = "YMD"
    elif len(parts[2]) == 4 and order not in ("DMY", "MDY"):
        first, second = int(parts[0]), int(parts[1])
        order = "DMY" if first > 12 else "MDY" if second > 12 or first == second else None
    if order is None:
        raise ValueError("ambiguous date (day, month and year order); set ingest.date_order: YMD, DMY or MDY")
    year, month, day = (parts[k] for k in _ORDERS[order])
    if len(year) == 2:
        year = f"20{year}"
    elif len(year) != 4:
        raise ValueError(f"unparsable date (no year in {order} order)")
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        raise ValueError(f"unparsable date (no month or day in {order} order)")
    return f"{year}-{int(month):02d}-{int(day):02d}"
