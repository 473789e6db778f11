"""Issue 20's ingest attacks: one bad row never sinks the night and nothing is lost silently. Tiny hand-written
data read for real (tests/attack_common.py)."""

import json
import os

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.cli import app
from nlp.config import IngestConfig, PipelineConfig, SourceConfig
from nlp.sources import read_source
from nlp.sources.dates import parse_datetime
from tests.attack_common import MAP, NOW, SECRET, cli, config_file, jsonl_file, pipeline, read_rows, stored


# ---- one row sinks the night ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["r.jsonl", "r.json"])
def test_a_lone_surrogate_quarantines_its_row_only_and_no_reason_quotes_it(tmp_path, name):
    rows = [{"id": "r1", "date": "2026-11-01", "body": f"\ud800 {SECRET} 090-1234-5678"},
            {"id": "r2", "date": "2026-11-01", "body": "配送が遅い"}]
    path = tmp_path / name
    path.write_text(json.dumps(rows) if name.endswith(".json") else "".join(json.dumps(r) + "\n" for r in rows),
                    encoding="ascii")
    batch = read_rows(path)
    assert batch.items["source_id"].tolist() == ["r2"]
    assert "lone surrogate" in batch.quarantine["reason"].iloc[0]
    assert SECRET not in " ".join(batch.quarantine["reason"]) + " ".join(batch.quarantine["raw"])
    stored(tmp_path, batch)


UNICODE = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()), max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(UNICODE, min_size=1, max_size=5))
def test_arbitrary_unicode_with_surrogates_and_controls_never_raises_and_every_row_is_stored(tmp_path, texts):
    path = jsonl_file(tmp_path / "r.jsonl", [{"id": f"r{k}", "date": "2026-11-01", "body": t}
                                         for k, t in enumerate(texts)])
    batch = read_rows(path)
    stored(tmp_path, batch)
    for reason in batch.quarantine["reason"]:  # no reason quotes a text longer than a short-text notice
        assert not any(len(t.strip()) > 8 and t.strip() in reason for t in texts)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(st.characters(exclude_categories=("Cs",)), max_size=40), min_size=1, max_size=5))
def test_arbitrary_unicode_in_a_csv_never_raises(tmp_path, texts):
    frame = pd.DataFrame({"id": [f"r{k}" for k in range(len(texts))], "date": "2026-11-01", "body": texts})
    (tmp_path / "r.csv").write_bytes(frame.to_csv(index=False).encode("utf-8"))
    stored(tmp_path, read_rows(tmp_path / "r.csv"))


@pytest.mark.parametrize("epoch", [1709600400, 1709600400_000, 1709600400_000_000, 1709600400_000_000_000,
                                   "1709600400000000"])
def test_epochs_in_seconds_ms_us_and_ns_are_told_apart_by_magnitude(tmp_path, epoch):
    batch = read_rows(jsonl_file(tmp_path / "r.jsonl", [{"id": "r1", "date": epoch, "body": "配送が遅い"}]))
    assert batch.quarantine.empty
    assert batch.items["created_at"].tolist() == [pd.Timestamp("2024-03-05 01:00", tz="UTC")]


@pytest.mark.parametrize("epoch, reason", [(-86400, "negative epoch"), (0, "before ingest.earliest_date"),
                                           (10**25, "too large"), (1e308 * 10, "not a finite number")])
def test_negative_and_out_of_range_epochs_are_quarantined_with_a_reason(tmp_path, epoch, reason):
    batch = read_rows(jsonl_file(tmp_path / "r.jsonl", [{"id": "r1", "date": epoch, "body": "配送が遅い"}]))
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
    stored(tmp_path, read_rows(path))


