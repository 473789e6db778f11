import numpy as np
import pandas as pd
import pytest

from nlp.config import RankConfig, RankWeights, Stage, StagesConfig, TrendsConfig
from nlp.rank import followup_items, rank_pain_points, severity_flags
from nlp.config import FollowupConfig
from nlp.stages import UNASSIGNED, assign_stages, stage_similarity
from nlp.trends import growth, period_trends, weekly_trends

NO_IMPACT = pd.DataFrame(columns=["issue_id", "metric", "impact"])
STAGES = StagesConfig(stages=[Stage(key="delivery", name_ja="配送", name_en="Delivery"),
                              Stage(key="support", name_ja="サポート", name_en="Support", source_kinds=["ticket"])],
                      threshold=0.3, hint_bonus=0.1)


def _items(kinds):
    return pd.DataFrame({"item_id": [f"i{n}" for n in range(len(kinds))], "source_kind": kinds,
                         "channel": pd.array([None] * len(kinds), dtype="string")})


def test_stage_similarity_takes_top_k_examples():
    items = np.array([[1.0, 0.0]], dtype=np.float32)
    examples = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32)
    sims = stage_similarity(items, examples, np.array([0, 0, 1]), 2, top_k=1)
    assert sims.tolist() == [[1.0, pytest.approx(0.6)]]


def test_assign_stages_threshold_hints_and_cluster_smoothing():
    sims = np.array([[0.9, 0.1], [0.35, 0.30], [0.1, 0.1], [0.28, 0.32]], dtype=np.float32)
    items = _items(["review", "review", "review", "ticket"])
    clusters = pd.Series(["outlier"] * 4)
    out = assign_stages(items, sims, clusters, STAGES)
    # ticket hint lifts support; weak evidence stays unassigned
    assert out["stage"].tolist() == ["delivery", "delivery", UNASSIGNED, "support"]
    # a cluster pulls a borderline member to its majority stage
    smoothed = assign_stages(items, sims, pd.Series(["c1", "c1", "outlier", "outlier"]), STAGES)
    assert smoothed["stage"].tolist()[:2] == ["delivery", "delivery"]


def _scored():
    week1 = pd.Timestamp("2026-11-02 03:00", tz="UTC")  # Monday in Tokyo
    week2 = week1 + pd.Timedelta(days=7)
    rows = []
    # c1: 4 items, all negative, growing (1 then 3)
    for i, when in enumerate([week1, week2, week2, week2]):
        rows.append(("a%d" % i, "delivery", "c1", -0.8, when, 1.0))
    # c2: 4 items, mixed, shrinking
    for i, (s, when) in enumerate([(-0.5, week1), (-0.5, week1), (0.5, week1), (0.5, week2)]):
        rows.append(("b%d" % i, "delivery", "c2", s, when, 4.0))
    frame = pd.DataFrame(rows, columns=["item_id", "stage", "issue_id", "sentiment", "created_at", "rating"])
    frame["source_kind"] = "review"
    frame["text"] = [f"text {i}" for i in frame["item_id"]]
    frame["centrality"] = np.linspace(0.9, 0.1, len(frame))
    for col in ("csat", "contact_count", "nps"):
        frame[col] = pd.array([None] * len(frame), dtype="Float64")
    frame["reopened"] = pd.array([None] * len(frame), dtype="boolean")
    frame["answered"] = pd.array([None] * len(frame), dtype="boolean")
    frame["customer_id"] = pd.array([None] * len(frame), dtype="string")
    frame["resolved_at"] = pd.Series([pd.NaT] * len(frame), dtype="datetime64[us, UTC]")
    return frame


def test_growth_is_share_of_recent_vs_baseline():
    g = growth(_scored(), ["stage", "issue_id"], "Asia/Tokyo", TrendsConfig(recent_weeks=1, baseline_weeks=1))
    g = g.set_index("issue_id")
    assert g.loc["c1", "recent_count"] == 3 and g.loc["c1", "baseline_count"] == 1
    # shares with add-one smoothing: (3+1)/(4+1) vs (1+1)/(4+1) → log2(2) = 1
    assert g.loc["c1", "growth"] == pytest.approx(1.0)
    assert g.loc["c2", "growth"] < 0


