import numpy as np
import pandas as pd

from nlp.alerts import issue_alerts
from nlp.config import AlertsConfig

CFG = AlertsConfig(recent_days=7, short_days=2, baseline_days=28, false_alarm_rate=0.01, min_count=5)
START = pd.Timestamp("2026-10-01", tz="UTC")
NO_EVENTS = pd.DataFrame(columns=["issue_id", "event", "related_issue", "detail"])


def _stream(rates: dict[str, list[float]], seed: int = 0) -> pd.DataFrame:
    """Poisson daily counts per issue; rates[issue][day]."""
    rng = np.random.default_rng(seed)
    rows = []
    for issue, per_day in rates.items():
        for day, rate in enumerate(per_day):
            for k in range(rng.poisson(rate)):
                rows.append({"item_id": f"{issue}-{day}-{k}", "issue_id": issue, "sentiment": -0.3,
                             "created_at": START + pd.Timedelta(days=day, hours=1 + k % 20)})
    return pd.DataFrame(rows)


def _as_of(day: int) -> pd.Timestamp:
    return START + pd.Timedelta(days=day, hours=23)


def test_stable_stream_raises_no_false_alarms_over_30_days():
    stream = _stream({"a": [10] * 60, "b": [5] * 60, "c": [20] * 60}, seed=1)
    alarms = 0
    for day in range(30, 60):
        window = stream[stream["created_at"] <= _as_of(day)]
        alarms += len(issue_alerts(window, NO_EVENTS, CFG, _as_of(day), first_run=False))
    assert alarms <= 1


def test_planted_surge_is_flagged_within_two_days():
    rates = {"stable": [10] * 45, "surge": [2] * 40 + [12] * 5}
    stream = _stream(rates, seed=2)
    flagged = [day for day in range(40, 45) if "growing" in set(
        issue_alerts(stream[stream["created_at"] <= _as_of(day)], NO_EVENTS, CFG, _as_of(day), False)
        .query("issue_id == 'surge'")["alert"])]
    assert flagged and flagged[0] <= 41  # onset on day 40


def test_sentiment_drop_is_flagged():
    stream = _stream({"a": [10] * 40}, seed=3)
    recent = stream["created_at"] > _as_of(37)
    stream.loc[recent, "sentiment"] = np.random.default_rng(1).normal(-0.8, 0.1, recent.sum())
    stream.loc[~recent, "sentiment"] = np.random.default_rng(0).normal(0.2, 0.2, (~recent).sum())
    alerts = issue_alerts(stream, NO_EVENTS, CFG, _as_of(39), first_run=False)
    assert "sentiment_drop" in set(alerts["alert"])


def test_new_and_resolved_come_from_issue_events_except_on_the_first_run():
    stream = _stream({"a": [5] * 10}, seed=4)
    events = pd.DataFrame([{"issue_id": "a", "event": "new", "related_issue": None, "detail": ""},
                           {"issue_id": "z", "event": "dormant", "related_issue": None, "detail": ""}])
    alerts = issue_alerts(stream, events, CFG, _as_of(9), first_run=False)
    assert {("a", "new"), ("z", "resolved")} <= set(zip(alerts["issue_id"], alerts["alert"]))
    assert issue_alerts(stream, events, CFG, _as_of(9), first_run=True).empty


def test_a_young_store_compares_rates_over_the_days_it_really_has():
    # 3 weeks of a stable stream: the 28-day baseline really covers 14 days; nothing is growing
    stream = _stream({"a": [10] * 21, "b": [4] * 21}, seed=3)
    for day in range(14, 21):
        window = stream[stream["created_at"] <= _as_of(day)]
        assert issue_alerts(window, NO_EVENTS, CFG, _as_of(day), first_run=False).empty, day
    # a store with two days before the recent week cannot tell growth from its own warm-up: no volume alerts
    warming = _stream({"a": [1, 1] + [10] * 7, "b": [10] * 9}, seed=4)
    assert issue_alerts(warming, NO_EVENTS, CFG, _as_of(8), first_run=False).empty


def test_alert_counts_keep_only_each_issues_core():
    from nlp.alerts import issue_cores

    scored = pd.DataFrame({"issue_id": ["a", "a", "b", "outlier"], "centrality": [0.9, 0.5, 0.7, np.nan]})
    cores = issue_cores(scored, {"a": 0.6, "b": 0.6})
    assert cores["issue_id"].tolist() == ["a", "outlier", "b", "outlier"]