@pytest.mark.parametrize("quoted", [False, True])
def test_a_csv_field_over_the_limit_quarantines_its_row_naming_file_and_row(tmp_path, quoted):
    big = "x" * 3000 if not quoted else '"' + "長い\n" * 1000 + '"'
    path = tmp_path / "r.csv"
    path.write_text(f"id,date,body\nr1,2026-11-01,配送が遅い\nr2,2026-11-01,{big}\nr3,2026-11-02,満足です\n",
                    encoding="utf-8")
    batch = read_rows(path, IngestConfig(max_field_chars=1024))
    assert batch.items["source_id"].tolist() == ["r1", "r3"]
    assert batch.quarantine["reason"].tolist() == [
        f"{path} row 2: a field is longer than ingest.max_field_chars (1,024 characters)"]


def test_a_field_over_16_mb_no_longer_fails_the_file(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(f"id,date,body\nr1,2026-11-01,配送が遅い\nr2,2026-11-01,{'x' * (17 * 1024 * 1024)}\n"
                    "r3,2026-11-02,満足です\n", encoding="utf-8")
    batch = read_rows(path)
    assert batch.items["source_id"].tolist() == ["r1", "r3"]
    assert "row 2: a field is longer than ingest.max_field_chars" in batch.quarantine["reason"].iloc[0]


@pytest.mark.parametrize("encoding", ["auto", "utf-8"])
def test_a_utf8_file_with_a_few_cp932_lines_keeps_the_good_lines(tmp_path, encoding):
    lines = [f"r{k},2026-11-01,配送が遅い{k}\n".encode() for k in range(198)]
    lines[50] = "r50,2026-11-01,箱がつぶれていた\n".encode("cp932")
    lines[120] = "r120,2026-11-01,返品したい\n".encode("cp932")
    path = tmp_path / "r.csv"
    path.write_bytes(b"id,date,body\n" + b"".join(lines))
    batch = read_rows(path, encoding=encoding)
    assert len(batch.items) == 196
    assert batch.quarantine["row_number"].tolist() == [51, 121]
    assert batch.quarantine["reason"].str.startswith("row is not valid utf-8").all()


def test_a_cp932_file_with_a_few_utf8_lines_is_read_as_cp932(tmp_path):
    lines = [f"r{k},2026-11-01,配送が遅い{k}\n".encode("cp932") for k in range(50)]
    lines[7] = "r7,2026-11-01,届かない😡\n".encode()
    path = tmp_path / "r.csv"
    path.write_bytes("id,date,body\n".encode("cp932") + b"".join(lines))
    batch = read_rows(path)
    assert len(batch.items) == 49 and batch.encoding == "cp932"


# ---- silent loss -----------------------------------------------------------------------------------------------


def test_duplicate_source_names_are_rejected():
    src = {"name": "shop", "kind": "review", "path": "a.csv"}
    with pytest.raises(ValueError, match=r"duplicate source names: \['shop'\]"):
        PipelineConfig.model_validate(pipeline([src, {**src, "path": "b.csv"}]))


def test_two_sources_on_one_file_are_rejected_before_any_work(tmp_path):
    from nlp.sources import check_sources

    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "r.csv").write_text("id,date,body\nr1,2026-11-01,配送が遅い\n", encoding="utf-8")
    (tmp_path / "link.csv").symlink_to(tmp_path / "exports" / "r.csv")
    sources = [{"name": "a", "kind": "review", "path": "exports/*.csv", "columns": MAP},
               {"name": "b", "kind": "review", "path": "link.csv", "columns": MAP}]
    problems = check_sources(PipelineConfig.model_validate(pipeline(sources)).sources, tmp_path)
    assert problems == [f"sources 'a' and 'b' both read {tmp_path / 'link.csv'}; every row would be counted twice: "
                        "give each file to one source"]
    config = config_file(tmp_path, [{**s, "path": str(tmp_path / s["path"])} for s in sources])
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
    batch = read_rows(jsonl_file(tmp_path / "r.jsonl", [{"id": "r1", "date": value, "body": "配送が遅い"}]))
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
    batch = read_rows(path)  # a FIFO is never opened: this would hang
    assert reason in batch.quarantine["reason"].iloc[0] and "not found" not in batch.quarantine["reason"].iloc[0]
    sources = PipelineConfig.model_validate(pipeline([{"name": "a", "kind": "review", "path": str(path)}])).sources
    assert reason in check_sources(sources, tmp_path)[0]
