"""The report's CX sections as plain data: metrics per stage and per issue with intervals, impact, social
listening and abusive messages. Pure."""

from __future__ import annotations

import pandas as pd

from nlp.metrics import IMPACT_METRICS, METRICS

_FORMATS = {  # how a value of each metric reads
    "nps": "{:+.0f}", "csat": "{:.0f}%", "ces": "{:.2f}", "ces_easy": "{:.0f}%", "rating": "{:.2f}",
    "first_response_median_h": "{:.1f}h", "first_response_p90_h": "{:.1f}h", "resolution_median_h": "{:.1f}h",
    "fcr": "{:.0f}%", "contacts_per_customer": "{:.2f}",
}
_IMPACT_FORMATS = {"nps": "{:+.1f}", "csat": "{:+.1f}pt", "ces": "{:+.2f}", "rating": "{:+.2f}", "fcr": "{:+.1f}pt"}


def metric_text(metric: str, value: float | None, low: float | None, high: float | None, n: int, enough: bool,
                labels: dict) -> str:
    """"−12 [−30, +6] n=45", "not enough data (n=3)", or "—" when there is no answer at all."""
    if not n:
        return "—"
    if not enough:
        return labels["not_enough"].format(n=int(n))
    fmt = _FORMATS[metric]
    return f"{fmt.format(value)} [{fmt.format(low)}, {fmt.format(high)}] n={int(n)}"


def metrics_table(overall: pd.DataFrame, by_stage: pd.DataFrame, stage_names: dict[str, str],
                  labels: dict) -> dict:
    """Columns (metrics with enough data somewhere) and rows (all feedback, then each stage in config order)."""
    enough = set(overall.loc[overall["enough"], "metric"]) | set(by_stage.loc[by_stage["enough"], "metric"])
    columns = [m for m in METRICS if m in enough]
    rows = [{"name": labels["all_feedback"], "cells": _cells(overall, columns, labels)}]
    for key, name in stage_names.items():
        sub = by_stage[by_stage["stage"] == key]
        if not sub.empty:
            rows.append({"name": name, "cells": _cells(sub, columns, labels)})
    return {"columns": [{"key": m, "name": labels[f"m_{m}"]} for m in columns], "rows": rows}


def _cells(frame: pd.DataFrame, columns: list[str], labels: dict) -> list[str]:
    by_metric = frame.set_index("metric")
    return [metric_text(m, *by_metric.loc[m, ["value", "low", "high", "n", "enough"]], labels) if m in by_metric.index
            else "—" for m in columns]


def issue_cx(issue_metrics: pd.DataFrame, issue_id: str, labels: dict) -> list[dict]:
    """The metrics of one issue that have enough data, as name/text pairs."""
    sub = issue_metrics[(issue_metrics["issue_id"] == issue_id) & issue_metrics["enough"]]
    return [{"name": labels[f"m_{r.metric}"],
             "text": metric_text(r.metric, r.value, r.low, r.high, r.n, r.enough, labels)} for r in sub.itertuples()]


def pain_point_impacts(row, labels: dict) -> list[dict]:
    """The measurable impacts of one pain point (a row of the ranking), as name/text pairs."""
    out = []
    for metric in IMPACT_METRICS:
        value = getattr(row, f"impact_{metric}", None)
        if value is not None and pd.notna(value):
            out.append({"name": labels[f"m_{metric}"], "text": _IMPACT_FORMATS[metric].format(float(value))})
    return out


def impact_ranking(issue_impact: pd.DataFrame, issue_names: dict[str, str], labels: dict, top: int) -> list[dict]:
    """The issues that cost a metric the most (positive impact), largest first."""
    rows = issue_impact[issue_impact["impact"] > 0].copy()
    if rows.empty:
        return []
    # compare across metrics by the share of the possible gain: NPS over 200 points, shares over 100, means over
    # their scale's width
    width = {"nps": 200.0, "csat": 100.0, "fcr": 100.0, "ces": 6.0, "rating": 4.0}
    rows["relative"] = rows["impact"] / rows["metric"].map(width)
    rows = rows.sort_values(["relative", "issue_id", "metric"], ascending=[False, True, True]).head(top)
    return [{"label": issue_names.get(r.issue_id, r.issue_id), "issue_id": r.issue_id,
             "metric": labels[f"m_{r.metric}"], "impact": _IMPACT_FORMATS[r.metric].format(r.impact), "n": int(r.n),
             "from_to": f"{_FORMATS[r.metric].format(r.value_all)} → {_FORMATS[r.metric].format(r.value_rest)}"}
            for r in rows.itertuples()]


def listening_rows(listening: pd.DataFrame, issue_names: dict[str, str], labels: dict) -> list[dict]:
    return [{"name": r.name, "role": labels[f"role_{r.role}"], "mentions": int(r.mentions), "share": float(r.share),
             "mean_sentiment": None if pd.isna(r.mean_sentiment) else float(r.mean_sentiment),
             "negative_share": None if pd.isna(r.negative_share) else float(r.negative_share),
             "top_issues": [f"{issue_names.get(t['issue_id'], t['issue_id'])} ({t['count']})"
                            for t in r.top_issues]}
            for r in listening.itertuples()]


def abuse_rows(abuse: pd.DataFrame, stage_names: dict[str, str]) -> list[dict]:
    order = {k: i for i, k in enumerate(stage_names)}
    rows = abuse.assign(order=abuse["stage"].map(order).fillna(len(order))).sort_values(["order", "stage"])
    return [{"stage_name": stage_names.get(r.stage, r.stage), "tickets": int(r.tickets), "abusive": int(r.abusive),
             "threats": int(r.threats), "insults": int(r.insults), "share": float(r.share)}
            for r in rows.itertuples()]
