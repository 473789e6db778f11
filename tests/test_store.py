import numpy as np
import pandas as pd

from nlp.config import IngestConfig, SourceConfig
from nlp.schema import ITEM_COLUMNS
from nlp.sources import read_source
from nlp.store import Store

CSV = "id,date,text\n1,2026-11-01,配送が遅い\n2,2026-11-02,ログインできない\n3,2026-11-03,broken box\n"


def _batch(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(CSV, encoding="utf-8")
    src = SourceConfig(name="r", kind="review", path=str(path), columns={"source_id": "id", "created_at": "date"})
    return read_source(src, IngestConfig(), tmp_path)


def test_upsert_is_idempotent(tmp_path):
    store, batch = Store(tmp_path / "s.duckdb"), _batch(tmp_path)
    assert store.items.upsert(batch.items, "run1") == (3, 0)
    assert store.items.upsert(batch.items, "run2") == (0, 0)
    items = store.items.read()
    assert len(items) == 3 and items["item_id"].is_monotonic_increasing
    pd.testing.assert_series_equal(items.set_index("item_id")["text"].sort_index(),
                                   batch.items.set_index("item_id")["text"].sort_index(), check_dtype=False)


def test_a_row_whose_text_changed_at_the_source_is_updated(tmp_path):
    store, batch = Store(tmp_path / "s.duckdb"), _batch(tmp_path)
    store.items.upsert(batch.items, "run1")
    changed = batch.items.copy()
    changed.loc[0, "text"], changed.loc[0, "content_hash"] = "配送がとても遅い", "changed"
    assert store.items.upsert(changed, "run2") == (0, 1)
    stored = store.items.read().set_index("item_id")
    assert stored.loc[changed.loc[0, "item_id"], "text"] == "配送がとても遅い" and len(stored) == 3


def test_items_window(tmp_path):
    store, batch = Store(tmp_path / "s.duckdb"), _batch(tmp_path)
    store.items.upsert(batch.items, "run1")
    since = pd.Timestamp("2026-11-02", tz="Asia/Tokyo")
    assert len(store.items.read(since=since)) == 2
    assert len(store.items.read(until=since)) == 1


def test_quarantine_is_idempotent(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    q = pd.DataFrame([{"source_name": "r", "source_path": "p", "row_number": 3, "reason": "bad",
                       "raw": "mail a@b.com"}])
    assert store.items.quarantine(q, "run1") == 1
    assert store.items.quarantine(q, "run2") == 0
    assert store.table("quarantine")["raw"].tolist() == ["mail a@b.com"]  # redaction happens in read_source


def test_embedding_cache_round_trip(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    vecs = np.random.default_rng(0).normal(size=(2, 4)).astype(np.float32)
    store.cache.save_embeddings(["h1", "h2"], vecs, "m")
    store.cache.save_embeddings(["h1"], vecs[:1] * 0, "m")  # a second save never overwrites
    got = store.cache.embeddings(["h1", "h2", "h3"], "m")
    assert set(got) == {"h1", "h2"} and np.array_equal(got["h1"], vecs[0])
    assert store.cache.embeddings(["h1"], "other-model") == {}


def test_reading_a_store_that_does_not_exist_yet_finds_no_items(tmp_path):
    store = Store(tmp_path / "new.duckdb")
    assert store.items.created_range() is None and store.items.read().empty


def test_a_ticket_resolved_since_the_last_export_is_updated_and_the_same_rows_again_change_nothing(tmp_path):
    store, batch = Store(tmp_path / "s.duckdb"), _batch(tmp_path)
    store.items.upsert(batch.items, "run1")
    later = batch.items.copy()
    later["answered"] = pd.array([True, None, None], dtype="boolean")
    assert store.items.upsert(later, "run2") == (0, 1)
    assert store.items.upsert(later, "run3") == (0, 0)
    assert store.items.read().set_index("item_id").loc[later.loc[0, "item_id"], "answered"]


def test_a_store_from_an_older_koe_gets_the_new_columns(tmp_path):
    import duckdb

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE items (item_id VARCHAR PRIMARY KEY, source_kind VARCHAR, text VARCHAR, "
                "created_at TIMESTAMPTZ, first_run_id VARCHAR)")
    con.execute("INSERT INTO items VALUES ('old', 'review', '古い行', '2026-10-01 00:00:00+00', 'r0')")
    con.close()
    store, batch = Store(path), _batch(tmp_path)
    assert store.items.upsert(batch.items, "run1") == (3, 0)
    items = store.items.read()
    assert len(items) == 4 and list(items.columns) == list(ITEM_COLUMNS)  # every column added since, in order
    assert items.set_index("item_id").loc["old", "text"] == "古い行"


def test_a_store_is_prepared_once_per_schema_version(tmp_path):
    """The tables are created and migrated on the first connection; a store that says it was prepared for this
    koe's schema is not prepared again (one query per connection), one prepared for another version is."""
    from nlp.store.database import SCHEMA_VERSION

    store = Store(tmp_path / "s.duckdb")
    with store.db.connect() as con:
        assert con.execute("SELECT version FROM koe_schema").fetchall() == [(SCHEMA_VERSION,)]
        con.execute("DROP TABLE quarantine")
    with store.db.connect() as con:  # this version: no DDL ran, so the dropped table stays dropped
        assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'quarantine'"
                           ).fetchone()[0] == 0
        con.execute("UPDATE koe_schema SET version = 'older'")
    with store.db.connect() as con:  # another version: created and migrated again
        assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'quarantine'"
                           ).fetchone()[0] == 1
        assert con.execute("SELECT version FROM koe_schema").fetchall() == [(SCHEMA_VERSION,)]


def test_a_store_whose_results_name_clusters_gets_issue_id_and_space(tmp_path):
    """A store written before the columns were named for what they hold (assignments.cluster_id and
    clusters.cluster_id holding issue ids, clusters.lang an embedding space) is migrated on its first connection:
    its rows read back under issue_id and space, in the latest results and in the history."""
    import duckdb

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE items (item_id VARCHAR PRIMARY KEY, source_kind VARCHAR, text VARCHAR, "
                "created_at TIMESTAMPTZ, first_run_id VARCHAR)")
    con.execute("INSERT INTO items VALUES ('i1', 'review', '配送が遅い', '2026-10-01 00:00:00+00', 'r0')")
    con.execute("CREATE TABLE runs (run_id VARCHAR PRIMARY KEY, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, "
                "status VARCHAR, config_json VARCHAR, summary_json VARCHAR)")
    con.execute("INSERT INTO runs VALUES ('r0', '2026-10-02 00:00:00+00', '2026-10-02 00:10:00+00', 'completed', "
                "'{}', '{}')")
    con.execute("CREATE TABLE assignments (run_id VARCHAR, item_id VARCHAR, cluster_id VARCHAR, centrality DOUBLE, "
                "stage VARCHAR, stage_score DOUBLE, sentiment DOUBLE, PRIMARY KEY (run_id, item_id))")
    con.execute("INSERT INTO assignments VALUES ('r0', 'i1', 'en+ja-0001', 0.9, 'delivery', 0.7, -0.5)")
    con.execute("CREATE TABLE clusters (run_id VARCHAR, cluster_id VARCHAR, lang VARCHAR, size INTEGER, "
                "label VARCHAR, keyphrases_json VARCHAR, verbatims_json VARCHAR, PRIMARY KEY (run_id, cluster_id))")
    con.execute("""INSERT INTO clusters VALUES ('r0', 'en+ja-0001', 'en+ja', 1, '配送', '["配送"]', '["配送が遅い"]')""")
    con.close()
    store = Store(path)
    with store.db.connect() as con:  # what a run's first connection does
        columns = {t: [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE "
                                                 "table_name = ? ORDER BY ordinal_position", [t]).fetchall()]
                   for t in ("assignments", "clusters")}
    assert columns["assignments"][:3] == ["run_id", "item_id", "issue_id"]
    assert columns["clusters"][:4] == ["run_id", "issue_id", "space", "size"] and "cluster_id" not in columns["clusters"]
    assignments, clusters = store.results.latest()
    assert assignments[["item_id", "issue_id", "stage"]].values.tolist() == [["i1", "en+ja-0001", "delivery"]]
    assert clusters[["issue_id", "space", "size", "label"]].values.tolist() == [["en+ja-0001", "en+ja", 1, "配送"]]
    assert clusters.loc[0, "keyphrases"] == ["配送"] and clusters.loc[0, "names"] == {}
    assert store.results.history()[["item_id", "issue_id", "stage"]].values.tolist() == [["i1", "en+ja-0001", "delivery"]]
    assert store.prior_run("r1").members().values.tolist() == [["i1", "en+ja-0001"]]
    with store.db.connect():  # migrated once: a second connection finds the new names and renames nothing
        pass
    assert store.results.latest()[0]["issue_id"].tolist() == ["en+ja-0001"]
