"""Segments: source columns kept with each item, the values a pain point is over-represented in (lift with a
significance test and a minimum count), metrics per segment and the "where to look" list; on the sample, the
planted login bug is found in app 3.2.0."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nlp.config import IngestConfig, SegmentsConfig, SourceConfig
from nlp.segments import segment_lift, segment_metrics, segment_values, where_to_look
from nlp.sources import read_source


def _read(tmp_path: Path, csv: str, segments: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    (tmp_path / "r.csv").write_text(csv, encoding="utf-8")
    source = SourceConfig(name="app", kind="review", path="r.csv", segments=segments,
                          columns={"source_id": "id", "created_at": "date", "text": "body"})
    batch = read_source(source, IngestConfig(), tmp_path)
    return batch.items, batch.quarantine


def test_segment_columns_are_kept_with_each_item_normalised_and_redacted(tmp_path):
    items, quarantine = _read(tmp_path, "id,date,body,os,ver\n"
                                        "1,2026-11-01,ログインできない,Ａｎｄｒｏｉｄ,3.2.0\n"
                                        "2,2026-11-01,届かない,iOS,\n"
                                        "3,2026-11-01,遅い,call 090-1234-5678,3.1\n",
                              {"device": "os", "app_version": "ver"})
    assert quarantine.empty
    seg = {i: json.loads(s) for i, s in zip(items["source_id"], items["segments"])}
    assert seg["1"] == {"app_version": "3.2.0", "device": "Android"}  # NFKC
    assert seg["2"] == {"device": "iOS"}  # an empty value is left out
    assert "090" not in seg["3"]["device"] and "[PHONE]" in seg["3"]["device"]


def test_a_segment_column_missing_from_the_file_is_named(tmp_path):
    items, quarantine = _read(tmp_path, "id,date,body\n1,2026-11-01,ログインできない\n", {"device": "os"})
    assert items.empty and quarantine["reason"].str.contains("segment 'device'").all()


def test_bad_segment_names_are_config_errors():
    with pytest.raises(ValueError, match="short identifiers"):
        SourceConfig(name="a", kind="review", path="r.csv", segments={"app version!": "v"})


def _scored(n_issue: int, android_in_issue: int, n_rest: int = 200, android_rest: int = 60) -> pd.DataFrame:
    rows = []
    for i in range(n_issue):
        rows.append((f"i{i}", "c1", "Android" if i < android_in_issue else "iOS"))
    for i in range(n_rest):
        rows.append((f"r{i}", "c2" if i % 2 else "c3", "Android" if i < android_rest else "iOS"))
    frame = pd.DataFrame(rows, columns=["item_id", "issue_id", "device"])
    frame["segments"] = [json.dumps({"device": d}) for d in frame.pop("device")]
    return frame


def test_lift_finds_the_over_represented_value_with_its_significance():
    lift = segment_lift(_scored(40, 36), SegmentsConfig())
    top = lift[lift["issue_id"] == "c1"].iloc[0]
    assert (top["segment"], top["value"], top["n"], top["issue_n"]) == ("device", "Android", 36, 40)
    assert top["lift"] == pytest.approx((36 / 40) / (60 / 200), rel=1e-3) and top["p_value"] < 1e-6
    # iOS is under-represented in c1: never listed for it
    assert not ((lift["issue_id"] == "c1") & (lift["value"] == "iOS")).any()


def test_lift_needs_its_minimum_count_and_significance():
    few = segment_lift(_scored(4, 4, android_rest=20), SegmentsConfig(min_count=5))
    assert not (few["issue_id"] == "c1").any()  # 4 Android items: below min_count although all of them
    assert (segment_lift(_scored(4, 4, android_rest=20), SegmentsConfig(min_count=4))["issue_id"] == "c1").any()
    # the same shares as the rest: no lift
    assert not (segment_lift(_scored(40, 12), SegmentsConfig())["issue_id"] == "c1").any()
    assert segment_lift(_scored(40, 36).assign(segments=None), SegmentsConfig()).empty


def test_segment_metrics_give_nps_and_csat_per_value():
    frame = pd.DataFrame({"item_id": list("abcdef"),
                          "segments": [json.dumps({"plan": p}) for p in ["pro"] * 3 + ["free"] * 3],
                          "nps": pd.array([10, 9, 10, 0, 3, 8], dtype="Float64"),
                          "csat": pd.array([5, 4, None, 1, 2, None], dtype="Float64")})
    got = segment_metrics(frame, 0.95).set_index(["value", "metric"])
    assert got.loc[("pro", "nps"), "score"] == 100 and got.loc[("free", "nps"), "score"] == pytest.approx(-66.67)
    assert got.loc[("pro", "csat"), "n"] == 2 and got.loc[("free", "csat"), "score"] == 0


def test_where_to_look_names_segments_co_occurring_issues_and_the_rise():
    scored = _scored(40, 36)
    scored["customer_id"] = pd.array([f"C{i % 30}" for i in range(len(scored))], dtype="string")
    scored["created_at"] = pd.Timestamp("2026-11-10", tz="UTC")
    days = pd.date_range("2026-11-01", periods=10).date
    daily = pd.DataFrame({"issue_id": "c1", "day": days, "count": [3] * 7 + [12, 15, 20],
                          "share": [0.02] * 7 + [0.08, 0.1, 0.12]})
    look = where_to_look(scored, segment_lift(scored, SegmentsConfig()), daily, "c1", SegmentsConfig())
    assert look["segments"][0]["value"] == "Android"
    assert {c["issue_id"] for c in look["co_occurring"]} <= {"c2", "c3"} and look["co_occurring"]
    assert look["rose_on"] == str(days[7])


def test_the_sample_finds_the_planted_login_bug_in_app_3_2_0(fresh_run):
    out = Path(fresh_run["summary"]["report"]).parent
    lift = pd.read_csv(out / "segment_lift.csv", encoding="utf-8-sig")
    clusters = pd.read_csv(out / "pain_points.csv", encoding="utf-8-sig")
    login = clusters[clusters["label"].str.contains("ログイン|login", case=False)]["issue_id"].tolist()
    assert login, "the sample's login issue is not a pain point"
    found = lift[lift["issue_id"].isin(login) & (lift["segment"] == "app_version")]
    assert (found["value"].astype(str) == "3.2.0").any(), lift.to_string()
    assert found["lift"].max() >= 1.5 and np.all(found["n"] >= 5)
    html = Path(fresh_run["summary"]["report"]).read_text(encoding="utf-8")
    assert "app_version = 3.2.0" in html and 'id="segments"' in html
    assert segment_values(pd.DataFrame({"item_id": ["x"], "segments": [None]})).empty
