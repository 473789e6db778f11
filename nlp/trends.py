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
    """One row per (``by`` value, week): count, mean_sentiment, negative_share. Weeks with no items are zeros."""
    frame = scored.assign(week=week_start(scored["created_at"], timezone),
                          negative=scored["sentiment"] < negative_below)
    weeks = sorted(frame["week"].unique())
    grouped = frame.groupby([by, "week"]).agg(count=("item_id", "size"), mean_sentiment=("sentiment", "mean"),
                                              negative_share=("negative", "mean"))
    full = pd.MultiIndex.from_product([sorted(frame[by].unique()), weeks], names=[by, "week"])
    out = grouped.reindex(full).reset_index()
    out["count"] = out["count"].fillna(0).astype(int)
    return out.round({"mean_sentiment": 4, "negative_share": 4})


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
