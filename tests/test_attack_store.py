"""Issue 20's store and fault attacks and issue 19's run checks: koe purge/report/doctor on a real store, faults
that end in one line, a run's checks before work, a real run killed with SIGTERM. The flow runs for real only where
a test needs it."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from flows.cli import app
from nlp.config import ConfigError, IngestConfig, PipelineConfig, SourceConfig, load_config
from nlp.sources import read_source
from nlp.store import Store, StoreLockedError
from tests.attack_common import MAP, NOW, cli, config_file, pipeline
from tests.conftest import REPO


def _seeded_store(tmp_path) -> Store:
    store = Store(tmp_path / "koe.duckdb")
    for name in ("old", "keep"):
        path = tmp_path / f"{name}.csv"
        path.write_text(f"id,date,body\n{name}1,2026-11-01,配送が遅い {name}\n{name}2,xx,日付なし\n", encoding="utf-8")
        batch = read_source(SourceConfig(name=name, kind="review", path=str(path), columns=MAP), IngestConfig(),
                            tmp_path, now=NOW)
        store.items.upsert(batch.items, "r0")
        store.items.quarantine(batch.quarantine, "r0")
        store.cache.save_embeddings(batch.items["content_hash"].tolist(), [[1.0, 0.0]], "m")
    return store


def test_koe_purge_deletes_one_sources_items_quarantine_and_vectors_and_records_it(tmp_path):
    store = _seeded_store(tmp_path)
    config = config_file(tmp_path, [{"name": "keep", "kind": "review", "path": str(tmp_path / "keep.csv"),
                                 "columns": MAP}])
    result = cli.invoke(app, ["purge", "--source", "old", "--config", config])
    assert result.exit_code == 0, result.output
    assert "1 items, 1 quarantined rows" in result.output
    assert store.items.read()["source_name"].tolist() == ["keep"]
    assert store.table("quarantine")["source_name"].tolist() == ["keep"]
    assert len(store.table("embeddings")) == 1
    ledger = store.table("runs", "WHERE status = 'purge'")
    assert json.loads(ledger["summary_json"].iloc[0])["purged_source"] == "old"
    again = cli.invoke(app, ["purge", "--source", "old", "--config", config])
    assert again.exit_code == 1 and "no source named 'old'" in again.output


def test_koe_report_during_a_run_fails_at_once_and_leaves_the_runs_record_alone(tmp_path):
    store = _seeded_store(tmp_path)
    store.runs.start("r1", NOW, {})
    config = config_file(tmp_path, [])
    with store.run_lock():  # as if the run were in progress in another process
        before = store.table("runs")
        result = cli.invoke(app, ["report", "--config", config])
    assert result.exit_code == 3 and "another koe run" in result.output
    pd.testing.assert_frame_equal(store.table("runs"), before)


def test_the_run_lock_is_on_the_resolved_store_path(tmp_path):
    real = Store(tmp_path / "koe.duckdb")
    (tmp_path / "link.duckdb").symlink_to(tmp_path / "koe.duckdb")
    with Store(tmp_path / "link.duckdb").run_lock():
        with pytest.raises(StoreLockedError):
            with real.run_lock():
                pass


# ---- faults -----------------------------------------------------------------------------------------------------

def _bad_store(tmp_path, kind: str):
    path = tmp_path / "koe.duckdb"
    if kind == "not duckdb":
        path.write_text("id,text\n1,hello\n", encoding="utf-8")
    else:
        store = _seeded_store(tmp_path)
        data = store.path.read_bytes()
        path.write_bytes(data[: len(data) // 2] if kind == "truncated" else
                         data[:4096] + bytes(range(256)) * ((len(data) - 4096) // 256))
    return path


@pytest.mark.parametrize("kind", ["not duckdb", "truncated", "corrupt"])
def test_a_broken_store_ends_in_one_line_naming_the_file_and_what_to_do(tmp_path, kind):
    from nlp.store import StoreError

    path = _bad_store(tmp_path, kind)
    with pytest.raises(StoreError, match="restore it from a backup") as caught:
        Store(path).items.read()
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)
    (tmp_path / "r.csv").write_text("id,date,body\nr1,2026-11-01,配送が遅い\n", encoding="utf-8")
    config = config_file(tmp_path, [{"name": "a", "kind": "review", "path": str(tmp_path / "r.csv"), "columns": MAP}])
    result = cli.invoke(app, ["run", "--config", config])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip().splitlines() == [str(caught.value)]
    doctor = cli.invoke(app, ["doctor", "--config", config])
    assert doctor.exit_code == 1 and "BAD" in doctor.output and "koe doctor" in doctor.output


def test_a_store_or_report_directory_that_cannot_be_written_is_found_before_any_work(tmp_path):
    from flows.preflight import preflight
    from nlp.store import StoreError

    (tmp_path / "a_file").write_text("", encoding="utf-8")
    (tmp_path / "r.csv").write_text("id,date,body\nr1,2026-11-01,配送が遅い\n", encoding="utf-8")
    sources = [{"name": "a", "kind": "review", "path": str(tmp_path / "r.csv"), "columns": MAP}]
    cfg = PipelineConfig.model_validate(pipeline(sources, store={"path": str(tmp_path / "a_file" / "koe.duckdb")},
                                                  report={"out_dir": str(tmp_path / "a_file" / "reports")}))
    problems = preflight(cfg, tmp_path)
    assert len(problems) == 2 and all("not writable" in p for p in problems)
    with pytest.raises(StoreError, match="cannot write the store there"):
        with Store(tmp_path / "a_file" / "koe.duckdb").run_lock():
            pass


def test_koe_doctor_reports_the_tables_and_the_lock(tmp_path):
    store = _seeded_store(tmp_path)
    config = config_file(tmp_path, [])
    result = cli.invoke(app, ["doctor", "--config", config])
    assert result.exit_code == 0, result.output
    assert "ok tables: all present" in result.output.replace("ok  ", "ok ")
    assert "items: 2 rows" in result.output and "lock: free" in result.output
    with store.run_lock():
        held = cli.invoke(app, ["doctor", "--config", config])
    assert held.exit_code == 0 and "lock: held by a run (pid" in held.output


# ---- run checks (issue 19) ----------------------------------------------------------------------------------------

def test_a_source_matching_nothing_is_an_error_naming_it_unless_allow_empty(tmp_path):
    from flows.preflight import preflight

    source = {"name": "helpdesk", "kind": "review", "path": str(tmp_path / "none_*.csv"), "columns": MAP}
    result = cli.invoke(app, ["run", "--config", config_file(tmp_path, [source])])
    assert result.exit_code == 2 and "source 'helpdesk': no file matches" in result.output
    cfg = load_config(config_file(tmp_path, [{**source, "allow_empty": True}]))
    assert preflight(cfg, tmp_path) == []


@pytest.mark.parametrize("section, key, value, message", [
    ("sources", "columns", {"txet": "body"}, "names fields koe does not know: ['txet']"),
    ("ingest", "timezone", "Asia/Tokio", "unknown time zone 'Asia/Tokio'"),
    ("schedule", "timezone", "JST+9", "unknown time zone 'JST+9'"),
])
def test_misspelt_mapping_keys_and_bad_time_zones_are_config_errors(tmp_path, section, key, value, message):
    source = {"name": "a", "kind": "review", "path": "r.csv"}
    sections = {} if section == "sources" else {section: {key: value}}
    config = config_file(tmp_path, [{**source, key: value} if section == "sources" else source], **sections)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]").replace("+", r"\+")):
        load_config(config)
    result = cli.invoke(app, ["run", "--config", config])
    assert result.exit_code == 2 and message in result.output


def test_a_missing_mapped_column_fails_the_run_naming_the_source(tmp_path, prefect_harness):
    from flows.nightly import nightly
    from flows.preflight import SourceError

    (tmp_path / "r.csv").write_text("id,date,comment\nr1,2026-11-01,配送が遅い\n", encoding="utf-8")
    config = config_file(tmp_path, [{"name": "shop", "kind": "review", "path": str(tmp_path / "r.csv"),
                                 "columns": MAP}])
    with pytest.raises(SourceError, match="source 'shop' gave no item: column \\['body'\\] mapped to 'text'"):
        nightly(config)
    runs = Store(tmp_path / "koe.duckdb").table("runs")
    assert runs["status"].tolist() == ["failed"] and "gave no item" in runs["summary_json"].iloc[0]


# ---- a real run killed with SIGTERM ------------------------------------------------------------------------------

def _children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return {int(p) for p in out.split()}


def test_sigterm_records_the_run_as_cancelled_and_leaves_no_prefect_server(tmp_path):
    lines = (REPO / "data" / "sample" / "reviews.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "reviews.csv").write_text("".join(lines[:61]), encoding="utf-8")
    config = config_file(tmp_path, [{"name": "shop", "kind": "review", "path": str(tmp_path / "reviews.csv"),
                                 "columns": {"source_id": "review_id", "created_at": "posted_at", "rating": "stars",
                                             "text": "review_text"}}])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    child = subprocess.Popen([sys.executable, "-m", "flows.cli", "run", "--config", config], cwd=REPO, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        servers, deadline = set(), time.monotonic() + 240
        for line in child.stdout:  # the flow is past ingest: the run is recorded as running
            servers |= _children(child.pid)
            if "analysing" in line or time.monotonic() > deadline:
                break
        assert servers, "the run started no Prefect server"
        child.send_signal(signal.SIGTERM)
        rest = child.communicate(timeout=60)[0]
    finally:
        child.kill()
    assert child.returncode == 128 + signal.SIGTERM, rest[-2000:]
    runs = Store(tmp_path / "koe.duckdb").table("runs")
    assert runs["status"].tolist() == ["cancelled"]
    assert json.loads(runs["summary_json"].iloc[0]) == {"error": "terminated by SIGTERM"}
    time.sleep(1)
    assert not [p for p in servers if os.path.exists(f"/proc/{p}")], "the Prefect server outlived the run"


def test_a_sigterm_that_reaches_the_run_as_another_exception_still_ends_it_as_cancelled(tmp_path, monkeypatch):
    # caught mid state change, Prefect's task engine turns the handler's SystemExit into its own ValueError (seen in
    # CI); the run is still recorded as cancelled by SIGTERM and koe still exits 128 + 15
    from flows import cli as koe_cli
    from flows import nightly as flow

    monkeypatch.setattr(flow, "_TERMINATED_BY", [])
    assert flow._ending(ValueError("Task run is not set")) == ("failed", "ValueError")
    with pytest.raises(SystemExit) as ended:
        with koe_cli._signal_exit():
            try:
                koe_cli._on_sigterm(signal.SIGTERM, None)
            except SystemExit:
                raise ValueError("Task run is not set") from None
    assert ended.value.code == 128 + signal.SIGTERM
    assert flow._ending(ValueError("Task run is not set")) == ("cancelled", "terminated by SIGTERM")
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
