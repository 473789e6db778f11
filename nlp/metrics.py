"""CX metrics behind each pain point (see shared DOMAIN.md): NPS, CSAT, CES, average rating, first response and
resolution times, first-contact resolution and contacts per customer; each with its count, a confidence interval
and "not enough data" below a minimum count. And impact: how much a metric would gain if one group's items
scored like the rest (driver analysis). Pure functions over item frames."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

from nlp.config import MetricsConfig

# metric -> (measure column, estimator). Shares and NPS are in points (0-100, -100-100); times in hours.
METRICS: dict[str, tuple[str, str]] = {
    "nps": ("nps", "nps"),
    "csat": ("csat_ok", "share"),
    "ces": ("ces", "mean"),
    "ces_easy": ("ces_easy", "share"),
    "rating": ("rating", "mean"),
    "first_response_median_h": ("first_response_h", "median"),
    "first_response_p90_h": ("first_response_h", "p90"),
    "resolution_median_h": ("resolution_h", "median"),
    "fcr": ("fcr", "share"),
    "contacts_per_customer": ("contacts", "mean"),
}
# metrics whose impact is computed (higher is better, and linear in the items so "scored like the rest" is exact)
IMPACT_METRICS = ("nps", "csat", "ces", "rating", "fcr")
METRIC_COLUMNS = ["metric", "value", "low", "high", "n", "enough"]


def item_measures(items: pd.DataFrame, cfg: MetricsConfig) -> pd.DataFrame:
    """One row per item (same index) with the per-item values the metrics are made of (NaN where an item has
    none): nps 0-10, csat_ok 0/1 (CSAT 4-5), ces 1-7, ces_easy 0/1 (CES 5-7), rating 1-5, first_response_h and
    resolution_h (tickets), fcr 0/1 (resolved tickets: 1 when not reopened, one contact, and the customer did
    not write again within cfg.fcr_repeat_days), customer (id or author hash, tickets) for contacts per customer."""
    out = pd.DataFrame(index=items.index)
    out["nps"] = _num(items["nps"])
    csat, ces = _num(items["csat"]), _num(items["ces"])
    out["csat_ok"] = np.where(np.isnan(csat), np.nan, (csat >= 4).astype(float))
    out["ces"] = ces
    out["ces_easy"] = np.where(np.isnan(ces), np.nan, (ces >= 5).astype(float))
    out["rating"] = _num(items["rating"])
    ticket = (items["source_kind"] == "ticket").to_numpy()
    out["first_response_h"] = np.where(ticket, _hours(items["first_response_at"] - items["created_at"]), np.nan)
    out["resolution_h"] = np.where(ticket, _hours(items["resolved_at"] - items["created_at"]), np.nan)
    customer = items["customer_id"].astype("string").fillna(items["author_hash"].astype("string"))
    out["customer"] = customer.where(ticket)
    out["fcr"] = _first_contact_resolved(items, out["customer"], ticket, cfg.fcr_repeat_days)
    return out


def _first_contact_resolved(items: pd.DataFrame, customer: pd.Series, ticket: np.ndarray,
                            repeat_days: float) -> np.ndarray:
    resolved = ticket & items["resolved_at"].notna().to_numpy()
    reopened = items["reopened"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    contacts = _num(items["contact_count"])
    one_contact = np.isnan(contacts) | (contacts <= 1)
    # a customer who writes again within repeat_days: their earlier ticket was not resolved at first contact
    frame = pd.DataFrame({"customer": customer.to_numpy(), "created": items["created_at"].to_numpy()})
    frame = frame[ticket & customer.notna().to_numpy()].sort_values(["customer", "created"])
    gap = (frame.groupby("customer")["created"].shift(-1) - frame["created"]).dt.total_seconds() / 86400
    repeat = np.zeros(len(items), dtype=bool)
    repeat[frame.index[(gap <= repeat_days).to_numpy()]] = True
    return np.where(resolved, (~reopened & one_contact & ~repeat).astype(float), np.nan)


def cx_metrics(measures: pd.DataFrame, groups: pd.DataFrame | None, cfg: MetricsConfig) -> pd.DataFrame:
    """Long frame: the group columns (none for the whole set), metric, value, low, high, n, enough.
    ``groups`` has the same index as ``measures`` (e.g. stage, or stage and issue_id)."""
    keys = list(groups.columns) if groups is not None else []
    joined = measures.join(groups) if groups is not None else measures
    parts = [(k if isinstance(k, tuple) else (k,), g) for k, g in joined.groupby(keys, sort=True)] if keys \
        else [((), joined)]
    rows = []
    for key, group in parts:
        for name in METRICS:
            rows.append({**dict(zip(keys, key)), "metric": name, **_estimate(name, group, cfg)})
    return pd.DataFrame(rows, columns=keys + METRIC_COLUMNS)


def _estimate(name: str, group: pd.DataFrame, cfg: MetricsConfig) -> dict:
    column, kind = METRICS[name]
    if name == "contacts_per_customer":
        values = group["customer"].dropna().value_counts().to_numpy(dtype=float)
    else:
        values = group[column].to_numpy(dtype=float)
        values = values[~np.isnan(values)]
    n = len(values)
    if n < cfg.min_count:
        return {"value": None, "low": None, "high": None, "n": n, "enough": False}
    value, low, high = _ESTIMATORS[kind](values, cfg.confidence)
    return {"value": round(value, 2), "low": round(low, 2), "high": round(high, 2), "n": n, "enough": True}


def nps_interval(scores: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """NPS = %promoters (9-10) - %detractors (0-6), with an adjusted Wald interval: z^2 pseudo-answers spread
    equally over promoters, passives and detractors before the multinomial variance (as Agresti-Coull does for
    a share), so 12 detractors out of 12 give [-100, -47], not the zero-width [-100, -100] of the plain Wald
    interval. The interval always holds the value."""
    n = len(scores)
    promoters, detractors = float(np.sum(scores >= 9)), float(np.sum(scores <= 6))
    value = 100 * (promoters - detractors) / n
    z = stats.norm.ppf(0.5 + confidence / 2)
    pseudo = z * z
    p, d = (promoters + pseudo / 3) / (n + pseudo), (detractors + pseudo / 3) / (n + pseudo)
    centre = 100 * (p - d)
    se = 100 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / (n + pseudo))
    return value, max(-100.0, min(value, centre - z * se)), min(100.0, max(value, centre + z * se))


def wilson_interval(successes: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """Share of 1s in points, with the Wilson score interval."""
    n, p = len(successes), float(np.mean(successes))
    z = stats.norm.ppf(0.5 + confidence / 2)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return 100 * p, 100 * max(0.0, centre - half), 100 * min(1.0, centre + half)


def mean_interval(values: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """Mean with a t interval."""
    mean = float(np.mean(values))
    if len(values) < 2:
        return mean, mean, mean
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * float(np.std(values, ddof=1)) / math.sqrt(len(values))
    return mean, mean - half, mean + half


def quantile_interval(values: np.ndarray, q: float, confidence: float) -> tuple[float, float, float]:
    """The q-quantile with a distribution-free interval between two order statistics (binomial ranks)."""
    ordered, n = np.sort(values), len(values)
    alpha = 1 - confidence
    lo = int(stats.binom.ppf(alpha / 2, n, q))
    hi = int(stats.binom.ppf(1 - alpha / 2, n, q)) + 1
    return float(np.quantile(ordered, q)), float(ordered[max(lo - 1, 0)]), float(ordered[min(hi - 1, n - 1)])


_ESTIMATORS: dict[str, Callable[[np.ndarray, float], tuple[float, float, float]]] = {
    "nps": nps_interval, "share": wilson_interval, "mean": mean_interval,
    "median": lambda v, c: quantile_interval(v, 0.5, c), "p90": lambda v, c: quantile_interval(v, 0.9, c),
}


def metric_impact(measures: pd.DataFrame, keys: pd.Series, cfg: MetricsConfig) -> pd.DataFrame:
    """For each key (e.g. an issue) and each impact metric: key, metric, n (the key's answers), value_all,
    value_rest and impact = value_rest - value_all, the points the metric would gain if the key's items scored
    like the rest. Rows only where the key has answers and the rest has at least cfg.min_count. Items whose key
    is missing count in "all" and "rest" only."""
    rows = []
    for name in IMPACT_METRICS:
        column, kind = METRICS[name]
        values = measures[column].to_numpy(dtype=float)
        has = ~np.isnan(values)
        if has.sum() < cfg.min_count:
            continue
        # every impact metric is a mean of a per-item value (NPS: +1 promoter, -1 detractor, 0 passive), so
        # "the rest" is (sum - key's sum) / (n - key's n)
        unit = np.select([values >= 9, values <= 6], [1.0, -1.0], 0.0) if kind == "nps" else values
        scale = 100.0 if kind in ("nps", "share") else 1.0
        total, count = unit[has].sum(), int(has.sum())
        frame = pd.DataFrame({"key": keys.to_numpy()[has], "unit": unit[has]}).dropna(subset=["key"])
        for key, group in frame.groupby("key", sort=True)["unit"]:
            rest_n = count - len(group)
            if rest_n < cfg.min_count:
                continue
            value_all, value_rest = scale * total / count, scale * (total - group.sum()) / rest_n
            rows.append({"key": key, "metric": name, "n": int(len(group)), "value_all": round(value_all, 2),
                         "value_rest": round(value_rest, 2), "impact": round(value_rest - value_all, 3)})
    return pd.DataFrame(rows, columns=["key", "metric", "n", "value_all", "value_rest", "impact"])


def _num(series: pd.Series) -> np.ndarray:
    return series.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _hours(delta: pd.Series) -> np.ndarray:
    return (delta.dt.total_seconds() / 3600).to_numpy(dtype=float, na_value=np.nan)


def metric_tables(responses: pd.DataFrame, cfg: MetricsConfig) -> dict[str, pd.DataFrame]:
    """CX metrics overall, per stage and per issue; impact per issue and per (stage, issue). ``responses`` has
    one row per item with stage and issue_id (missing or "outlier" outside any issue)."""
    measures = item_measures(responses, cfg)
    in_issue = responses["issue_id"].notna() & (responses["issue_id"] != "outlier")
    pair_key = (responses["stage"].astype(str) + "\x1f" + responses["issue_id"].astype(str)).where(in_issue)
    pair = metric_impact(measures, pair_key, cfg)
    split = pair["key"].str.split("\x1f", expand=True) if len(pair) else pd.DataFrame(columns=[0, 1])
    pair = pair.assign(stage=split[0], issue_id=split[1]).drop(columns="key")
    return {
        "overall_metrics": cx_metrics(measures, None, cfg),
        "stage_metrics": cx_metrics(measures, responses[["stage"]], cfg),
        "issue_metrics": cx_metrics(measures[in_issue], responses.loc[in_issue, ["issue_id"]], cfg),
        "issue_impact": metric_impact(measures, responses["issue_id"].where(in_issue), cfg)
        .rename(columns={"key": "issue_id"}),
        "pair_impact": pair,
    }
