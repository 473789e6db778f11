"""Emerging-issue alerts: new issues, and issues that are growing (shrinking): both their recent share of all
feedback (one-sided binomial test) and their own recent count (one-sided Poisson test against the baseline
rate) are significantly above (below) the baseline, in a short or a long recent window (the false-alarm rate
is split between the windows). Requiring both keeps one issue's surge from making every other issue "shrink".
Sentiment drops by Welch's t-test; issues that stopped appearing are resolved."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from nlp.cluster import OUTLIER
from nlp.config import AlertsConfig

ALERT_COLUMNS = ["issue_id", "alert", "recent_count", "baseline_count", "recent_share", "baseline_share",
                 "p_value", "detail"]


def issue_cores(scored: pd.DataFrame, radius: dict[str, float]) -> pd.DataFrame:
    """``scored`` with each item counted in its issue only when it lies within the issue's radius (centrality
    at least the radius), else as an outlier. Between full fits new items join an issue only within its
    radius, while older items were placed by the fit: counting the core of every issue, old and new items
    alike, keeps the recent and baseline counts comparable (otherwise delta runs read as "shrinking")."""
    limit = scored["issue_id"].map(radius).astype(float)
    inside = scored["centrality"].astype(float) >= limit.fillna(-np.inf)
    return scored.assign(issue_id=scored["issue_id"].where(inside, OUTLIER))


def issue_alerts(scored: pd.DataFrame, events: pd.DataFrame, cfg: AlertsConfig, as_of: pd.Timestamp,
                 first_run: bool) -> pd.DataFrame:
    """One row per alert, most significant first. ``scored`` has item_id, issue_id (issue ids),
    created_at and sentiment; ``events`` this run's issue events (new, split, dormant, ...)."""
    rows = []
    windows = sorted({cfg.short_days, cfg.recent_days})
    alpha = cfg.false_alarm_rate / len(windows)
    base_start = as_of - pd.Timedelta(days=cfg.recent_days + cfg.baseline_days)
    base_end = as_of - pd.Timedelta(days=cfg.recent_days)
    base = scored[(scored["created_at"] > base_start) & (scored["created_at"] <= base_end)]
    issues = sorted(set(scored["issue_id"]) - {OUTLIER})
    # the baseline is only as long as the data: the expected count scales with the days it really covers, and
    # a baseline shorter than the recent window is too short to compare with
    covered = (base_end - max(base_start, scored["created_at"].min())).total_seconds() / 86400 if len(scored) else 0
    base_counts = base["issue_id"].value_counts()
    for days in windows if covered >= cfg.recent_days else []:
        recent = scored[(scored["created_at"] > as_of - pd.Timedelta(days=days)) & (scored["created_at"] <= as_of)]
        counts = recent["issue_id"].value_counts()
        for issue in issues:
            k, b = int(counts.get(issue, 0)), int(base_counts.get(issue, 0))
            rows += _volume_alerts(issue, k, len(recent), b, len(base), days / covered, alpha, cfg)
    recent = scored[(scored["created_at"] > base_end) & (scored["created_at"] <= as_of)]
    by_issue_recent = {k: g for k, g in recent.groupby("issue_id")["sentiment"]}
    by_issue_base = {k: g for k, g in base.groupby("issue_id")["sentiment"]}
    empty = pd.Series(dtype=float)
    for issue in issues:
        rows += _sentiment_alerts(issue, by_issue_recent.get(issue, empty), by_issue_base.get(issue, empty), cfg)
    out = pd.DataFrame(rows, columns=ALERT_COLUMNS).sort_values(["p_value", "issue_id", "alert"], kind="stable")
    out = out.drop_duplicates(["issue_id", "alert"])  # one alert of a kind per issue: the most significant window
    events_rows = [] if first_run else _event_alerts(events, recent)
    return pd.concat([pd.DataFrame(events_rows, columns=ALERT_COLUMNS), out], ignore_index=True)


def _volume_alerts(issue: str, k: int, n: int, b: int, nb: int, rate_ratio: float, alpha: float,
                   cfg: AlertsConfig) -> list[dict]:
    """Growing/shrinking when the share (binomial) and the count (Poisson, expected ``b * rate_ratio``) agree."""
    if n == 0 or nb == 0 or max(k, b) < cfg.min_count:  # fewer than min_count on both sides never alerts
        return []
    p0 = (b + 0.5) / (nb + 1.0)  # baseline share, smoothed so an unseen issue is not a certainty
    mu = max(b, 0.5) * rate_ratio
    row = {"issue_id": issue, "recent_count": k, "baseline_count": b, "recent_share": round(k / n, 4),
           "baseline_share": round(b / nb, 4), "detail": ""}
    up = max(float(stats.binom.sf(k - 1, n, p0)), float(stats.poisson.sf(k - 1, mu)))
    if k >= cfg.min_count and up < alpha:
        return [{**row, "alert": "growing", "p_value": up}]
    down = max(float(stats.binom.cdf(k, n, p0)), float(stats.poisson.cdf(k, mu)))
    if b >= cfg.min_count and down < alpha:
        return [{**row, "alert": "shrinking", "p_value": down}]
    return []


def _sentiment_alerts(issue: str, recent: pd.Series, base: pd.Series, cfg: AlertsConfig) -> list[dict]:
    if len(recent) < cfg.min_count or len(base) < cfg.min_count:
        return []
    drop = float(recent.mean() - base.mean())
    if drop > -cfg.sentiment_drop:
        return []
    p = float(stats.ttest_ind(recent, base, equal_var=False, alternative="less").pvalue)
    if not np.isfinite(p) or p >= cfg.false_alarm_rate:
        return []
    return [{"issue_id": issue, "alert": "sentiment_drop", "recent_count": len(recent), "baseline_count": len(base),
             "recent_share": np.nan, "baseline_share": np.nan, "p_value": p, "detail": f"{drop:+.2f}"}]


def _event_alerts(events: pd.DataFrame, recent: pd.DataFrame) -> list[dict]:
    kinds = {"new": "new", "split": "new", "dormant": "resolved", "merged": "merged"}
    rows = []
    for e in events[events["event"].isin(list(kinds))].itertuples():
        count = int((recent["issue_id"] == e.issue_id).sum())
        detail = e.related_issue if isinstance(e.related_issue, str) and e.related_issue else ""  # the other issue
        rows.append({"issue_id": e.issue_id, "alert": kinds[e.event], "recent_count": count, "baseline_count": 0,
                     "recent_share": np.nan, "baseline_share": np.nan, "p_value": 0.0, "detail": detail})
    return rows