def test_rank_is_explainable_and_hand_computed():
    scored = _scored()
    grown = growth(scored, ["issue_id"], "Asia/Tokyo", TrendsConfig(recent_weeks=1, baseline_weeks=1))
    clusters = pd.DataFrame({"issue_id": ["c1", "c2"], "space": "ja", "label": ["遅延", "その他"],
                             "keyphrases": [["遅延"], []], "verbatims": [["x"], ["y"]]})
    cfg = RankConfig(weights=RankWeights(volume=1, negativity=1, growth=1, severity=1, impact=1), min_items=3)
    ranked = rank_pain_points(scored, clusters, grown, NO_IMPACT, cfg, negative_below=-0.2)
    assert ranked["issue_id"].tolist() == ["c1", "c2"] and ranked["rank"].tolist() == [1, 2]
    c1 = ranked.iloc[0]
    assert c1["volume_score"] == 1.0 and c1["negativity_score"] == 1.0
    assert c1["growth_score"] == pytest.approx(0.5) and c1["severity_score"] == 1.0  # 1-star, -0.8
    assert c1["impact_score"] == 0.0  # no survey answers, no impact
    assert c1["score"] == pytest.approx((1 + 1 + 0.5 + 1) / 5, abs=1e-4)
    c2 = ranked.iloc[1]
    assert c2["negativity_score"] == 0.5 and c2["severity_score"] == 0.0 and c2["growth_score"] == 0.0
    assert c1["verbatims"] == ["text a0", "text a1", "text a2"]  # most central first, from its own stage


def test_praise_is_not_a_pain_point():
    scored = _scored()
    scored.loc[scored["issue_id"] == "c2", "sentiment"] = 0.6  # c2: all positive
    grown = growth(scored, ["issue_id"], "Asia/Tokyo", TrendsConfig())
    clusters = pd.DataFrame({"issue_id": ["c1", "c2"], "space": "ja", "label": ["遅延", "満足"],
                             "keyphrases": [[], []], "verbatims": [[], []]})
    ranked = rank_pain_points(scored, clusters, grown, NO_IMPACT, RankConfig(min_items=3), -0.2)
    assert ranked["issue_id"].tolist() == ["c1"]


def test_min_items_filters_small_groups():
    scored = _scored()
    grown = growth(scored, ["issue_id"], "Asia/Tokyo", TrendsConfig())
    clusters = pd.DataFrame({"issue_id": ["c1", "c2"], "space": "ja", "label": ["a", "b"],
                             "keyphrases": [[], []], "verbatims": [[], []]})
    assert rank_pain_points(scored, clusters, grown, NO_IMPACT, RankConfig(min_items=5), -0.2).empty


def test_impact_lifts_the_pain_point_that_costs_nps_and_abusive_items_are_not_quoted():
    scored = _scored().assign(quotable=lambda f: f["item_id"] != "b3")
    grown = growth(scored, ["issue_id"], "Asia/Tokyo", TrendsConfig(recent_weeks=1, baseline_weeks=1))
    clusters = pd.DataFrame({"issue_id": ["c1", "c2"], "space": "ja", "label": ["a", "b"],
                             "keyphrases": [[], []], "verbatims": [[], []]})
    impacts = pd.DataFrame({"issue_id": ["c1", "c2", "c2"],
                            "metric": ["nps", "nps", "csat"], "impact": [5.0, 20.0, -3.0]})
    only_impact = RankConfig(weights=RankWeights(volume=0, negativity=0, growth=0, severity=0, impact=1), min_items=3)
    ranked = rank_pain_points(scored, clusters, grown, impacts, only_impact, -0.2).set_index("issue_id")
    assert ranked.loc["c2", "impact_score"] == 1.0 and ranked.loc["c1", "impact_score"] == 0.25  # 5 / 20
    assert ranked.loc["c2", "rank"] == 1 and ranked.loc["c2", "impact_nps"] == 20.0
    assert ranked.loc["c2", "impact_csat"] == -3.0 and pd.isna(ranked.loc["c1", "impact_csat"])
    assert "text b3" not in ranked.loc["c2", "verbatims"]


def test_weekly_trends_fill_empty_weeks():
    weekly = weekly_trends(_scored(), "issue_id", "Asia/Tokyo", -0.2)
    assert len(weekly) == 4  # 2 clusters x 2 weeks
    c1 = weekly[weekly["issue_id"] == "c1"]["count"].tolist()
    assert c1 == [1, 3]


def test_followup_queue_orders_by_priority_with_urgency_first():
    scored = _scored().assign(text="t", source_name="s", source_id="x")
    out, rest = followup_items(scored, FollowupConfig(sentiment_below=-0.5), scored["created_at"].max())
    assert set(out["item_id"]) == {"a0", "a1", "a2", "a3", "b0", "b1"} and rest == 0
    assert out["priority"].is_monotonic_decreasing and (out["reason"] == "negative").all()
    # with reach, customer and age weighted 0 the priority is the urgency
    flat = FollowupConfig(sentiment_below=-0.5, priority_weights={"reach": 0, "customer": 0, "age": 0})
    only, _ = followup_items(scored, flat, scored["created_at"].max())
    assert only["urgency"].is_monotonic_decreasing and (only["priority"] == only["urgency"]).all()


