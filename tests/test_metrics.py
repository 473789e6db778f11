"""CX metric formulas on hand-computed examples, and impact on a constructed case whose answer is known."""

import numpy as np
import pandas as pd
import pytest

from nlp.config import MetricsConfig
from nlp.metrics import (cx_metrics, item_measures, mean_interval, metric_impact, metric_tables, nps_interval,
                         quantile_interval, wilson_interval)
from nlp.schema import conform

T0 = pd.Timestamp("2026-11-01 09:00", tz="UTC")
CFG = MetricsConfig(min_count=3)


def _items(rows: list[dict]) -> pd.DataFrame:
    base = {"item_id": None, "source_kind": "survey", "created_at": T0, "text": "x"}
    return conform(pd.DataFrame([{**base, "item_id": f"i{i}", **r} for i, r in enumerate(rows)]))


def test_nps_is_promoters_minus_detractors_with_its_interval():
    # 5 promoters (9-10), 2 passives (7-8), 3 detractors (0-6): 50% - 30% = 20
    value, low, high = nps_interval(np.array([10, 10, 9, 8, 7, 6, 0, 3, 10, 9]), 0.95)
    assert value == pytest.approx(20.0)
    # adjusted Wald: z^2 = 3.8415 pseudo-answers, a third to each group, then the multinomial variance of p - d
    t = 1.959964 ** 2
    p, d = (5 + t / 3) / (10 + t), (3 + t / 3) / (10 + t)
    se = 100 * np.sqrt((p + d - (p - d) ** 2) / (10 + t))
    assert (low, high) == pytest.approx((100 * (p - d) - 1.959964 * se, 100 * (p - d) + 1.959964 * se), abs=1e-3)


@pytest.mark.parametrize("scores, value", [([0] * 12, -100.0), ([10] * 12, 100.0), ([8] * 12, 0.0)])
def test_nps_interval_is_never_zero_width_on_a_few_answers(scores, value):
    # the plain Wald interval of 12 detractors out of 12 is [-100, -100] (seen in the demo report)
    got, low, high = nps_interval(np.array(scores), 0.95)
    assert got == value and low <= value <= high and high - low > 30


def test_csat_share_uses_the_wilson_interval():
    value, low, high = wilson_interval(np.array([1, 1, 1, 0, 0], dtype=float), 0.95)  # 3 of 5
    assert (value, low, high) == pytest.approx((60.0, 23.07, 88.24), abs=0.01)  # textbook Wilson for 3/5


def test_mean_and_median_intervals():
    value, low, high = mean_interval(np.array([2.0, 4.0, 6.0]), 0.95)
    assert value == 4.0 and (low, high) == pytest.approx((4 - 4.302653 * 2 / np.sqrt(3), 4 + 4.302653 * 2 / np.sqrt(3)))
    value, low, high = quantile_interval(np.arange(1.0, 101.0), 0.5, 0.95)
    assert value == 50.5 and (low, high) == (40.0, 61.0)  # binomial ranks 40 and 61 of 100
    value, low, high = quantile_interval(np.arange(1.0, 101.0), 0.9, 0.95)
    assert value == pytest.approx(90.1) and (low, high) == (84.0, 96.0)  # binomial ranks 84 and 96 of 100


def test_metrics_per_group_from_surveys_reviews_and_tickets():
    rows = [{"nps": s, "csat": c, "ces": e} for s, c, e in [(10, 5, 7), (9, 4, 6), (3, 1, 2), (7, 4, 5)]]
    rows += [{"source_kind": "review", "rating": r} for r in (5, 1, 3)]
    frame = _items(rows)
    groups = pd.DataFrame({"stage": ["a"] * 4 + ["b"] * 3}, index=frame.index)
    out = cx_metrics(item_measures(frame, CFG), groups, CFG).set_index(["stage", "metric"])
    assert out.loc[("a", "nps"), "value"] == 25.0  # 2 promoters, 1 detractor of 4
    assert out.loc[("a", "csat"), "value"] == 75.0 and out.loc[("a", "csat"), "n"] == 4
    assert out.loc[("a", "ces"), "value"] == 5.0 and out.loc[("a", "ces_easy"), "value"] == 75.0
    assert out.loc[("b", "rating"), "value"] == 3.0
    assert not out.loc[("b", "nps"), "enough"] and pd.isna(out.loc[("b", "nps"), "value"])  # not enough data
    assert out.loc[("a", "rating"), "n"] == 0


