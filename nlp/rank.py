"""Ranking pain points per stage: each issue once, under its main stage, with one explainable score from volume,
negativity, growth, severity and impact on the CX metrics (NPS, CSAT, CES, rating, first-contact resolution);
issues that are not problems or not coherent are held back (nlp/problems.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nlp.cluster import OUTLIER
from nlp.config import FollowupConfig, RankConfig
from nlp.label import representative_verbatims
from nlp.metrics import IMPACT_METRICS
from nlp.problems import issue_profiles


def severity_flags(scored: pd.DataFrame, cfg: RankConfig) -> pd.Series:
    """1.0 for an item that shows a severe experience: stars or CSAT at cfg.severe_score_at_most or below,
    cfg.repeat_contacts contacts or more or a reopen, a resolution slower than cfg.slow_resolution_hours, or text
    at cfg.severe_sentiment or below; else 0.0."""
    low_rating = _flag(scored["rating"].astype("Float64") <= cfg.severe_score_at_most)
    low_csat = _flag(scored["csat"].astype("Float64") <= cfg.severe_score_at_most)
    repeat = _flag(scored["contact_count"].astype("Float64") >= cfg.repeat_contacts) | _flag(scored["reopened"])
    hours = ((scored["resolved_at"] - scored["created_at"]).dt.total_seconds() / 3600).astype("Float64")
    slow = _flag(hours > cfg.slow_resolution_hours)
    strong = (scored["sentiment"] <= cfg.severe_sentiment).to_numpy(dtype=bool)
    return pd.Series((low_rating | low_csat | repeat | slow | strong).astype(float), index=scored.index)


def _flag(series: pd.Series) -> np.ndarray:
    """A nullable boolean column as a plain bool array, missing = False."""
    return series.astype("boolean").fillna(False).to_numpy(dtype=bool)


def rank_pain_points(scored: pd.DataFrame, clusters: pd.DataFrame, growth: pd.DataFrame, impacts: pd.DataFrame,
                     cfg: RankConfig, negative_below: float, noise: frozenset[str] | set[str] = frozenset()
                     ) -> pd.DataFrame:
    """One row per issue, under its main stage (the stage most of its items are in; ``stage_breakdown`` lists
    them all), best first within each stage. An issue ranks when it has at least ``cfg.min_items`` items, at
    least ``cfg.min_negative_share`` of them negative, and is not held back (nlp.problems.issue_profiles: not
    a problem, incoherent, or noise by the taxonomy: ``noise``).

    ``scored`` has one row per item with stage, issue_id, centrality, sentiment, text, the ticket/review
    fields and ``quotable`` (False keeps an item out of the quotes, e.g. an abusive message);
    ``growth`` has issue_id, growth; ``impacts`` has issue_id, metric, impact (points gained if the
    issue's items scored like the rest, see nlp.metrics.metric_impact). Each score part is a column:
    volume_score, negativity_score, growth_score, severity_score, impact_score (all in [0, 1]) and score,
    their weighted mean; impact_<metric> columns hold the raw impacts. The metrics are the whole issue's;
    share_of_stage is the share of its main stage's items that are in it."""
    profiles = issue_profiles(scored, clusters.set_index("issue_id")["space"], cfg, negative_below, noise)
    ranked = profiles[profiles["held_back"] == ""].set_index("issue_id")
    frame = scored[scored["issue_id"].isin(ranked.index)]
    frame = frame.assign(in_main=frame["stage"] == frame["issue_id"].map(ranked["main_stage"]),
                         negative=frame["sentiment"] < negative_below, severe=severity_flags(frame, cfg))
    pp = frame.groupby("issue_id").agg(
        count=("item_id", "size"), in_main=("in_main", "sum"), negative_share=("negative", "mean"),
        mean_sentiment=("sentiment", "mean"), severe_share=("severe", "mean")).reset_index()
    pp = pp[(pp["count"] >= cfg.min_items) & (pp["negative_share"] >= cfg.min_negative_share)]
    if pp.empty:
        return _empty()
    pp = pp.merge(profiles[["issue_id", "main_stage", "stage_breakdown", "problem_share", "cohesion"]],
                  on="issue_id").rename(columns={"main_stage": "stage"})
    pp = pp.merge(scored.groupby("stage").size().rename("stage_total"), on="stage")
    pp = pp.merge(growth, on="issue_id", how="left")
    pp = pp.merge(clusters[["issue_id", "space", "label", "keyphrases"]], on="issue_id", how="left")
    quotable = frame[frame["quotable"]] if "quotable" in frame else frame
    pp = pp.merge(_verbatims(quotable, cfg.verbatims), on="issue_id", how="left")
    pp["verbatims"] = pp["verbatims"].map(lambda v: v if isinstance(v, list) else [])
    pp = pp.merge(_impact_columns(impacts), on="issue_id", how="left")
    pp["share_of_stage"] = pp["in_main"] / pp["stage_total"]
    return _scored(pp, cfg)


def _scored(pp: pd.DataFrame, cfg: RankConfig) -> pd.DataFrame:
    """The score parts, their weighted mean and the rank within each stage."""
    pp["volume_score"] = np.log1p(pp["count"]) / np.log1p(pp["count"].max())
    pp["negativity_score"] = pp["negative_share"]
    pp["growth_score"] = np.clip(pp["growth"].fillna(0.0), 0, 2) / 2
    pp["severity_score"] = pp["severe_share"]
    pp["impact_score"] = _impact_score(pp)
    w = cfg.weights
    total = w.volume + w.negativity + w.growth + w.severity + w.impact
    pp["score"] = (w.volume * pp["volume_score"] + w.negativity * pp["negativity_score"]
                   + w.growth * pp["growth_score"] + w.severity * pp["severity_score"]
                   + w.impact * pp["impact_score"]) / total
    pp = pp.sort_values(["stage", "score", "count", "issue_id"], ascending=[True, False, False, True])
    pp["rank"] = pp.groupby("stage").cumcount() + 1
    numeric = ["share_of_stage", "negative_share", "mean_sentiment", "severe_share", "volume_score",
               "negativity_score", "growth_score", "severity_score", "impact_score", "score", "growth"]
    pp[numeric] = pp[numeric].astype(float).round(4)
    return pp[_COLUMNS].reset_index(drop=True)


def _impact_columns(impacts: pd.DataFrame) -> pd.DataFrame:
    """issue_id and one impact_<metric> column per impact metric (NaN where not measurable)."""
    wide = impacts.pivot_table(index="issue_id", columns="metric", values="impact", aggfunc="first") \
        if not impacts.empty else pd.DataFrame(index=pd.Index([], name="issue_id"))
    wide = wide.reindex(columns=list(IMPACT_METRICS)).add_prefix("impact_")
    return wide.reset_index()


def _impact_score(pp: pd.DataFrame) -> pd.Series:
    """Per metric, a pain point's impact over the largest positive impact of any pain point (so 1.0 is the
    pain point that costs that metric most); the score is the largest of these over the metrics."""
    parts = []
    for metric in IMPACT_METRICS:
        col = pp[f"impact_{metric}"].astype(float)
        top = col.clip(lower=0).max()
        parts.append((col.clip(lower=0) / top).fillna(0.0) if top and top > 0 else pd.Series(0.0, index=pp.index))
    return pd.concat(parts, axis=1).max(axis=1) if parts else pd.Series(0.0, index=pp.index)


def _verbatims(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` most central distinct texts of each issue's items in its main stage (``in_main``), else of
    all its items."""
    rows = []
    for cid, group in frame.groupby("issue_id", sort=True):
        own = group[group["in_main"]] if group["in_main"].any() else group
        quotes = representative_verbatims(own["text"].tolist(), own["centrality"].fillna(0).to_numpy(), n)
        rows.append({"issue_id": cid, "verbatims": quotes})
    return pd.DataFrame(rows, columns=["issue_id", "verbatims"])


_COLUMNS = ["stage", "rank", "issue_id", "space", "label", "count", "stage_breakdown", "share_of_stage",
            "problem_share", "cohesion", "negative_share",
            "mean_sentiment", "growth", "recent_count", "baseline_count", "severe_share", "volume_score",
            "negativity_score", "growth_score", "severity_score", "impact_score", "score",
            *[f"impact_{m}" for m in IMPACT_METRICS], "keyphrases", "verbatims"]


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=_COLUMNS)


def followup_items(responses: pd.DataFrame, cfg: FollowupConfig, as_of: pd.Timestamp,
                   seen_before: set[str] | None = None) -> tuple[pd.DataFrame, int]:
    """The follow-up work queue: items that need a human answer, first things first, capped at
    ``cfg.max_items`` (the second value counts the rest). Items needing an answer: strongly negative
    reviews/mentions/tickets, survey detractors (NPS 0-6) and low CSAT answers, tickets that were reopened, and
    tickets still unresolved after cfg.unresolved_after_days; items the source marks as answered are left out.
    ``reasons`` lists every reason, ``reason`` is the first; urgency = the text's negativity + one point per reason
    beyond the first. ``priority`` adds to the urgency, each weighted by cfg.priority_weights and in 0..1: reach
    (the size of the item's issue against the largest; outliers 0), customer (the customer's other contacts in
    the window, 1 from cfg.contacts_for_full of them) and age (days waiting, 1 from cfg.days_for_full). ``new``
    marks items the last run did not see (``seen_before``: its item ids; None = no earlier run, nothing is new);
    ``owner`` and ``status`` are empty columns for the team to fill in."""
    age_days = ((as_of - responses["created_at"]).dt.total_seconds() / 86400).to_numpy(dtype=float)
    flags = _followup_flags(responses, age_days, cfg)
    need = np.logical_or.reduce(list(flags.values())) & ~_flag(responses["answered"])
    reasons = [[name for name, hit in flags.items() if hit[i]] for i in np.flatnonzero(need)]
    negativity = np.clip(-responses["sentiment"].astype(float).fillna(0.0).to_numpy()[need], 0, 1)
    urgency = negativity + np.array([len(r) for r in reasons], dtype=float) - 1
    reach, customer, age = (term[need] for term in _priority_terms(responses, age_days, cfg))
    priority = urgency + reach + customer + age
    new = (np.zeros(int(need.sum()), dtype=bool) if seen_before is None
           else ~responses["item_id"][need].isin(seen_before).to_numpy(dtype=bool))
    out = responses[need].assign(
        reason=[r[0] for r in reasons], reasons=[", ".join(r) for r in reasons], urgency=np.round(urgency, 4),
        priority=np.round(priority, 4), new=new, owner="", status="")
    queue = out.sort_values(["priority", "urgency", "created_at", "item_id"],
                            ascending=[False, False, False, True])[_FOLLOWUP_COLUMNS].reset_index(drop=True)
    if cfg.max_items is None or len(queue) <= cfg.max_items:
        return queue, 0
    return queue.head(cfg.max_items), len(queue) - cfg.max_items


_FOLLOWUP_COLUMNS = ["item_id", "priority", "new", "owner", "status", "source_kind", "source_name", "source_id",
                     "customer_id", "created_at", "stage", "issue_id", "reason", "reasons", "urgency", "sentiment",
                     "nps", "csat", "text"]


def _followup_flags(responses: pd.DataFrame, age_days: np.ndarray, cfg: FollowupConfig) -> dict[str, np.ndarray]:
    """Each reason an item needs an answer, in the order ``reasons`` lists them: a bool array per reason."""
    survey = (responses["source_kind"] == "survey").to_numpy(dtype=bool)
    is_ticket = (responses["source_kind"] == "ticket").to_numpy(dtype=bool)
    return {
        "reopened": is_ticket & _flag(responses["reopened"]),
        "unresolved": is_ticket & responses["resolved_at"].isna().to_numpy(dtype=bool)
        & (age_days > cfg.unresolved_after_days),
        "detractor": survey & _flag(responses["nps"].astype("Float64") <= 6) & cfg.detractors,
        "low_csat": survey & _flag(responses["csat"].astype("Float64") <= cfg.csat_at_most),
        "negative": (responses["sentiment"].astype(float) <= cfg.sentiment_below).to_numpy(dtype=bool),
    }


def _priority_terms(responses: pd.DataFrame, age_days: np.ndarray,
                    cfg: FollowupConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The terms the priority adds to each item's urgency, weighted by cfg.priority_weights: reach (its issue's size
    against the largest; outliers 0), customer (the customer's other contacts, 1 at cfg.contacts_for_full) and age
    (days waiting, 1 at cfg.days_for_full)."""
    issue = responses["issue_id"].astype("string").fillna(OUTLIER)
    sizes = issue[issue != OUTLIER].value_counts()
    reach = (issue.map(sizes).fillna(0).astype(float) / max(int(sizes.max()) if len(sizes) else 1, 1)).to_numpy()
    customer = (responses["customer_id"] if "customer_id" in responses else pd.Series(pd.NA, index=responses.index)
                ).astype("string")
    contacts = customer.map(customer.value_counts()).astype("Float64").fillna(1.0).to_numpy(dtype=float)
    w = cfg.priority_weights
    return (w.reach * reach, w.customer * np.clip((contacts - 1) / cfg.contacts_for_full, 0, 1),
            w.age * np.clip(age_days / cfg.days_for_full, 0, 1))
