"""The report's content as plain data (dicts and lists), built from the run's frames. Pure."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd

from nlp.config import PipelineConfig
from nlp.label import gist
from nlp.pii import redact_pii
from nlp.records import ReportMeta, ReportTables
from nlp.report.cx import (abuse_rows, impact_ranking, issue_cx, listening_rows, metrics_table, pain_point_impacts)
from nlp.report.i18n import LABELS
from nlp.segments import where_to_look
from nlp.stages import UNASSIGNED


def stage_name(cfg: PipelineConfig, key: str) -> str:
    lang = cfg.report.language
    for stage in cfg.stages.stages:
        if stage.key == key:
            return stage.name_ja if lang == "ja" else stage.name_en
    return LABELS[lang]["unassigned"] if key == UNASSIGNED else key


def build_report(cfg: PipelineConfig, tables: ReportTables, meta: ReportMeta) -> dict:
    """Everything the HTML and Markdown templates show, in report order (stages in config order). ``tables``
    come from nlp.tables.report_tables."""
    stage_weekly = tables.stage_weekly
    labels = LABELS[cfg.report.language]
    weeks = sorted(stage_weekly["week"].unique()) if not stage_weekly.empty else []
    names = {key: stage_name(cfg, key) for key in [s.key for s in cfg.stages.stages] + [UNASSIGNED]}
    issue_names = dict(zip(tables.clusters["issue_id"], tables.clusters["label"]))
    stages = [stage for key in names
              if (stage := _stage(cfg, tables, key, names[key], weeks, labels, issue_names)) is not None]
    todo = sorted((dict(p, stage_name=s["name"], stage_key=s["key"]) for s in stages for p in s["pain_points"]),
                  key=lambda p: -p["score"])[:cfg.report.todo_rows]
    return {
        "meta": asdict(meta), "labels": labels, "language": cfg.report.language,
        "title": cfg.report.title, "weeks": [str(w) for w in weeks], "stages": stages,
        "overall_weekly": _overall(stage_weekly, weeks),
        **_followup_queue(cfg, tables.followup, tables.followup_rest),
        "todo": todo, "top_weekly": _top_weekly(stages),
        "windows": {"recent_days": cfg.alerts.recent_days, "baseline_days": cfg.alerts.baseline_days,
                    "recent_weeks": cfg.trends.recent_weeks, "baseline_weeks": cfg.trends.baseline_weeks},
        "timezone": cfg.ingest.timezone, "negative_below": cfg.sentiment.negative_below,
        "ranked_ids": [p["issue_id"] for s in stages for p in s["pain_points"]],
        "changes": [_change(cfg, a) for a in tables.alerts.itertuples()],
        "metrics": metrics_table(tables.overall_metrics, tables.stage_metrics, names, labels),
        "impact": impact_ranking(tables.issue_impact, issue_names, labels, top=cfg.report.impact_rows),
        "segment_metrics": _segment_metric_rows(tables.segment_metrics, labels),
        "taxonomy_stale": list(tables.taxonomy_stale),
        "listening": listening_rows(tables.listening, issue_names, labels),
        "abuse": abuse_rows(tables.abuse, names),
        "abuse_quoted": cfg.agent.quote_abusive,
    }


def _stage(cfg: PipelineConfig, tables: ReportTables, key: str, name: str, weeks: list, labels: dict,
           issue_names: dict[str, str]) -> dict | None:
    """One stage's section: its counts, weekly series and first cfg.rank.top_n pain points, and where to look
    for its top one; None for the unassigned stage when no item is in it."""
    scored, lift = tables.scored, tables.segment_lift
    in_stage = scored[scored["stage"] == key]
    if key == UNASSIGNED and in_stage.empty:
        return None
    pains = tables.pain_points[tables.pain_points["stage"] == key].head(cfg.rank.top_n)
    stage = {
        "key": key, "name": name, "count": int(len(in_stage)),
        "share": _ratio(len(in_stage), len(scored)),
        "negative_share": _mean(in_stage["sentiment"] < cfg.sentiment.negative_below),
        "mean_sentiment": _mean(in_stage["sentiment"]),
        "outliers": int((in_stage["issue_id"] == "outlier").sum()),
        "weekly": _series(tables.stage_weekly, "stage", key, weeks),
        "pain_points": [{**_pain_point(row, tables.issue_weekly, weeks, cfg),
                         "cx": issue_cx(tables.issue_metrics, row.issue_id, labels),
                         "impacts": pain_point_impacts(row, labels),
                         "all_verbatims": all_verbatims(cfg, scored, row.issue_id),
                         "segments": _segment_chips(lift, row.issue_id, cfg, labels)}
                        for row in pains.itertuples()],
    }
    if len(pains):
        stage["where"] = _where(cfg, tables, pains.iloc[0], stage["pain_points"][0]["segments"], issue_names)
    return stage


def _where(cfg: PipelineConfig, tables: ReportTables, top: pd.Series, segments: list[str],
           issue_names: dict[str, str]) -> dict:
    """Where to look for a stage's top pain point: its segment chips (``segments``, as its pain point shows
    them), the issues that co-occur with it and the day it rose on."""
    look = where_to_look(tables.scored, tables.segment_lift, tables.issue_daily, top["issue_id"], cfg.segments)
    return {"label": top["label"], "issue_id": top["issue_id"], "segments": segments,
            "co_occurring": [issue_names.get(c["issue_id"], c["issue_id"]) for c in look["co_occurring"]],
            "rose_on": look["rose_on"]}


def _top_weekly(stages: list[dict]) -> int:
    """The largest weekly count of any stage or pain point (at least 1): sparklines that sit side by side share
    one scale."""
    top_weekly = 1
    for stage in stages:
        top_weekly = max([top_weekly, *stage["weekly"], *(v for p in stage["pain_points"] for v in p["weekly"])])
    return top_weekly


def _followup_queue(cfg: PipelineConfig, followup: pd.DataFrame, rest: int) -> dict:
    """The follow-up queue's first cfg.report.followup_rows rows and its counts (``rest``: the items past the
    queue's cap)."""
    return {
        "followup": [_followup_row(cfg, r) for r in followup.head(cfg.report.followup_rows).itertuples()],
        "followup_total": int(len(followup)) + rest, "followup_listed": int(len(followup)),
        "followup_new": int(followup["new"].sum()) if "new" in followup else 0,
    }


