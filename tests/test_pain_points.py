"""Pain points are problems: the per-item problem signal (Japanese and English), issues that are not problems
or not coherent held back, one main stage per issue, and near-duplicate issues merged (an issue event)."""

import numpy as np
import pandas as pd
import pytest

from nlp.config import IssuesConfig, RankConfig
from nlp.issues import duplicate_issues, track_issues
from nlp.problems import held_back, issue_profiles, problem_reports
from nlp.rank import rank_pain_points

NEG = -0.2
TEXTS = [  # (text, sentiment, a problem report?)
    ("@united my bag is lost and nobody answers the phone", -0.7, True),
    ("flight delayed 3 hours again, no explanation", -0.5, True),
    ("荷物が届かない。問い合わせても返事がない", -0.6, True),
    ("アプリでログインできません", -0.4, True),
    ("thank you so much, the crew was amazing!", 0.8, False),
    ("丁寧な対応ありがとうございました。最高です", 0.9, False),
    ("your new planes are on fleek lol", 0.3, False),
    ("Check out our tour dates! http://t.co/x #tour #music", 0.0, False),
    ("新商品プレゼントキャンペーン実施中！フォローして応募してね", 0.2, False),
    ("can I bring my dog on board?", -0.3, False),  # a question, not a report
    ("配送料はいくらですか", 0.0, False),
]


@pytest.mark.parametrize("text,sentiment,expected", TEXTS)
def test_problem_reports(text, sentiment, expected):
    assert bool(problem_reports(pd.Series([text]), pd.Series([sentiment]), NEG).iloc[0]) is expected


def _scored(groups):
    """groups: issue_id -> (texts, sentiments, stages, centralities)."""
    rows = []
    for cid, (texts, sents, stages, cents) in groups.items():
        for k, (t, s, st, c) in enumerate(zip(texts, sents, stages, cents)):
            rows.append({"item_id": f"{cid}-{k}", "issue_id": cid, "text": t, "sentiment": s, "stage": st,
                         "centrality": c, "created_at": pd.Timestamp("2026-11-02", tz="UTC") + pd.Timedelta(days=k)})
    frame = pd.DataFrame(rows)
    frame["source_kind"] = "social"
    for col in ("rating", "csat", "contact_count", "nps"):
        frame[col] = pd.array([None] * len(frame), dtype="Float64")
    frame["reopened"] = pd.array([None] * len(frame), dtype="boolean")
    frame["resolved_at"] = pd.Series([pd.NaT] * len(frame), dtype="datetime64[us, UTC]")
    return frame


COMPLAINTS = ["my bag is lost", "bag still missing after 3 days", "you lost my luggage", "where is my bag, no reply"]
PROMO = ["check out the tour on fleek http://t.co/a #tour #band", "win tickets! check out http://t.co/b #win #tour",
         "our band tour is on fleek #tour #music http://t.co/c", "check out the tour http://t.co/d #tour #fly"]
GROUPS = {
    "c1": (COMPLAINTS, [-0.6] * 4, ["baggage", "baggage", "baggage", "support"], [0.8, 0.8, 0.7, 0.7]),
    "c2": (PROMO, [-0.3] * 4, ["baggage"] * 4, [0.8, 0.8, 0.8, 0.8]),  # negative-scored marketing chatter
    "c3": (["flight delayed again", "delayed 2 hours", "still delayed", "delay, no info"], [-0.5] * 4,
           ["delays"] * 4, [0.8, 0.7, 0.8, 0.7]),
    "c4": (["shipping fee too high", "promo code failed", "parcel late", "charged twice"], [-0.5] * 4,
           ["support", "baggage", "delays", "booking"], [0.2, 0.1, 0.2, 0.1]),  # incoherent: far from its centroid
}
CLUSTERS = pd.DataFrame({"issue_id": list(GROUPS), "space": "en", "label": list(GROUPS),
                         "keyphrases": [[c] for c in GROUPS]})
