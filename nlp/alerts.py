"""Emerging-issue alerts: new issues, and issues whose recent share of all feedback is significantly above
(growing) or below (shrinking) their baseline share, by a one-sided binomial test at the configured
false-alarm rate; sentiment drops by Welch's t-test; issues that stopped appearing are resolved."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from nlp.cluster import OUTLIER
from nlp.config import AlertsConfig

ALERT_COLUMNS = ["issue_id", "alert", "recent_count", "baseline_count", "recent_share", "baseline_share",
                 "p_value", "detail"]


def issue_alerts(scored: pd.DataFrame, events: pd.DataFrame, cfg: AlertsConfig, as_of: pd.Timestamp,
                 first_run: bool) -> pd.DataFrame:
    """One row per alert, most significant first. ``scored`` has item_id, cluster_id (issue ids),
    created_at and sentiment; ``events`` this run's issue events (new, split, dormant, ...)."""
    recent_start = as_of - pd.Timedelta(days=cfg.recent_days)
    base_start = recent_start - pd.Timedelta(days=cfg.baseline_days)
    recent = scored[(scored["created_at"] > recent_start) & (scored["created_at"] <= as_of)]
    base = scored[(scored["created_at"] > base_start) & (scored["created_at"] <= recent_start)]
    rows = [] if first_run else _event_alerts(events, recent)
    n_recent, n_base = len(recent), len(base)
    for issue in sorted(set(scored["cluster_id"]) - {OUTLIER}):
        r, b = recent[recent["cluster_id"] == issue], base[base["cluster_id"] == issue]
        rows += _volume_alerts(issue, len(r), n_recent, len(b), n_base, cfg)
        rows += _sentiment_alerts(issue, r["sentiment"], b["sentiment"], cfg)
    out = pd.DataFrame(rows, columns=ALERT_COLUMNS)
    return out.sort_values(["p_value", "issue_id", "alert"], kind="stable").reset_index(drop=True)


def _volume_alerts(issue: str, k: int, n: int, b: int, nb: int, cfg: AlertsConfig) -> list[dict]:
    if n == 0 or nb == 0:
        return []
    p0 = (b + 0.5) / (nb + 1.0)  # baseline share, smoothed so an unseen issue is not a certainty
    row = {"issue_id": issue, "recent_count": k, "baseline_count": b, "recent_share": round(k / n, 4),
           "baseline_share": round(b / nb, 4), "detail": ""}
    up = float(stats.binom.sf(k - 1, n, p0))
    if k >= cfg.min_count and up < cfg.false_alarm_rate:
        return [{**row, "alert": "growing", "p_value": up}]
    down = float(stats.binom.cdf(k, n, p0))
    if b >= cfg.min_count and down < cfg.false_alarm_rate:
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
        count = int((recent["cluster_id"] == e.issue_id).sum())
        detail = f"from {e.related_issue}" if isinstance(e.related_issue, str) and e.related_issue else ""
        rows.append({"issue_id": e.issue_id, "alert": kinds[e.event], "recent_count": count, "baseline_count": 0,
                     "recent_share": np.nan, "baseline_share": np.nan, "p_value": 0.0, "detail": detail})
    return rows