def all_verbatims(cfg: PipelineConfig, scored: pd.DataFrame, issue_id: str) -> dict:
    """Every quotable verbatim of an issue, newest first, one per gist (near-duplicates dropped), with source,
    channel and local date; the first ``report.max_verbatims`` listed, the rest counted."""
    own = scored[(scored["issue_id"] == issue_id) & scored.get("quotable", True)]
    own = own.sort_values(["created_at", "item_id"], ascending=[False, True])
    seen, rows = set(), []
    for r in own.itertuples():
        text = redact_pii(r.text, cfg.ingest.pii, handles=True)
        if gist(text) in seen:
            continue
        seen.add(gist(text))
        channel = getattr(r, "channel", None)
        rows.append({"text": text[:cfg.report.verbatim_chars],
                     "date": r.created_at.tz_convert(cfg.ingest.timezone).strftime("%Y-%m-%d"),
                     "source_kind": r.source_kind, "lang": getattr(r, "lang", ""),
                     "channel": channel if isinstance(channel, str) else ""})
    limit = cfg.report.max_verbatims
    return {"rows": rows[:limit], "more": max(len(rows) - limit, 0), "total": len(rows)}


def _segment_chips(lift: pd.DataFrame, issue_id: str, cfg: PipelineConfig, labels: dict) -> list[str]:
    own = lift[lift["issue_id"] == issue_id].head(cfg.segments.top)
    return [labels["seg_text"].format(segment=r.segment, value=r.value, lift=r.lift, n=r.n) for r in own.itertuples()]


def _segment_metric_rows(frame: pd.DataFrame | None, labels: dict) -> list[dict]:
    if frame is None or frame.empty:
        return []
    return [{"segment": r.segment, "value": r.value, "metric": labels[f"m_{r.metric}"],
             "text": f"{r.score:+.0f} [{r.low:+.0f}, {r.high:+.0f}]" if r.metric == "nps"
             else f"{r.score:.0f}% [{r.low:.0f}%, {r.high:.0f}%]", "n": int(r.n)} for r in frame.itertuples()]


def _change(cfg: PipelineConfig, a) -> dict:
    labels = LABELS[cfg.report.language]
    return {"alert": a.alert, "alert_name": labels[f"alert_{a.alert}"], "issue_id": a.issue_id, "label": a.label,
            "stage_name": stage_name(cfg, a.stage), "recent_count": int(a.recent_count),
            "baseline_count": int(a.baseline_count),
            "detail": labels["from_issue"].format(a.detail) if a.alert in ("new", "merged") and a.detail
            else a.detail}


def _pain_point(row, issue_weekly: pd.DataFrame, weeks: list, cfg: PipelineConfig) -> dict:
    return {
        "rank": int(row.rank), "issue_id": row.issue_id, "label": row.label, "space": row.space,
        "keyphrases": list(row.keyphrases), "count": int(row.count), "share_of_stage": float(row.share_of_stage),
        "negative_share": float(row.negative_share), "mean_sentiment": float(row.mean_sentiment),
        "growth": float(row.growth) if pd.notna(row.growth) else 0.0, "severe_share": float(row.severe_share),
        "score": float(row.score),
        "parts": {"volume": float(row.volume_score), "negativity": float(row.negativity_score),
                  "growth": float(row.growth_score), "severity": float(row.severity_score),
                  "impact": float(row.impact_score)},
        "verbatims": [redact_pii(v, cfg.ingest.pii, handles=True) for v in row.verbatims],
        "weekly": _series(issue_weekly, "issue_id", row.issue_id, weeks),
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
            "priority": float(getattr(row, "priority", row.urgency)), "new": bool(getattr(row, "new", False)),
            "reasons": "、".join(labels[r] for r in row.reasons.split(", ")) if cfg.report.language == "ja"
            else ", ".join(labels[r] for r in row.reasons.split(", ")),
            "urgency": float(row.urgency), "stage": row.stage, "stage_name": stage_name(cfg, row.stage),
            "customer_id": row.customer_id if isinstance(row.customer_id, str) else "",
            "source_id": row.source_id if isinstance(row.source_id, str) else "",
            "text": redact_pii(row.text, cfg.ingest.pii, handles=True)[:cfg.report.followup_chars]}


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


def _mean(series: pd.Series) -> float:
    return round(float(series.mean()), 4) if len(series) else 0.0