NO_GROWTH = pd.DataFrame(columns=["issue_id", "growth", "recent_count", "baseline_count"])
NO_IMPACT = pd.DataFrame(columns=["issue_id", "metric", "impact"])


def test_only_coherent_problem_issues_rank_each_once_under_its_main_stage():
    scored = _scored(GROUPS)
    ranked = rank_pain_points(scored, CLUSTERS, NO_GROWTH, NO_IMPACT, RankConfig(min_items=3), NEG)
    assert sorted(ranked["issue_id"]) == ["c1", "c3"]  # c2 marketing, c4 incoherent: held back
    c1 = ranked.set_index("issue_id").loc["c1"]
    assert c1["stage"] == "baggage" and c1["count"] == 4 and c1["stage_breakdown"] == "baggage 75%, support 25%"
    assert c1["share_of_stage"] == pytest.approx(3 / 8)  # 3 of the 8 baggage items
    profiles = issue_profiles(scored, CLUSTERS.set_index("issue_id")["space"], RankConfig(), NEG)
    back = held_back(profiles, CLUSTERS).set_index("issue_id")["held_back"].to_dict()
    assert back == {"c2": "not_a_problem", "c4": "incoherent"}


E = np.eye(4, dtype=np.float32)


def test_near_duplicate_issues_merge_and_the_merge_is_an_event():
    close = (E[0] * 0.95 + E[1] * 0.3) / np.linalg.norm(E[0] * 0.95 + E[1] * 0.3)  # cosine 0.95 to E[0]
    vectors = {"en": np.vstack([np.tile(E[0], (6, 1)), np.tile(close, (4, 1)), np.tile(close, (3, 1)),
                                np.tile(E[2], (3, 1))]).astype(np.float32)}
    cids = ["a"] * 6 + ["b"] * 4 + ["c"] * 3 + ["d"] * 3
    assigned = pd.DataFrame({"item_id": [f"i{k}" for k in range(16)], "space": "en", "cluster_id": cids,
                             "centrality": 1.0})
    clusters = pd.DataFrame({"cluster_id": ["a", "b", "c", "d"], "space": "en",
                             "label": ["hold / minute / hour", "hold / hour / minute", "seat / legroom", "bag"],
                             "keyphrases": [["hold", "minute", "hour"], ["hold", "hour", "minute"],
                                            ["seat", "legroom"], ["bag"]]})
    states = pd.DataFrame(columns=["issue_id", "space", "label", "keyphrases", "centroid", "radius", "status",
                                   "first_seen_run", "first_seen_at", "label_history"])
    mapping, issues, events = track_issues(assigned, clusters, vectors, states,
                                           pd.DataFrame(columns=["item_id", "issue_id"]), "r1",
                                           pd.Timestamp("2026-11-02", tz="UTC"), IssuesConfig())
    # b repeats a (same keyphrases, close centroid): one issue; c is as close but about something else
    assert mapping["a"] == mapping["b"] and len({mapping["a"], mapping["c"], mapping["d"]}) == 3
    by_id = issues.set_index("issue_id")
    absorbed = next(i for i in by_id.index if i not in mapping.values())
    assert by_id.loc[absorbed, "status"] == "merged" and by_id.loc[mapping["a"], "size"] == 10
    merge = events[events["event"] == "merged"]
    assert merge[["issue_id", "related_issue", "detail"]].values.tolist() == [[absorbed, mapping["a"], "duplicate"]]
    assert absorbed not in set(events.loc[events["event"] == "new", "issue_id"])


def test_duplicates_need_both_close_centroids_and_shared_keyphrases():
    far = pd.DataFrame({"issue_id": ["x", "y"], "space": "en", "status": "active", "size": [5, 3],
                        "centroid": [E[0], E[1]], "keyphrases": [["hold", "hour"], ["hold", "hour"]]})
    assert duplicate_issues(far, IssuesConfig()).empty
    close = far.assign(centroid=[E[0], E[0]])
    assert duplicate_issues(close, IssuesConfig()).values.tolist() == [["y", "x"]]
