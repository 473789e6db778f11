"""Kill and resume: a nightly run killed with SIGKILL mid-embedding or mid-publish, then run again, leaves a
consistent store and the same report as a run that was never interrupted.

The run is killed in a child process (same Prefect API as the tests) that wraps one write of the real flow:
no test hook lives in production code."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flows.runner import partitions
from nlp.analysis import embedding_spaces, space_spec
from nlp.config import load_config
from nlp.embed import get_embedder
from nlp.store import Store
from tests.conftest import PARTITION, REPO, sample_config
from tests.run_snapshot import assert_same_run, snapshot_run, without_ingest_counts

# argv: where (embed | publish), config path. Exits only by SIGKILL at the chosen point.
CHILD = r"""
import os, signal, sys, types

import nlp.report.write as report_write
from flows.nightly import nightly
from nlp.store.cache import Cache

where, config = sys.argv[1], sys.argv[2]
calls = []

def die():
    os.kill(os.getpid(), signal.SIGKILL)

if where == "embed":
    # embeddings are saved a partition at a time: the first space's partitions are saved, and so is the second
    # space's first one; its second partition is killed inside its transaction, half its rows written
    save = Cache.save_embeddings

    def save_embeddings(self, hashes, vectors, model_key):
        calls.append(model_key)
        if model_key == calls[0] or calls.count(model_key) < 2:
            return save(self, hashes, vectors, model_key)
        with self.db.transaction() as con:
            for h, v in zip(hashes[:len(hashes) // 2], vectors):
                con.execute("INSERT INTO embeddings VALUES (?, ?, ?, ?)", [h, model_key, len(v), v.tobytes()])
            die()

    Cache.save_embeddings = save_embeddings
elif where == "publish":
    # the first report file is renamed into place; the second is written to its temporary name, then killed
    def replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            die()
        os.replace(src, dst)

    proxy = types.ModuleType("os")
    proxy.__dict__.update(os.__dict__)
    proxy.replace = replace
    report_write.os = proxy
nightly(config)
"""


def _killed_run(config, where: str) -> None:
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}  # the harness's server: no second start-up
    proc = subprocess.run([sys.executable, "-c", CHILD, where, str(config)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=400)
    assert proc.returncode == -signal.SIGKILL, proc.stdout[-2000:] + proc.stderr[-4000:]


def _runs(store: Store) -> dict[str, str]:
    return dict(store.table("runs", "ORDER BY started_at")[["run_id", "status"]].itertuples(index=False))


def _assert_consistent(store: Store, expected_tables: dict) -> None:
    items = store.table("items")
    assert items["item_id"].is_unique and len(items) == len(expected_tables["items"])
    vectors = store.table("embeddings")
    assert not vectors.duplicated(["content_hash", "model_key"]).any()
    assert (vectors["vector"].map(len) == 4 * vectors["dim"]).all()  # no truncated vector
    assert vectors.groupby("model_key")["dim"].nunique().eq(1).all()
    expected = expected_tables["embeddings"]
    assert sorted(zip(vectors["model_key"], vectors["content_hash"])) == sorted(
        zip(expected["model_key"], expected["content_hash"]))  # every text embedded once, nothing missing


def _assert_resumed(store: Store, killed: str, summary: dict, reference: dict) -> None:
    """What the run after a killed one left: the killed run closed as crashed without results, a consistent
    store, nothing stored twice, a full fit (the killed run's clustering is not a completed one)."""
    assert _runs(store) == {killed: "crashed", summary["run_id"]: "completed"}
    assert store.table("assignments", "WHERE run_id = ?", [killed]).empty  # a crashed run leaves no results
    _assert_consistent(store, reference["snapshot"]["tables"])
    assert summary["new_items"] == 0 and summary["already_stored"] == reference["summary"]["new_items"]
    assert summary["clustering"] == "full"


def test_a_run_killed_mid_publish_resumes_to_the_report_of_an_uninterrupted_one(fresh_run, tmp_path,
                                                                                 prefect_harness):
    """Killed between writing report.md and renaming it: the half-done file never has the final name, the
    half-done report is in its own new folder (never in the report's, which is swapped in whole), and the next
    run gives the report and tables of a run that was never interrupted."""
    from flows.nightly import nightly

    config = sample_config(tmp_path)
    store = Store(load_config(config).store.path)
    _killed_run(config, "publish")

    killed = list(_runs(store))
    assert _runs(store) == {killed[0]: "running"}
    staging = next((tmp_path / "reports").iterdir())
    assert staging.name.startswith(".") and staging.name.endswith(".new")
    assert sorted(os.listdir(tmp_path / "reports")) == [staging.name]
    assert sorted(os.listdir(staging)) == [".report.md.tmp", "report.html"]
    out_dir = staging.with_name(staging.name[1:-len(".new")])
    assert len(store.table("assignments", "WHERE run_id = ?", [killed[0]])) > 0  # its results were saved,
    assert store.table("issues").empty  # but its issue states wait for the run to complete

    summary = nightly(str(config))

    _assert_resumed(store, killed[0], summary, fresh_run)
    assert summary["embedded"] == 0  # the killed run had embedded (and saved) every vector
    assert Path(summary["report"]).parent == out_dir
    assert not any(name.endswith(".tmp") for name in os.listdir(out_dir))
    assert sorted(os.listdir(tmp_path / "reports")) == [out_dir.name]  # the killed run's folder is gone
    got = without_ingest_counts(snapshot_run(config, summary))
    assert_same_run(got, without_ingest_counts(fresh_run["snapshot"]))  # vectors included, byte for byte


def test_a_run_killed_mid_embedding_keeps_the_partitions_it_finished(partitioned_run, tmp_path, prefect_harness):
    """Vectors are saved a partition at a time: a run killed in the second partition of its second embedding
    space leaves the first space whole and the second space's first partition in the store (nothing of the
    partition it was killed in), the next run embeds only the rest, and its report and tables are those of a
    run with the same partitions that was never interrupted (conftest.partitioned_run), byte for byte."""
    from flows.embedding import model_keys
    from flows.nightly import nightly

    config = sample_config(tmp_path, partition_size=PARTITION)
    cfg = load_config(config)
    store = Store(cfg.store.path)
    _killed_run(config, "embed")

    killed = list(_runs(store))
    assert _runs(store) == {killed[0]: "running"}
    saved = store.table("embeddings")
    # the uninterrupted run's partitions, space by space in the order they are embedded (name order)
    per_key = partitioned_run["snapshot"]["tables"]["embeddings"]["model_key"].value_counts()
    keys = [get_embedder(space_spec(space, cfg.embed)).model_key for space in sorted(embedding_spaces(cfg.embed))]
    sizes = [[len(p) for p in partitions(int(per_key.get(key, 0)), PARTITION)] for key in keys]
    assert len(keys) == 2 and len(sizes[1]) > 2  # two spaces, the second in several partitions
    assert saved["model_key"].value_counts().to_dict() == {keys[0]: sum(sizes[0]), keys[1]: sizes[1][0]}

    summary = nightly(str(config))

    _assert_resumed(store, killed[0], summary, partitioned_run)
    # "embedded" counts the spaces' vectors (the sentiment head's use.v1 vectors are cached too, not counted)
    assert set(model_keys(cfg).values()) == set(keys)
    assert summary["embedded"] == partitioned_run["summary"]["embedded"] - len(saved)
    got = without_ingest_counts(snapshot_run(config, summary))
    assert_same_run(got, without_ingest_counts(partitioned_run["snapshot"]))


def _results(run_id: str, label: str) -> dict:
    """One issue with one member, as a run's save_results gets them."""
    now = pd.Timestamp("2026-11-20", tz="UTC")
    issue = {"issue_id": "ja-0001", "space": "ja", "label": label, "keyphrases": [label], "size": 1,
             "status": "active", "first_seen_run": run_id, "last_seen_run": run_id, "first_seen_at": now,
             "last_seen_at": now, "label_history": [], "centroid": np.ones(3, dtype=np.float32), "radius": 0.5}
    return {
        "assignments": pd.DataFrame([{"item_id": "i1", "issue_id": "ja-0001", "centrality": 1.0,
                                      "stage": "delivery", "stage_score": 0.5, "sentiment": -0.5}]),
        "clusters": pd.DataFrame([{"issue_id": "ja-0001", "space": "ja", "size": 1, "label": label,
                                   "keyphrases": [label], "verbatims": ["配送が遅い"]}]),
        "issues": pd.DataFrame([issue]),
        "events": pd.DataFrame([{"issue_id": "ja-0001", "event": "new", "related_issue": None, "detail": ""}]),
    }


def test_issue_states_change_only_when_a_run_completes_and_a_dead_run_is_closed_by_the_next(tmp_path):
    store, now = Store(tmp_path / "s.duckdb"), pd.Timestamp.now(tz="UTC")
    store.runs.start("run1", now, {})
    store.results.save("run1", **_results("run1", "配送"))
    assert store.results.issue_states().empty  # not before the run completes
    store.runs.finish("run1", now, {})
    assert store.results.issue_states()["label"].tolist() == ["配送"]

    store.runs.start("run2", now, {})  # then dies before finish_run
    store.results.save("run2", **_results("run2", "遅延"))
    assert store.results.issue_states()["label"].tolist() == ["配送"]
    with store.run_lock():  # the next run takes the lock
        assert _runs(store) == {"run1": "completed", "run2": "crashed"}
    for table in ("assignments", "clusters", "issue_events"):
        assert set(store.table(table)["run_id"]) == {"run1"}, table
    assert store.table("pending_issues").empty
    assert store.results.issue_states()["last_seen_run"].tolist() == ["run1"]
    assert "crashed" in store.table("runs", "WHERE run_id = 'run2'")["summary_json"].iloc[0]
