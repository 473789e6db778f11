"""The analysts' taxonomy: each edit (rename, merge, noise, split, stage, pinned issue) on frames, the file's
errors, and every edit holding on the sample across a delta run and a full fit, with a stale edit reported."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from nlp.cluster import OUTLIER
from nlp.taxonomy import (Taxonomy, TaxonomyError, apply_taxonomy, check_taxonomy, load_taxonomy, pin_items,
                          starting_file)
from tests.conftest import sample_config


def _frames():
    rows = [(f"a{i}", "c1", "delivery", "配送が遅い") for i in range(4)]
    rows += [(f"b{i}", "c2", "delivery", "late delivery") for i in range(3)]
    rows += [(f"d{i}", "c3", "payment", "カード決済が失敗" if i < 2 else "ポイントが使えない") for i in range(4)]
    rows += [("e0", "c4", "usage", "on fleek"), ("o0", OUTLIER, "usage", "?")]
    scored = pd.DataFrame(rows, columns=["item_id", "issue_id", "stage", "text"]).assign(lang="ja")
    clusters = pd.DataFrame({"issue_id": ["c1", "c2", "c3", "c4"], "space": "ja", "size": [4, 3, 4, 1],
                             "label": ["届く・遅い", "late / delivery", "決済・ポイント", "fleek"],
                             "keyphrases": [["届く"], ["late"], ["決済"], ["fleek"]], "verbatims": [[]] * 4})
    return scored, clusters


def test_each_edit_applies_and_a_stale_one_is_reported():
    taxonomy = Taxonomy.model_validate({"issues": {
        "c1": {"name_ja": "配送の遅れ", "name_en": "Late delivery", "stage": "shipping"},
        "c2": {"merge_into": "c1"},
        "c3": {"split": {"card": {"keywords": ["ｶｰﾄﾞ", "card"], "name_ja": "カード決済エラー"}}},
        "c4": {"noise": True},
        "gone-0001": {"name_ja": "もうない課題"},
    }})
    scored, clusters = _frames()
    got, named, report = apply_taxonomy(taxonomy, scored, clusters, {"c1", "c2", "c3", "c4"}, "ja")
    by_item = dict(zip(got["item_id"], got["issue_id"]))
    assert {by_item[f"b{i}"] for i in range(3)} == {"c1"} and "c2" not in set(named["issue_id"])  # merged
    assert named.set_index("issue_id").loc["c1", ["label", "size"]].tolist() == ["配送の遅れ", 7]
    assert set(got.loc[got["issue_id"] == "c1", "stage"]) == {"shipping"}  # its stage
    assert [by_item["d0"], by_item["d1"], by_item["d2"]] == ["c3/card", "c3/card", "c3"]  # split (NFKC keywords)
    assert named.set_index("issue_id").loc["c3/card", "label"] == "カード決済エラー"
    assert report == {"noise": ["c4"], "stale": ["gone-0001"]}
    english = apply_taxonomy(taxonomy, scored, clusters, set(), "en")[1].set_index("issue_id")
    assert english.loc["c1", "label"] == "Late delivery"


def test_noise_is_kept_but_never_ranked():
    from nlp.config import RankConfig
    from nlp.problems import issue_profiles

    scored, clusters = _frames()
    scored = scored.assign(sentiment=-0.8, centrality=0.9)
    profiles = issue_profiles(scored, clusters.set_index("issue_id")["space"], RankConfig(min_problem_share=0),
                              -0.2, noise={"c1"}).set_index("issue_id")
    assert profiles.loc["c1", "held_back"] == "noise" and profiles.loc["c2", "held_back"] == ""


def test_the_file_is_checked_with_errors_that_say_what_to_fix(tmp_path):
    assert load_taxonomy(None) == Taxonomy()
    with pytest.raises(TaxonomyError, match="koe taxonomy"):
        load_taxonomy(tmp_path / "none.yaml")
    bad = tmp_path / "t.yaml"
    bad.write_text("issues:\n  ja-0001: {rename: 配送}\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="issues.ja-0001.rename"):
        load_taxonomy(bad)
    bad.write_text("issues:\n  a: {merge_into: b}\n  b: {merge_into: a}\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="cycle"):
        load_taxonomy(bad)
    bad.write_text("pinned:\n  login: {name_ja: ログイン}\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="examples"):
        load_taxonomy(bad)
    edits = Taxonomy.model_validate({"issues": {"a": {"stage": "shiping"}}})
    assert check_taxonomy(edits, ["delivery"]) == [
        "taxonomy: a sets stage 'shiping', which is not a stage of the config (delivery)"]


def test_a_pinned_issue_takes_the_items_nearest_its_examples():
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.7, 0.7]])
    assigned = pd.DataFrame({"issue_id": [OUTLIER, "c1", "c2", "c1"], "centrality": [0.0, 0.999, 0.9, 0.5]})
    got = pin_items(assigned, vectors, np.array([[1.0, 0.0]]), ["pin-login"], 0.6)
    # the outlier joins; c1's item 1 is nearer its own centroid (0.999) than the example (0.994); item 2 is far; item 3
    # (0.71 to the example, 0.5 to its centroid) joins
    assert got["issue_id"].tolist() == ["pin-login", "c1", "c2", "pin-login"]
    assert got["centrality"].iloc[0] == pytest.approx(1.0)


def test_koe_taxonomy_prints_a_starting_file():
    states = pd.DataFrame({"issue_id": ["ja-0001", "en-0002"], "label": ["届く・遅い", "login"], "size": [40, 12],
                           "status": ["active", "dormant"]})
    text = starting_file(states, ["delivery", "usage"])
    parsed = yaml.safe_load(text)
    assert parsed == {"issues": {"ja-0001": {}, "en-0002": {}}, "pinned": {}}
    assert "# 届く・遅い (40 items, active)" in text and text.index("ja-0001") < text.index("en-0002")


def test_the_taxonomy_holds_across_a_delta_run_and_a_full_fit(sample_runs, tmp_path, prefect_harness):
    """On a copy of the sample's store (its full fit and delta run, conftest.sample_runs), the taxonomy made from
    its ranking holds in a delta run and in a full fit after it."""
    import shutil

    from flows.nightly import nightly

    shutil.copy(sample_runs["tmp"] / "koe.duckdb", tmp_path / "koe.duckdb")
    pain = pd.read_csv(sample_runs["second"]["files"]["pain_points.csv"], encoding="utf-8-sig")
    delivery = pain[pain["stage"] == "delivery"]["issue_id"].tolist()
    assert len(delivery) >= 2, pain[["stage", "issue_id", "label"]]
    keep, merged = delivery[0], delivery[1]
    others = pain[~pain["issue_id"].isin([keep, merged])]
    noise, split = others["issue_id"].iloc[0], others.iloc[1]
    word = json.loads(split["keyphrases"])[0]  # its own top keyphrase: some of its items hold it
    taxonomy = tmp_path / "taxonomy.yaml"
    taxonomy.write_text(yaml.safe_dump({
        "issues": {keep: {"name_ja": "配送の遅れ", "name_en": "Late delivery", "stage": "support"},
                   merged: {"merge_into": keep}, noise: {"noise": True},
                   split["issue_id"]: {"split": {"part": {"keywords": [word], "name_ja": "分けた課題"}}},
                   "ja-9999": {"name_ja": "なくなった課題"}},
        "pinned": {"login": {"name_ja": "ログインできない", "name_en": "Cannot log in", "stage": "usage",
                             "examples_ja": ["アプリを更新してからログインできない", "ログインするとエラーになる"],
                             "examples_en": ["I can't log in since the update", "login fails with an error"]}}},
        allow_unicode=True), encoding="utf-8")
    results = {}
    for run, extra in (("delta", {}), ("full", {"cluster": {"refit_every_days": 0}})):
        summary = nightly(str(sample_config(tmp_path, taxonomy={"path": str(taxonomy)}, **extra)))
        results[run] = summary
        out = Path(summary["files"]["pain_points.csv"]).parent
        ranked = pd.read_csv(out / "pain_points.csv", encoding="utf-8-sig")
        held = pd.read_csv(out / "held_back.csv", encoding="utf-8-sig")
        ids = set(ranked["issue_id"])
        assert merged not in ids and noise not in ids, run
        assert ranked.set_index("issue_id").loc[keep, ["label", "stage"]].tolist() == ["配送の遅れ", "support"], run
        metrics = pd.read_csv(out / "issue_metrics.csv", encoding="utf-8-sig")
        assert f"{split['issue_id']}/part" in set(metrics["issue_id"]), run  # the split is an issue of its own
        assert noise in set(held.loc[held["held_back"] == "noise", "issue_id"]), run
        pinned = ranked[ranked["issue_id"] == "pin-login"]
        assert len(pinned) == 1 and pinned["stage"].iloc[0] == "usage" and pinned["count"].iloc[0] >= 5, run
        stale = pd.read_csv(out / "taxonomy_stale.csv", encoding="utf-8-sig")
        assert stale["issue_id"].tolist() == ["ja-9999"], run
        assert "ja-9999" in (out / "report.html").read_text(encoding="utf-8")
    assert [results["delta"]["clustering"], results["full"]["clustering"]] == ["delta", "full"]
    manifest = json.loads(Path(results["full"]["files"]["manifest.json"]).read_text(encoding="utf-8"))
    assert manifest["config"]["taxonomy"]["path"] == str(taxonomy)


def test_a_merge_into_an_issue_absent_tonight_keeps_its_items_under_the_target():
    taxonomy = Taxonomy.model_validate({"issues": {"c2": {"merge_into": "c9"}}})
    scored, clusters = _frames()
    got, named, _ = apply_taxonomy(taxonomy, scored, clusters, {"c9"}, "ja")  # c9 known, not clustered tonight
    assert set(got.loc[got["item_id"].str.startswith("b"), "issue_id"]) == {"c9"}
    assert set(got["issue_id"]) - {OUTLIER} <= set(named["issue_id"])  # every issue has its row
