"""Issue 20's ingest and fault attacks, and issue 19's run checks: one bad row never sinks the night, nothing is
lost silently, faults end in one line. Tiny hand-written data; the flow runs for real only where a test needs it."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from flows.cli import app
from nlp.config import ConfigError, IngestConfig, PipelineConfig, SourceConfig, load_config
from nlp.sources import read_source
from nlp.sources.dates import parse_datetime
from nlp.store import Store, StoreLockedError
from tests.conftest import REPO

cli = CliRunner()
NOW = pd.Timestamp("2026-11-24", tz="UTC")
MAP = {"source_id": "id", "created_at": "date", "text": "body"}
STAGES = {"stages": [{"key": "delivery", "name_ja": "配送", "name_en": "Delivery", "examples_ja": ["届かない"]}]}
SECRET = "taro.yamada@example.com"


def _read(path, ingest=IngestConfig(), **kw):
    src = SourceConfig(name="src", kind="review", path=str(path), columns=MAP, **kw)
    batch = read_source(src, ingest, path.parent, now=NOW)
    if batch.rows_read:  # a file that cannot be read at all is one quarantined row, with no row read
        assert batch.rows_read == len(batch.items) + batch.duplicates_in_file + len(batch.quarantine)
    return batch


def _stored(tmp_path, batch):
    """The batch written to a real store (a row that cannot be stored fails here)."""
    store = Store(tmp_path / "s.duckdb")
    store.upsert_items(batch.items, "run")
    store.add_quarantine(batch.quarantine, "run")
    return store


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="ascii")  # ASCII: escapes kept
    return path


def _config(tmp_path, sources, **sections) -> str:
    raw = {"sources": sources, "stages": STAGES, "store": {"path": str(tmp_path / "koe.duckdb")},
           "report": {"out_dir": str(tmp_path / "reports")}, **sections}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return str(path)


# ---- one row sinks the night ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["r.jsonl", "r.json"])
def test_a_lone_surrogate_quarantines_its_row_only_and_no_reason_quotes_it(tmp_path, name):
    rows = [{"id": "r1", "date": "2026-11-01", "body": f"\ud800 {SECRET} 090-1234-5678"},
            {"id": "r2", "date": "2026-11-01", "body": "配送が遅い"}]
    path = tmp_path / name
    path.write_text(json.dumps(rows) if name.endswith(".json") else "".join(json.dumps(r) + "\n" for r in rows),
                    encoding="ascii")
    batch = _read(path)
    assert batch.items["source_id"].tolist() == ["r2"]
    assert "lone surrogate" in batch.quarantine["reason"].iloc[0]
    assert SECRET not in " ".join(batch.quarantine["reason"]) + " ".join(batch.quarantine["raw"])
    _stored(tmp_path, batch)


UNICODE = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()), max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(UNICODE, min_size=1, max_size=5))
def test_arbitrary_unicode_with_surrogates_and_controls_never_raises_and_every_row_is_stored(tmp_path, texts):
    path = _jsonl(tmp_path / "r.jsonl", [{"id": f"r{k}", "date": "2026-11-01", "body": t}
                                         for k, t in enumerate(texts)])
    batch = _read(path)
    _stored(tmp_path, batch)
    for reason in batch.quarantine["reason"]:  # no reason quotes a text longer than a short-text notice
        assert not any(len(t.strip()) > 8 and t.strip() in reason for t in texts)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(st.characters(exclude_categories=("Cs",)), max_size=40), min_size=1, max_size=5))
def test_arbitrary_unicode_in_a_csv_never_raises(tmp_path, texts):
    frame = pd.DataFrame({"id": [f"r{k}" for k in range(len(texts))], "date": "2026-11-01", "body": texts})
    (tmp_path / "r.csv").write_bytes(frame.to_csv(index=False).encode("utf-8"))
    _stored(tmp_path, _read(tmp_path / "r.csv"))


@pytest.mark.parametrize("epoch", [1709600400, 1709600400_000, 1709600400_000_000, 1709600400_000_000_000,
                                   "1709600400000000"])
def test_epochs_in_seconds_ms_us_and_ns_are_told_apart_by_magnitude(tmp_path, epoch):
    batch = _read(_jsonl(tmp_path / "r.jsonl", [{"id": "r1", "date": epoch, "body": "配送が遅い"}]))
    assert batch.quarantine.empty
    assert batch.items["created_at"].tolist() == [pd.Timestamp("2024-03-05 01:00", tz="UTC")]


@pytest.mark.parametrize("epoch, reason", [(-86400, "negative epoch"), (0, "before ingest.earliest_date"),
                                           (10**25, "too large"), (1e308 * 10, "not a finite number")])
def test_negative_and_out_of_range_epochs_are_quarantined_with_a_reason(tmp_path, epoch, reason):
    batch = _read(_jsonl(tmp_path / "r.jsonl", [{"id": "r1", "date": epoch, "body": "配送が遅い"}]))
    assert batch.items.empty and reason in batch.quarantine["reason"].iloc[0]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.integers(min_value=-(2**80), max_value=2**80), st.floats(allow_nan=True, allow_infinity=True),
                 st.integers(min_value=-(2**70), max_value=2**70).map(str)))
def test_any_epoch_is_a_date_in_range_or_a_valueerror_without_its_digits(epoch):
    try:
        ts = parse_datetime(epoch, "Asia/Tokyo")
    except ValueError as exc:
        assert str(epoch).lstrip("-")[:7] not in str(exc) or len(str(epoch).lstrip("-")) < 7
    else:
        assert (1970 if not isinstance(epoch, str) else 1677) <= ts.year <= 2261 and str(ts.tz) == "UTC"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(epoch=st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.floats()))
def test_any_epoch_in_a_row_is_an_item_or_a_quarantined_row(tmp_path, epoch):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"id": "r1", "date": epoch, "body": "配送が遅い"}, allow_nan=True) + "\n")
    _stored(tmp_path, _read(path))


@pytest.mark.parametrize("quoted", [False, True])
def test_a_csv_field_over_the_limit_quarantines_its_row_naming_file_and_row(tmp_path, quoted):
    big = "x" * 3000 if not quoted else '"' + "長い\n" * 1000 + '"'
    path = tmp_path / "r.csv"
    path.write_text(f"id,date,body\nr1,2026-11-01,配送が遅い\nr2,2026-11-01,{big}\nr3,2026-11-02,満足です\n",
                    encoding="utf-8")
    batch = _read(path, IngestConfig(max_field_chars=1024))
    assert batch.items["source_id"].tolist() == ["r1", "r3"]
    assert batch.quarantine["reason"].tolist() == [
        f"{path} row 2: a field is longer than ingest.max_field_chars (1,024 characters)"]


def test_a_field_over_16_mb_no_longer_fails_the_file(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(f"id,date,body\nr1,2026-11-01,配送が遅い\nr2,2026-11-01,{'x' * (17 * 1024 * 1024)}\n"
                    "r3,2026-11-02,満足です\n", encoding="utf-8")
    batch = _read(path)
    assert batch.items["source_id"].tolist() == ["r1", "r3"]
    assert "row 2: a field is longer than ingest.max_field_chars" in batch.quarantine["reason"].iloc[0]


@pytest.mark.parametrize("encoding", ["auto", "utf-8"])
def test_a_utf8_file_with_a_few_cp932_lines_keeps_the_good_lines(tmp_path, encoding):
    lines = [f"r{k},2026-11-01,配送が遅い{k}\n".encode() for k in range(198)]
    lines[50] = "r50,2026-11-01,箱がつぶれていた\n".encode("cp932")
    lines[120] = "r120,2026-11-01,返品したい\n".encode("cp932")
    path = tmp_path / "r.csv"
    path.write_bytes(b"id,date,body\n" + b"".join(lines))
    batch = _read(path, encoding=encoding)
    assert len(batch.items) == 196
    assert batch.quarantine["row_number"].tolist() == [51, 121]
    assert batch.quarantine["reason"].str.startswith("row is not valid utf-8").all()


def test_a_cp932_file_with_a_few_utf8_lines_is_read_as_cp932(tmp_path):
    lines = [f"r{k},2026-11-01,配送が遅い{k}\n".encode("cp932") for k in range(50)]
    lines[7] = "r7,2026-11-01,届かない😡\n".encode()
    path = tmp_path / "r.csv"
    path.write_bytes("id,date,body\n".encode("cp932") + b"".join(lines))
    batch = _read(path)
    assert len(batch.items) == 49 and batch.encoding == "cp932"


# ---- silent loss -----------------------------------------------------------------------------------------------

def _pipeline(sources, **sections) -> dict:
    return {"sources": sources, "stages": STAGES, **sections}


def test_duplicate_source_names_are_rejected():
    src = {"name": "shop", "kind": "review", "path": "a.csv"}
    with pytest.raises(ValueError, match=r"duplicate source names: \['shop'\]"):
        PipelineConfig.model_validate(_pipeline([src, {**src, "path": "b.csv"}]))


def test_two_sources_on_one_file_are_rejected_before_any_work(tmp_path):
    from nlp.sources import check_sources

    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "r.csv").write_text("id,date,body\nr1,2026-11-01,配送が遅い\n", encoding="utf-8")
    (tmp_path / "link.csv").symlink_to(tmp_path / "exports" / "r.csv")
    sources = [{"name": "a", "kind": "review", "path": "exports/*.csv", "columns": MAP},
               {"name": "b", "kind": "review", "path": "link.csv", "columns": MAP}]
    problems = check_sources(PipelineConfig.model_validate(_pipeline(sources)).sources, tmp_path)
    assert problems == [f"sources 'a' and 'b' both read {tmp_path / 'link.csv'}; every row would be counted twice: "
                        "give each file to one source"]
    config = _config(tmp_path, [{**s, "path": str(tmp_path / s["path"])} for s in sources])
    result = cli.invoke(app, ["run", "--config", config])
    assert result.exit_code == 2 and "both read" in result.output
    assert not (tmp_path / "koe.duckdb").exists()  # before any work


@pytest.mark.parametrize("value, order, utc", [
    ("24/03/05", "YMD", "2024-03-04 15:00"), ("24/03/05", "DMY", "2005-03-23 15:00"),
    ("12/11/2026", "DMY", "2026-11-11 15:00"), ("12/11/2026", "MDY", "2026-12-10 15:00"),
    ("2026/03/05", None, "2026-03-04 15:00"), ("25/12/2026", None, "2026-12-24 15:00"),
    ("12/25/2026", None, "2026-12-24 15:00"), ("2026-03-05T10:00:00+09:00", "DMY", "2026-03-05 01:00"),
])
def test_numeric_dates_are_read_in_the_order_they_tell_or_the_configured_one(value, order, utc):
    assert parse_datetime(value, "Asia/Tokyo", order) == pd.Timestamp(utc, tz="UTC")


@pytest.mark.parametrize("value", ["24/03/05", "12/11/2026", "05.03.2026"])
def test_ambiguous_numeric_dates_without_a_date_order_are_quarantined(tmp_path, value):
    batch = _read(_jsonl(tmp_path / "r.jsonl", [{"id": "r1", "date": value, "body": "配送が遅い"}]))
    assert batch.items.empty
    assert batch.quarantine["reason"].tolist() == [
        "created_at: ambiguous date (day, month and year order); set ingest.date_order: YMD, DMY or MDY"]


@pytest.mark.parametrize("pattern", ["exports_*/x.csv", "**/*.csv", "exports_1/*.csv"])
def test_a_glob_in_a_directory_part_reads_the_files(tmp_path, pattern):
    for k in (1, 2):
        (tmp_path / f"exports_{k}").mkdir()
        (tmp_path / f"exports_{k}" / "x.csv").write_text(f"id,date,body\nr{k},2026-11-01,配送が遅い\n",
                                                         encoding="utf-8")
    src = SourceConfig(name="src", kind="review", path=pattern, columns=MAP)
    batch = read_source(src, IngestConfig(), tmp_path, now=NOW)
    assert sorted(batch.items["source_id"]) == (["r1"] if pattern.startswith("exports_1") else ["r1", "r2"])


@pytest.mark.parametrize("kind, reason", [("dir", "is a directory, not a file"), ("fifo", "is not a regular file")])
def test_a_directory_or_a_fifo_is_an_error_that_says_so(tmp_path, kind, reason):
    from nlp.sources import check_sources

    path = tmp_path / "r.csv"
    path.mkdir() if kind == "dir" else os.mkfifo(path)
    batch = _read(path)  # a FIFO is never opened: this would hang
    assert reason in batch.quarantine["reason"].iloc[0] and "not found" not in batch.quarantine["reason"].iloc[0]
    sources = PipelineConfig.model_validate(_pipeline([{"name": "a", "kind": "review", "path": str(path)}])).sources
    assert reason in check_sources(sources, tmp_path)[0]


def _seeded_store(tmp_path) -> Store:
    store = Store(tmp_path / "koe.duckdb")
    for name in ("old", "keep"):
        path = tmp_path / f"{name}.csv"
        path.write_text(f"id,date,body\n{name}1,2026-11-01,配送が遅い {name}\n{name}2,xx,日付なし\n", encoding="utf-8")
        batch = read_source(SourceConfig(name=name, kind="review", path=str(path), columns=MAP), IngestConfig(),
                            tmp_path, now=NOW)
        store.upsert_items(batch.items, "r0")
        store.add_quarantine(batch.quarantine, "r0")
        store.save_embeddings(batch.items["content_hash"].tolist(), [[1.0, 0.0]], "m")
    return store


def test_koe_purge_deletes_one_sources_items_quarantine_and_vectors_and_records_it(tmp_path):
    store = _seeded_store(tmp_path)
    config = _config(tmp_path, [{"name": "keep", "kind": "review", "path": str(tmp_path / "keep.csv"),
                                 "columns": MAP}])
    result = cli.invoke(app, ["purge", "--source", "old", "--config", config])
    assert result.exit_code == 0, result.output
    assert "1 items, 1 quarantined rows" in result.output
    assert store.items()["source_name"].tolist() == ["keep"]
    assert store.table("quarantine")["source_name"].tolist() == ["keep"]
    assert len(store.table("embeddings")) == 1
    ledger = store.table("runs", "WHERE status = 'purge'")
    assert json.loads(ledger["summary_json"].iloc[0])["purged_source"] == "old"
    again = cli.invoke(app, ["purge", "--source", "old", "--config", config])
    assert again.exit_code == 1 and "no source named 'old'" in again.output


def test_koe_report_during_a_run_fails_at_once_and_leaves_the_runs_record_alone(tmp_path):
    store = _seeded_store(tmp_path)
    store.start_run("r1", NOW, {})
    config = _config(tmp_path, [])
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
        Store(path).items()
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)
    (tmp_path / "r.csv").write_text("id,date,body\nr1,2026-11-01,配送が遅い\n", encoding="utf-8")
    config = _config(tmp_path, [{"name": "a", "kind": "review", "path": str(tmp_path / "r.csv"), "columns": MAP}])
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
    cfg = PipelineConfig.model_validate(_pipeline(sources, store={"path": str(tmp_path / "a_file" / "koe.duckdb")},
                                                  report={"out_dir": str(tmp_path / "a_file" / "reports")}))
    problems = preflight(cfg, tmp_path)
    assert len(problems) == 2 and all("not writable" in p for p in problems)
    with pytest.raises(StoreError, match="cannot write the store there"):
        with Store(tmp_path / "a_file" / "koe.duckdb").run_lock():
            pass


def test_koe_doctor_reports_the_tables_and_the_lock(tmp_path):
    store = _seeded_store(tmp_path)
    config = _config(tmp_path, [])
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
    result = cli.invoke(app, ["run", "--config", _config(tmp_path, [source])])
    assert result.exit_code == 2 and "source 'helpdesk': no file matches" in result.output
    cfg = load_config(_config(tmp_path, [{**source, "allow_empty": True}]))
    assert preflight(cfg, tmp_path) == []


@pytest.mark.parametrize("section, key, value, message", [
    ("sources", "columns", {"txet": "body"}, "names fields koe does not know: ['txet']"),
    ("ingest", "timezone", "Asia/Tokio", "unknown time zone 'Asia/Tokio'"),
    ("schedule", "timezone", "JST+9", "unknown time zone 'JST+9'"),
])
def test_misspelt_mapping_keys_and_bad_time_zones_are_config_errors(tmp_path, section, key, value, message):
    source = {"name": "a", "kind": "review", "path": "r.csv"}
    sections = {} if section == "sources" else {section: {key: value}}
    config = _config(tmp_path, [{**source, key: value} if section == "sources" else source], **sections)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]").replace("+", r"\+")):
        load_config(config)
    result = cli.invoke(app, ["run", "--config", config])
    assert result.exit_code == 2 and message in result.output


def test_a_missing_mapped_column_fails_the_run_naming_the_source(tmp_path, prefect_harness):
    from flows.nightly import nightly
    from flows.preflight import SourceError

    (tmp_path / "r.csv").write_text("id,date,comment\nr1,2026-11-01,配送が遅い\n", encoding="utf-8")
    config = _config(tmp_path, [{"name": "shop", "kind": "review", "path": str(tmp_path / "r.csv"),
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
    config = _config(tmp_path, [{"name": "shop", "kind": "review", "path": str(tmp_path / "reviews.csv"),
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
