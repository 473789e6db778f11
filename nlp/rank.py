"""Ranking pain points per stage: one explainable score from volume, negativity, growth and severity."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nlp.cluster import OUTLIER
from nlp.config import FollowupConfig, RankConfig
from nlp.label import representative_verbatims


def severity_flags(scored: pd.DataFrame, cfg: RankConfig) -> pd.Series:
    """1.0 for an item that shows a severe experience: 1-2 stars or CSAT, a repeat contact or reopen,
    a resolution slower than cfg.slow_resolution_hours, or strongly negative text; else 0.0."""
    low_rating = _flag(scored["rating"].astype("Float64") <= 2)
    low_csat = _flag(scored["csat"].astype("Float64") <= 2)
    repeat = _flag(scored["contact_count"].astype("Float64") >= 2) | _flag(scored["reopened"])
    hours = ((scored["resolved_at"] - scored["created_at"]).dt.total_seconds() / 3600).astype("Float64")
    slow = _flag(hours > cfg.slow_resolution_hours)
    strong = (scored["sentiment"] <= -0.6).to_numpy(dtype=bool)
    return pd.Series((low_rating | low_csat | repeat | slow | strong).astype(float), index=scored.index)


def _flag(series: pd.Series) -> np.ndarray:
    """A nullable boolean column as a plain bool array, missing = False."""
    return series.astype("boolean").fillna(False).to_numpy(dtype=bool)


def rank_pain_points(scored: pd.DataFrame, clusters: pd.DataFrame, growth: pd.DataFrame,
                     cfg: RankConfig, negative_below: float) -> pd.DataFrame:
    """One row per (stage, cluster_id) with at least ``cfg.min_items`` items, best first within each stage.

    ``scored`` has one row per item with stage, cluster_id, centrality, sentiment, text and the ticket/review
    fields;
    ``growth`` has stage, cluster_id, growth. Each score part is a column: volume_score, negativity_score,
    growth_score, severity_score (all in [0, 1]) and score, their weighted mean."""
    frame = scored[scored["cluster_id"] != OUTLIER].assign(
        negative=scored["sentiment"] < negative_below, severe=severity_flags(scored, cfg))
    stage_totals = scored.groupby("stage").size().rename("stage_total")
    pp = frame.groupby(["stage", "cluster_id"]).agg(
        count=("item_id", "size"), negative_share=("negative", "mean"), mean_sentiment=("sentiment", "mean"),
        severe_share=("severe", "mean")).reset_index()
    pp = pp[pp["count"] >= cfg.min_items]
    if pp.empty:
        return _empty()
    pp = pp.merge(stage_totals, on="stage").merge(growth, on=["stage", "cluster_id"], how="left")
    pp = pp.merge(clusters[["cluster_id", "lang", "label", "keyphrases"]], on="cluster_id", how="left")
    pp = pp.merge(_stage_verbatims(frame, cfg.verbatims), on=["stage", "cluster_id"], how="left")
    pp["share_of_stage"] = pp["count"] / pp["stage_total"]
    pp["volume_score"] = np.log1p(pp["count"]) / np.log1p(pp["count"].max())
    pp["negativity_score"] = pp["negative_share"]
    pp["growth_score"] = np.clip(pp["growth"].fillna(0.0), 0, 2) / 2
    pp["severity_score"] = pp["severe_share"]
    w = cfg.weights
    total = w.volume + w.negativity + w.growth + w.severity
    pp["score"] = (w.volume * pp["volume_score"] + w.negativity * pp["negativity_score"]
                   + w.growth * pp["growth_score"] + w.severity * pp["severity_score"]) / total
    pp = pp.sort_values(["stage", "score", "count", "cluster_id"], ascending=[True, False, False, True])
    pp["rank"] = pp.groupby("stage").cumcount() + 1
    numeric = ["share_of_stage", "negative_share", "mean_sentiment", "severe_share", "volume_score",
               "negativity_score", "growth_score", "severity_score", "score", "growth"]
    pp[numeric] = pp[numeric].astype(float).round(4)
    return pp[_COLUMNS].reset_index(drop=True)


def _stage_verbatims(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` most central distinct texts of each (stage, cluster_id): quotes from that stage only."""
    rows = []
    for (stage, cid), group in frame.groupby(["stage", "cluster_id"], sort=True):
        quotes = representative_verbatims(group["text"].tolist(), group["centrality"].fillna(0).to_numpy(), n)
        rows.append({"stage": stage, "cluster_id": cid, "verbatims": quotes})
    return pd.DataFrame(rows, columns=["stage", "cluster_id", "verbatims"])


_COLUMNS = ["stage", "rank", "cluster_id", "lang", "label", "count", "share_of_stage", "negative_share",
            "mean_sentiment", "growth", "recent_count", "baseline_count", "severe_share", "volume_score",
            "negativity_score", "growth_score", "severity_score", "score", "keyphrases", "verbatims"]


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=_COLUMNS)


def followup_items(scored: pd.DataFrame, cfg: FollowupConfig, as_of: pd.Timestamp) -> pd.DataFrame:
    """Items that need a human answer, most urgent first: strongly negative reviews/mentions, tickets that
    were reopened, and tickets still unresolved after cfg.unresolved_after_days."""
    negative = (scored["sentiment"] <= cfg.sentiment_below).to_numpy(dtype=bool)
    is_ticket = (scored["source_kind"] == "ticket").to_numpy(dtype=bool)
    reopened = is_ticket & _flag(scored["reopened"])
    age_days = ((as_of - scored["created_at"]).dt.total_seconds() / 86400).to_numpy(dtype=float)
    unresolved = is_ticket & scored["resolved_at"].isna().to_numpy(dtype=bool) & (age_days > cfg.unresolved_after_days)
    need = negative | reopened | unresolved
    out = scored[need].assign(
        reason=np.select([reopened[need], unresolved[need]], ["reopened", "unresolved"], default="negative"),
        urgency=np.round(-scored["sentiment"].to_numpy(dtype=float)[need] + 0.5 * reopened[need]
                         + 0.5 * unresolved[need], 4),
    )
    cols = ["item_id", "source_kind", "source_name", "source_id", "created_at", "stage", "cluster_id", "reason",
            "urgency", "sentiment", "text"]
    return out.sort_values(["urgency", "created_at", "item_id"], ascending=[False, False, True])[cols] \
        .reset_index(drop=True)
