"""Trends: weekly volume, mean sentiment and negative share per issue and per stage; growth of the recent
weeks against the baseline weeks, as a share of all feedback (so a busy week does not look like a new issue)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nlp.config import TrendsConfig


def week_start(created_at: pd.Series, timezone: str) -> pd.Series:
    """Monday of each item's week in the report's timezone, as a date."""
    local = created_at.dt.tz_convert(timezone)
    return (local.dt.normalize() - pd.to_timedelta(local.dt.weekday, unit="D")).dt.date


def weekly_trends(scored: pd.DataFrame, by: str, timezone: str, negative_below: float) -> pd.DataFrame:
    """One row per (``by`` value, week): count, share of all feedback that week, mean_sentiment and
    negative_share. Weeks with no items are zeros."""
    return period_trends(scored, by, timezone, negative_below, "week")


def period_trends(scored: pd.DataFrame, by: str, timezone: str, negative_below: float,
                  period: str) -> pd.DataFrame:
    """Like ``weekly_trends`` per ``period``: "week" (Mondays) or "day" (dates in ``timezone``)."""
    start = week_start(scored["created_at"], timezone) if period == "week" else \
        scored["created_at"].dt.tz_convert(timezone).dt.date
    frame = scored.assign(**{period: start, "negative": scored["sentiment"] < negative_below})
    periods = sorted(frame[period].unique())
    grouped = frame.groupby([by, period]).agg(count=("item_id", "size"), mean_sentiment=("sentiment", "mean"),
                                              negative_share=("negative", "mean"))
    full = pd.MultiIndex.from_product([sorted(frame[by].unique()), periods], names=[by, period])
    out = grouped.reindex(full).reset_index()
    out["count"] = out["count"].fillna(0).astype(int)
    totals = out.groupby(period)["count"].transform("sum")
    out["share"] = (out["count"] / totals.where(totals > 0, 1)).round(4)
    return out[[by, period, "count", "share", "mean_sentiment", "negative_share"]].round(
        {"mean_sentiment": 4, "negative_share": 4})


def growth(scored: pd.DataFrame, keys: list[str], timezone: str, cfg: TrendsConfig) -> pd.DataFrame:
    """Per ``keys`` group: recent_count, baseline_count and growth = log2 of (recent share / baseline share)
    with add-one smoothing; the recent window is the last ``cfg.recent_weeks`` weeks with data."""
    week = week_start(scored["created_at"], timezone)
    weeks = sorted(week.unique())
    recent_weeks = set(weeks[-cfg.recent_weeks:])
    baseline_weeks = set(weeks[-(cfg.recent_weeks + cfg.baseline_weeks):-cfg.recent_weeks])
    is_recent, is_base = week.isin(recent_weeks), week.isin(baseline_weeks)
    total_recent, total_base = max(int(is_recent.sum()), 1), max(int(is_base.sum()), 1)
    g = scored.assign(recent=is_recent, base=is_base).groupby(keys)
    out = g.agg(recent_count=("recent", "sum"), baseline_count=("base", "sum")).reset_index()
    recent_share = (out["recent_count"] + 1) / (total_recent + 1)
    base_share = (out["baseline_count"] + 1) / (total_base + 1)
    out["growth"] = np.log2(recent_share / base_share).round(4) if baseline_weeks else 0.0
    return out
