"""Where a pain point lives: segment values (app version, device, plan, region, airline...) in which an issue's
items are over-represented, CX metrics per segment value, and a short "where to look" list per stage. Pure."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from scipy import stats

from nlp.cluster import OUTLIER
from nlp.config import SegmentsConfig

_LIFT_COLUMNS = ["issue_id", "segment", "value", "n", "issue_n", "share", "rest_share", "lift", "p_value"]


def segment_values(items: pd.DataFrame) -> pd.DataFrame:
    """One row per (item, segment) with a value: item_id, segment, value (from the items' ``segments`` JSON)."""
    rows = []
    if "segments" in items:
        for item_id, raw in zip(items["item_id"], items["segments"]):
            if isinstance(raw, str) and raw:
                rows += [(item_id, k, v) for k, v in json.loads(raw).items()]
    return pd.DataFrame(rows, columns=["item_id", "segment", "value"])


def segment_lift(scored: pd.DataFrame, cfg: SegmentsConfig) -> pd.DataFrame:
    """For every issue and segment value: how over-represented the value is among the issue's items against
    the other items that carry that segment (``lift`` = share in the issue / share in the rest), kept when the
    issue has at least ``cfg.min_count`` such items, the lift reaches ``cfg.min_lift`` and a one-sided Fisher
    exact test is significant at ``cfg.alpha`` over all the values tested (Bonferroni). Strongest first."""
    values = segment_values(scored)
    if values.empty:
        return pd.DataFrame(columns=_LIFT_COLUMNS)
    values = values.merge(scored[["item_id", "issue_id"]], on="item_id")
    values = values[values["issue_id"] != OUTLIER]
    tests = []
    for segment, seg in values.groupby("segment", sort=True):
        total = seg["item_id"].nunique()
        per_value = seg.groupby("value")["item_id"].nunique()
        for issue_id, own in seg.groupby("issue_id", sort=True):
            issue_n = own["item_id"].nunique()
            rest_n = total - issue_n
            if rest_n <= 0:
                continue
            for value, n in own.groupby("value")["item_id"].nunique().items():
                rest_with = int(per_value[value]) - int(n)
                share, rest_share = n / issue_n, rest_with / rest_n
                # the rest's share smoothed by half an item, so a value absent from the rest has a finite lift
                lift = share / max(rest_share, 0.5 / rest_n)
                tests.append((issue_id, segment, value, int(n), issue_n, share, rest_share, lift,
                              int(n), issue_n - int(n), rest_with, rest_n - rest_with))
    if not tests:
        return pd.DataFrame(columns=_LIFT_COLUMNS)
    frame = pd.DataFrame(tests, columns=_LIFT_COLUMNS[:-1] + ["a", "b", "c", "d"])
    frame["p_value"] = [stats.fisher_exact([[a, b], [c, d]], alternative="greater")[1]
                        for a, b, c, d in frame[["a", "b", "c", "d"]].itertuples(index=False)]
    keep = ((frame["n"] >= cfg.min_count) & (frame["lift"] >= cfg.min_lift)
            & (frame["p_value"] <= cfg.alpha / len(frame)))
    out = frame.loc[keep, _LIFT_COLUMNS].copy()
    out[["share", "rest_share", "lift"]] = out[["share", "rest_share", "lift"]].round(4)
    out["p_value"] = out["p_value"].map(lambda p: float(f"{p:.3g}"))
    return out.sort_values(["issue_id", "lift", "n", "segment", "value"],
                           ascending=[True, False, False, True, True]).reset_index(drop=True)


def segment_metrics(responses: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """NPS and CSAT (share of 4-5) per segment value, with their intervals and counts (survey answers and any
    item with a score that carries segments)."""
    from nlp.metrics import nps_interval, wilson_interval

    values = segment_values(responses)
    if values.empty:
        return pd.DataFrame(columns=["segment", "value", "metric", "value_", "low", "high", "n"])
    scored = values.merge(responses[["item_id", "nps", "csat"]], on="item_id")
    rows = []
    for (segment, value), group in scored.groupby(["segment", "value"], sort=True):
        for metric, column, estimate in (("nps", "nps", nps_interval), ("csat", "csat", None)):
            got = group[column].astype("Float64").dropna().to_numpy(dtype=float)
            if not len(got):
                continue
            v, low, high = (estimate(got, confidence) if estimate
                            else wilson_interval((got >= 4).astype(float), confidence))
            rows.append((segment, value, metric, round(v, 2), round(low, 2), round(high, 2), len(got)))
    return pd.DataFrame(rows, columns=["segment", "value", "metric", "value_", "low", "high", "n"]) \
        .rename(columns={"value_": "score"})


def where_to_look(scored: pd.DataFrame, lift: pd.DataFrame, issue_daily: pd.DataFrame, issue_id: str,
                  cfg: SegmentsConfig) -> dict:
    """A short root-cause list for one issue: its cfg.top strongest segment values, the cfg.co_occurring_top
    issues its customers also wrote about within cfg.co_occurring_days (same customer id or author), and the
    first day its daily share rose above cfg.rise_factor times its median share with at least
    cfg.rise_min_count items (None while the daily series has fewer than cfg.rise_min_days days)."""
    own = lift[lift["issue_id"] == issue_id].head(cfg.top)
    segments = [{"segment": r.segment, "value": r.value, "lift": float(r.lift), "n": int(r.n)}
                for r in own.itertuples()]
    who = scored["customer_id"].astype("string").fillna(scored.get("author_hash", pd.Series(pd.NA, index=scored.index))
                                                          .astype("string"))
    frame = scored.assign(who=who).dropna(subset=["who"])
    mine = frame[frame["issue_id"] == issue_id]
    others = frame[(frame["issue_id"] != issue_id) & (frame["issue_id"] != OUTLIER)
                   & frame["who"].isin(mine["who"])]
    pairs = others.merge(mine[["who", "created_at"]], on="who", suffixes=("", "_mine"))
    near = pairs[(pairs["created_at"] - pairs["created_at_mine"]).abs() <= pd.Timedelta(days=cfg.co_occurring_days)]
    co = near.drop_duplicates(["who", "issue_id"])["issue_id"].value_counts().head(cfg.co_occurring_top)
    daily = issue_daily[issue_daily["issue_id"] == issue_id].sort_values("day")
    rose = None
    if len(daily) >= cfg.rise_min_days:
        median = float(np.median(daily["share"]))
        above = (daily[(daily["share"] > cfg.rise_factor * median) & (daily["count"] >= cfg.rise_min_count)]
                 if median > 0 else daily.iloc[0:0])
        rose = str(above["day"].iloc[0]) if len(above) else None
    return {"segments": segments, "co_occurring": [{"issue_id": c, "customers": int(n)} for c, n in co.items()],
            "rose_on": rose}