def test_ticket_times_fcr_and_contacts_per_customer():
    h = pd.Timedelta(hours=1)
    tickets = [  # customer, first response after, resolved after, contacts, reopened, created offset
        ("c1", 2 * h, 10 * h, 1, False, 0 * h),
        ("c1", 4 * h, 20 * h, 1, False, 48 * h),   # c1 writes again 2 days later: the first one was not FCR
        ("c2", 6 * h, 30 * h, 2, False, 0 * h),    # two contacts: not FCR
        ("c3", 8 * h, 40 * h, 1, True, 0 * h),     # reopened: not FCR
        ("c4", 10 * h, None, 1, False, 0 * h),     # unresolved: not counted in FCR
        ("c5", 1 * h, 5 * h, 1, False, 0 * h),     # FCR
    ]
    rows = [{"source_kind": "ticket", "customer_id": c, "created_at": T0 + off, "first_response_at": T0 + off + fr,
             "resolved_at": None if rs is None else T0 + off + rs, "contact_count": n, "reopened": ro}
            for c, fr, rs, n, ro, off in tickets]
    frame = _items(rows)
    out = cx_metrics(item_measures(frame, CFG), None, CFG).set_index("metric")
    assert out.loc["first_response_median_h", "value"] == 5.0  # median of 2, 4, 6, 8, 10, 1
    assert out.loc["resolution_median_h", "value"] == 20.0 and out.loc["resolution_median_h", "n"] == 5
    assert out.loc["fcr", "value"] == 40.0 and out.loc["fcr", "n"] == 5  # 2 of 5 resolved: c1's second, c5
    assert out.loc["contacts_per_customer", "value"] == pytest.approx(6 / 5)


def test_impact_is_the_gain_if_the_issue_scored_like_the_rest():
    # 4 detractors (0) in the issue, 6 promoters (10) elsewhere: NPS(all) = 60 - 40 = 20, NPS(rest) = 100
    frame = _items([{"nps": 0}] * 4 + [{"nps": 10}] * 6)
    keys = pd.Series(["late"] * 4 + ["fine"] * 6, index=frame.index)
    out = metric_impact(item_measures(frame, CFG), keys, CFG).set_index(["key", "metric"])
    assert out.loc[("late", "nps"), "impact"] == 80.0 and out.loc[("late", "nps"), "value_all"] == 20.0
    assert out.loc[("fine", "nps"), "impact"] == -120.0  # removing the promoters would sink it to -100
    assert out.loc[("late", "nps"), "n"] == 4


def test_no_impact_without_enough_answers_elsewhere():
    frame = _items([{"nps": 0}] * 4 + [{"nps": 10}] * 2)
    keys = pd.Series(["late"] * 4 + ["fine"] * 2, index=frame.index)
    out = metric_impact(item_measures(frame, CFG), keys, CFG)
    assert list(out["key"]) == ["fine"]  # "late"'s rest has 2 answers, below min_count 3


def test_metric_tables_per_stage_issue_and_pair():
    frame = _items([{"nps": 0}] * 4 + [{"nps": 10}] * 6).assign(
        stage=["delivery"] * 4 + ["usage"] * 6, issue_id=["late"] * 4 + ["outlier"] * 3 + [None] * 3)
    tables = metric_tables(frame, CFG)
    stage = tables["stage_metrics"].set_index(["stage", "metric"])
    assert stage.loc[("delivery", "nps"), "value"] == -100.0 and stage.loc[("usage", "nps"), "value"] == 100.0
    assert tables["issue_metrics"]["issue_id"].unique().tolist() == ["late"]  # outliers are in no issue
    pair = tables["pair_impact"].set_index(["stage", "issue_id", "metric"])
    assert pair.loc[("delivery", "late", "nps"), "impact"] == 80.0
