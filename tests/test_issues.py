import numpy as np
import pandas as pd

from nlp.config import IssuesConfig
from nlp.matching import label_changes, match_issues, merged_issues, new_issue_ids

CFG = IssuesConfig()
E = np.eye(4, dtype=np.float32)


def _frame(key, rows):
    return pd.DataFrame([{key: k, "space": "ja", "centroid": c, "members": set(m)} for k, c, m in rows])


PREVIOUS = _frame("issue_id", [("ja-0001", E[0], "abcd"), ("ja-0002", E[1], "efgh"), ("ja-0003", E[2], "ijkl")])


def test_same_clusters_keep_their_ids():
    current = _frame("cluster_id", [("ja-000", E[0], "abcd"), ("ja-001", E[1], "efgh"), ("ja-002", E[2], "ijkl")])
    m = match_issues(current, PREVIOUS, CFG)
    assert m["issue_id"].tolist() == ["ja-0001", "ja-0002", "ja-0003"] and (m["event"] == "matched").all()


def test_growing_cluster_with_new_members_keeps_its_id_and_renumbering_does_not_matter():
    current = _frame("cluster_id", [("ja-000", E[1], "efghxyz"), ("ja-001", E[0], "abcd")])
    m = match_issues(current, PREVIOUS, CFG).set_index("cluster_id")
    assert m.loc["ja-000", "issue_id"] == "ja-0002" and m.loc["ja-001", "issue_id"] == "ja-0001"


def test_new_issue_gets_the_next_free_id():
    current = _frame("cluster_id", [("ja-000", E[0], "abcd"), ("ja-001", E[3], "mnop")])
    m = match_issues(current, PREVIOUS, CFG)
    assert m["event"].tolist() == ["matched", "new"]
    named = new_issue_ids(m, current, PREVIOUS["issue_id"].tolist())
    assert named["issue_id"].tolist() == ["ja-0001", "ja-0004"]


def test_split_and_merge_are_recorded():
    # ja-0001 splits in two; ja-0002 and ja-0003 merge into one cluster
    half = (E[0] + E[3]) / np.linalg.norm(E[0] + E[3])
    current = _frame("cluster_id", [("c1", E[0], "ab"), ("c2", half, "cd"), ("c3", E[1], "efghijkl")])
    m = match_issues(current, PREVIOUS, CFG).set_index("cluster_id")
    assert m.loc["c1", "issue_id"] == "ja-0001"
    assert m.loc["c2", "event"] == "split" and m.loc["c2", "related_issue"] == "ja-0001"
    merged = merged_issues(m.reset_index(), current, PREVIOUS, CFG)
    assert merged.to_dict("records") == [{"issue_id": "ja-0003", "into": "ja-0002"}]


def test_first_run_numbers_by_size():
    current = _frame("cluster_id", [("ja-000", E[0], "ab"), ("ja-001", E[1], "cdef")])
    m = new_issue_ids(match_issues(current, PREVIOUS.iloc[:0], CFG), current, [])
    assert m["issue_id"].tolist() == ["ja-0002", "ja-0001"]


def test_label_is_kept_unless_keyphrases_change_a_lot():
    m = pd.DataFrame({"cluster_id": ["c1", "c2"], "issue_id": ["ja-0001", "ja-0002"], "event": "matched"})
    clusters = pd.DataFrame({"cluster_id": ["c1", "c2"], "label": ["配送・遅い", "決済・エラー"],
                             "keyphrases": [["配送", "遅い", "届く"], ["決済", "エラー"]]})
    previous = pd.DataFrame({"issue_id": ["ja-0001", "ja-0002"], "label": ["配送が遅い", "ログイン"],
                             "keyphrases": [["配送", "遅い"], ["ログイン", "アプリ"]]})
    out = label_changes(m, clusters, previous, CFG).set_index("issue_id")
    assert out.loc["ja-0001", "label"] == "配送が遅い" and not out.loc["ja-0001", "relabelled"]
    assert out.loc["ja-0002", "label"] == "決済・エラー" and out.loc["ja-0002", "relabelled"]


def test_a_run_without_clusters_marks_live_issues_dormant():
    from nlp.issues import track_issues

    assigned = pd.DataFrame({"item_id": ["x"], "space": ["ja"], "cluster_id": ["outlier"], "centrality": [np.nan]})
    clusters = pd.DataFrame(columns=["cluster_id", "space", "size", "label", "keyphrases", "verbatims"])
    previous = PREVIOUS.drop(columns="members").assign(
        label="l", keyphrases=[[]] * 3, status="active", first_seen_run="r0",
        first_seen_at=pd.Timestamp("2026-11-01", tz="UTC"), label_history=[[]] * 3)
    mapping, issues, events = track_issues(assigned, clusters, {"ja": np.zeros((1, 4), np.float32)}, previous,
                                           pd.DataFrame(columns=["item_id", "issue_id"]), "r1",
                                           pd.Timestamp("2026-11-02", tz="UTC"), CFG)
    assert mapping == {} and set(issues["status"]) == {"dormant"}
    assert set(events["event"]) == {"dormant"}


def test_issue_tracking_puts_a_first_runs_clusters_under_issue_ids_with_their_labels():
    from nlp.issues import issue_tracking
    from nlp.records import PriorRun

    assigned = pd.DataFrame({"item_id": ["a", "b", "c", "d", "e"], "space": ["ja"] * 5,
                             "cluster_id": ["ja-000", "ja-000", "ja-000", "ja-001", "outlier"],
                             "centrality": [1.0, 1.0, 1.0, 1.0, np.nan]})
    clusters = pd.DataFrame({"cluster_id": ["ja-000", "ja-001"], "space": ["ja", "ja"], "size": [3, 1],
                             "label": ["配送が遅い", "ログインできない"], "keyphrases": [["配送"], ["ログイン"]],
                             "verbatims": [["遅い"], ["入れない"]]})
    vectors = {"ja": E[[0, 0, 0, 1, 2]]}
    none = pd.DataFrame(columns=["item_id", "issue_id"])
    states = pd.DataFrame(columns=["issue_id", "space", "label", "keyphrases", "centroid", "radius", "status",
                                   "first_seen_run", "first_seen_at", "label_history", "model_key"])
    prior = PriorRun(run_id=None, last_full_fit=None, issues=states, assignments=none, clusters=pd.DataFrame(),
                     history=pd.DataFrame(), seen_before=None)
    out = issue_tracking(assigned, clusters, vectors, prior, "r1", pd.Timestamp("2026-11-02", tz="UTC"), CFG,
                         {"ja": "m"})
    assert out.assigned["issue_id"].tolist() == ["ja-0001", "ja-0001", "ja-0001", "ja-0002", "outlier"]
    assert "cluster_id" not in out.assigned and "cluster_id" not in out.clusters
    assert dict(zip(out.clusters["issue_id"], out.clusters["label"])) == {"ja-0001": "配送が遅い",
                                                                          "ja-0002": "ログインできない"}
    assert out.known.first_run and set(out.known.events["event"]) == {"new"}
    assert out.known.labels == {"ja-0001": "配送が遅い", "ja-0002": "ログインできない"}
    assert out.states["model_key"].tolist() == ["m", "m"] and out.states["status"].eq("active").all()