def test_followup_queue_is_a_work_queue_new_capped_with_owner_and_status():
    scored = _scored().assign(text="t", source_name="s", source_id="x", sentiment=-0.8)
    scored["customer_id"] = pd.array(["C1", "C1", "C1", "C2", "C3", "C4", "C5", "C6"], dtype="string")
    as_of = scored["created_at"].max()
    cfg = FollowupConfig(sentiment_below=-0.5, max_items=3)
    out, rest = followup_items(scored, cfg, as_of, seen_before={"a0", "a1"})
    assert len(out) == 3 and rest == len(scored) - 3
    full, _ = followup_items(scored, cfg.model_copy(update={"max_items": None}), as_of, seen_before={"a0", "a1"})
    assert out["item_id"].tolist() == full["item_id"].tolist()[:3]
    assert dict(zip(full["item_id"], full["new"])) == {i: i not in {"a0", "a1"} for i in scored["item_id"]}
    assert (full["owner"] == "").all() and (full["status"] == "").all()
    # same negativity: the customer with three contacts and the bigger issue come first
    a0, b3 = full.set_index("item_id").loc[["a0", "b3"], "priority"]
    assert a0 > b3
    nothing_new, _ = followup_items(scored, cfg, as_of, seen_before=None)
    assert not nothing_new["new"].any()


def test_what_counts_as_severe_is_the_rank_sections():
    at = pd.Timestamp("2026-11-01", tz="UTC")
    items = pd.DataFrame({"rating": pd.array([2, 3, None, None], dtype="Float64"),
                          "csat": pd.array([None, None, 3, None], dtype="Float64"),
                          "contact_count": pd.array([None, None, None, 2], dtype="Float64"),
                          "reopened": pd.array([None] * 4, dtype="boolean"),
                          "created_at": [at] * 4, "resolved_at": pd.Series([pd.NaT] * 4, dtype="datetime64[us, UTC]"),
                          "sentiment": [0.0] * 4})
    assert severity_flags(items, RankConfig()).tolist() == [1.0, 0.0, 0.0, 1.0]
    stricter = RankConfig(severe_score_at_most=3, repeat_contacts=3)
    assert severity_flags(items, stricter).tolist() == [1.0, 1.0, 1.0, 0.0]


def test_a_customers_contacts_and_the_wait_count_in_full_where_followup_says():
    scored = _scored().assign(text="t", source_name="s", source_id="x", sentiment=-0.8)
    scored["customer_id"] = pd.array(["C1", "C1", "C2", "C3", "C4", "C5", "C6", "C7"], dtype="string")
    as_of = scored["created_at"].max()
    only_customer = {"reach": 0, "customer": 1, "age": 0}
    extra = {}
    for full in (3.0, 1.0):
        cfg = FollowupConfig(sentiment_below=-0.5, priority_weights=only_customer, contacts_for_full=full)
        out = followup_items(scored, cfg, as_of)[0].set_index("item_id")
        extra[full] = float(out.loc["a0", "priority"] - out.loc["a0", "urgency"])
    assert extra == {3.0: pytest.approx(1 / 3, abs=1e-4), 1.0: pytest.approx(1.0, abs=1e-4)}
    waited = {}
    for days in (7.0, 1e9):
        cfg = FollowupConfig(sentiment_below=-0.5, priority_weights={"reach": 0, "customer": 0, "age": 1},
                             days_for_full=days)
        out = followup_items(scored, cfg, as_of)[0]
        waited[days] = float((out["priority"] - out["urgency"]).max())
    assert waited[7.0] > 0 and waited[1e9] == pytest.approx(0.0, abs=1e-4)


def test_followup_takes_detractors_and_skips_what_was_answered():
    scored = _scored().assign(text="t", source_name="s", source_id="x", sentiment=0.3)
    scored["source_kind"] = ["survey"] * 4 + ["review"] * 4
    scored["nps"] = pd.array([2, 6, 7, 10, None, None, None, None], dtype="Float64")
    scored["answered"] = pd.array([None, True, None, None, None, None, None, None], dtype="boolean")
    scored.loc[scored["item_id"] == "b0", "sentiment"] = -0.9
    scored["customer_id"] = pd.array([f"C{i}" for i in range(8)], dtype="string")
    out, _ = followup_items(scored, FollowupConfig(sentiment_below=-0.5), scored["created_at"].max())
    # a0: detractor; a1: a detractor already answered; a2 (7) and a3 (10) are not detractors; b0: negative
    assert out["item_id"].tolist() == ["b0", "a0"] and out["reason"].tolist() == ["negative", "detractor"]
    assert out["customer_id"].tolist() == ["C4", "C0"]


def test_daily_trends_have_shares_of_all_feedback():
    daily = period_trends(_scored(), "issue_id", "Asia/Tokyo", -0.2, "day")
    assert set(daily.columns) >= {"issue_id", "day", "count", "share", "mean_sentiment"}
    per_day = daily.groupby("day")["share"].sum()
    assert np.allclose(per_day.to_numpy(), 1.0)
    assert daily["count"].sum() == len(_scored())
