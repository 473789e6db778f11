"""The report's content as plain data (dicts and lists), built from the run's frames. Pure."""

from __future__ import annotations

import pandas as pd

from nlp.config import PipelineConfig
from nlp.pii import redact_pii
from nlp.report.cx import (abuse_rows, impact_ranking, issue_cx, listening_rows, metrics_table, pain_point_impacts)
from nlp.report.i18n import LABELS
from nlp.stages import UNASSIGNED


def stage_name(cfg: PipelineConfig, key: str) -> str:
    lang = cfg.report.language
    for stage in cfg.stages.stages:
        if stage.key == key:
            return stage.name_ja if lang == "ja" else stage.name_en
    return LABELS[lang]["unassigned"] if key == UNASSIGNED else key


def build_report(cfg: PipelineConfig, tables: dict[str, pd.DataFrame], meta: dict) -> dict:
    """Everything the HTML and Markdown templates show, in report order (stages in config order). ``tables``
    are the frames of flows.tasks.rank_items."""
    scored, ranked, stage_weekly = tables["scored"], tables["pain_points"], tables["stage_weekly"]
    labels = LABELS[cfg.report.language]
    weeks = sorted(stage_weekly["week"].unique()) if not stage_weekly.empty else []
    names = {key: stage_name(cfg, key) for key in [s.key for s in cfg.stages.stages] + [UNASSIGNED]}
    issue_names = dict(zip(tables["clusters"]["cluster_id"], tables["clusters"]["label"]))
    stages = []
    for key in names:
        in_stage = scored[scored["stage"] == key]
        if key == UNASSIGNED and in_stage.empty:
            continue
        pains = ranked[ranked["stage"] == key].head(cfg.rank.top_n)
        stages.append({
            "key": key, "name": names[key], "count": int(len(in_stage)),
            "share": _ratio(len(in_stage), len(scored)),
            "negative_share": _mean(in_stage["sentiment"] < cfg.sentiment.negative_below),
            "mean_sentiment": _mean(in_stage["sentiment"]),
            "outliers": int((in_stage["cluster_id"] == "outlier").sum()),
            "weekly": _series(stage_weekly, "stage", key, weeks),
            "pain_points": [{**_pain_point(row, tables["issue_weekly"], weeks, cfg),
                             "cx": issue_cx(tables["issue_metrics"], row.cluster_id, labels),
                             "impacts": pain_point_impacts(row, labels)} for row in pains.itertuples()],
        })
    followup = tables["followup"]
    return {
        "meta": meta, "labels": labels, "language": cfg.report.language,
        "title": cfg.report.title, "weeks": [str(w) for w in weeks], "stages": stages,
        "overall_weekly": _overall(stage_weekly, weeks),
        "followup": [_followup_row(cfg, r) for r in followup.head(20).itertuples()],
        "followup_total": int(len(followup)),
        "changes": [_change(cfg, a) for a in tables["alerts"].itertuples()],
        "metrics": metrics_table(tables["overall_metrics"], tables["stage_metrics"], names, labels),
        "impact": impact_ranking(tables["issue_impact"], issue_names, labels, top=10),
        "listening": listening_rows(tables["listening"], issue_names, labels),
        "abuse": abuse_rows(tables["abuse"], names),
        "abuse_quoted": cfg.agent.quote_abusive,
    }


def _change(cfg: PipelineConfig, a) -> dict:
    labels = LABELS[cfg.report.language]
    return {"alert": a.alert, "alert_name": labels[f"alert_{a.alert}"], "issue_id": a.issue_id, "label": a.label,
            "stage_name": stage_name(cfg, a.stage), "recent_count": int(a.recent_count),
            "baseline_count": int(a.baseline_count),
            "detail": labels["from_issue"].format(a.detail) if a.alert in ("new", "merged") and a.detail
            else a.detail}


def _pain_point(row, issue_weekly: pd.DataFrame, weeks: list, cfg: PipelineConfig) -> dict:
    return {
        "rank": int(row.rank), "cluster_id": row.cluster_id, "label": row.label, "lang": row.lang,
        "keyphrases": list(row.keyphrases), "count": int(row.count), "share_of_stage": float(row.share_of_stage),
        "negative_share": float(row.negative_share), "mean_sentiment": float(row.mean_sentiment),
        "growth": float(row.growth) if pd.notna(row.growth) else 0.0, "severe_share": float(row.severe_share),
        "score": float(row.score),
        "parts": {"volume": float(row.volume_score), "negativity": float(row.negativity_score),
                  "growth": float(row.growth_score), "severity": float(row.severity_score),
                  "impact": float(row.impact_score)},
        "verbatims": [redact_pii(v, cfg.ingest.pii, handles=True) for v in row.verbatims],
        "weekly": _series(issue_weekly, "cluster_id", row.cluster_id, weeks),
    }


def _series(weekly: pd.DataFrame, by: str, key: str, weeks: list) -> list[int]:
    sub = weekly[weekly[by] == key].set_index("week")["count"]
    return [int(sub.get(w, 0)) for w in weeks]


def _overall(stage_weekly: pd.DataFrame, weeks: list) -> list[dict]:
    out = []
    for w in weeks:
        sub = stage_weekly[stage_weekly["week"] == w]
        n = int(sub["count"].sum())
        mean = float((sub["mean_sentiment"].fillna(0) * sub["count"]).sum() / n) if n else 0.0
        out.append({"week": str(w), "count": n, "mean_sentiment": round(mean, 3)})
    return out


def _followup_row(cfg: PipelineConfig, row) -> dict:
    local = row.created_at.tz_convert(cfg.ingest.timezone)
    labels = LABELS[cfg.report.language]
    return {"created_at": local.strftime("%Y-%m-%d %H:%M"), "source_kind": row.source_kind, "reason": row.reason,
            "reasons": "、".join(labels[r] for r in row.reasons.split(", ")) if cfg.report.language == "ja"
            else ", ".join(labels[r] for r in row.reasons.split(", ")),
            "urgency": float(row.urgency), "stage": row.stage, "stage_name": stage_name(cfg, row.stage),
            "customer_id": row.customer_id if isinstance(row.customer_id, str) else "",
            "source_id": row.source_id if isinstance(row.source_id, str) else "",
            "text": redact_pii(row.text, cfg.ingest.pii, handles=True)[:300]}


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


def _mean(series: pd.Series) -> float:
    return round(float(series.mean()), 4) if len(series) else 0.0
