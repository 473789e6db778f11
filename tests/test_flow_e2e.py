"""The nightly flow on the bundled sample under prefect_test_harness: real models, real HDBSCAN, real DuckDB."""

import json

import pandas as pd
import pytest

from nlp.config import load_config
from nlp.store import Store
from tests.conftest import REPO, sample_config

# strings planted in the sample (data/sample/generate.py) that must never reach the store or a report
SECRETS = ["taro.yamada@example.com", "jane.doe@example.org", "090-1234-5678", "03-5555-0123",
           "4111 1111 1111 1111", "415-555-0199", "150-0001"]
PLANTED = {  # stage -> words, one of which names the planted issue
    "delivery": ("届", "配送", "配達", "遅", "arrive", "late", "overdue"),
    "usage": ("ログイン", "log in", "sign in", "login"),
    "support": ("失礼", "態度", "横柄", "rude", "担当者", "オペレーター"),
}


@pytest.fixture(scope="module")
def runs(sample_runs):
    return sample_runs


def test_every_row_is_accounted_for(runs):
    s = runs["first"]
    assert s["rows_read"] == (s["new_items"] + s["updated_items"] + s["already_stored"] + s["duplicates_in_file"]
                              + s["quarantined"])
    assert s["quarantined"] == 7  # the malformed rows planted in the sample
    assert s["items"] + s["answers_only"] == s["new_items"] > 500
    surveys = pd.read_csv(REPO / "data" / "sample" / "surveys.csv")
    assert s["answers_only"] == surveys["コメント"].isna().sum() > 50  # survey answers without a comment are kept


def test_rerun_adds_nothing_and_embeds_nothing(runs):
    first, second = runs["first"], runs["second"]
    assert second["new_items"] == 0 and second["embedded"] == 0
    assert second["items"] == first["items"] and second["already_stored"] == first["new_items"]
    store = Store(load_config(runs["config"]).store.path)
    assert len(store.table("quarantine")) == first["quarantined"]


def test_second_run_is_a_delta_that_keeps_every_issue_id(runs):
    assert runs["first"]["clustering"] == "full" and runs["second"]["clustering"] == "delta"
    store = Store(load_config(runs["config"]).store.path)
    events = store.table("issue_events")
    assert set(events["run_id"]) == {runs["first"]["run_id"]}  # the second run changed nothing
    issues = store.table("issues")
    assert (issues["status"] == "active").all() and (issues["last_seen_run"] == runs["second"]["run_id"]).all()
    assert len(store.table("runs", "WHERE status <> 'completed'")) == 0


def test_same_input_same_ranking(runs):
    again = pd.read_csv(runs["second"]["files"]["pain_points.csv"])
    pd.testing.assert_frame_equal(runs["first_pain"], again)


def test_report_has_every_stage_and_the_planted_issues(runs):
    cfg = load_config(runs["config"])
    html = open(runs["second"]["report"], encoding="utf-8").read()
    for stage in cfg.stages.stages:
        assert stage.name_ja in html
    pain = runs["first_pain"]
    for stage, words in PLANTED.items():
        top = pain[(pain["stage"] == stage) & (pain["rank"] <= 3)]
        text = " ".join(top["label"]) + " " + " ".join(top["keyphrases"])
        assert any(w in text for w in words), (stage, top["label"].tolist())
    delivery = pain[(pain["stage"] == "delivery")]
    assert delivery["growth"].max() > 0.5  # the delay grows in the last weeks


def test_no_pii_anywhere(runs):
    cfg = load_config(runs["config"])
    store = Store(cfg.store.path)
    blobs = [" ".join(store.table("items")["text"]), " ".join(store.table("quarantine")["raw"]),
             " ".join(store.table("clusters")["verbatims_json"])]
    for summary in (runs["first"], runs["english"]):
        blobs += [open(p, encoding="utf-8").read() for p in summary["files"].values()]
    for secret in SECRETS:
        assert not any(secret in b for b in blobs), secret
    assert "[EMAIL]" in blobs[0] and "[PHONE]" in blobs[0]


def _pages(read) -> list:
    out = []
    while page := read(len(out)):
        out += page
    return out


def test_no_pii_in_prefect_logs_or_artifacts(runs):
    """What Prefect keeps of the runs (logs and artifacts, as its UI shows them) holds no PII either."""
    from prefect.client.orchestration import get_client
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=30)  # logs reach the API in batches
    with get_client(sync_client=True) as client:
        logs = _pages(lambda offset: client.read_logs(limit=200, offset=offset))
        artifacts = _pages(lambda offset: client.read_artifacts(limit=200, offset=offset))
    messages = "\n".join(log.message for log in logs)
    assert str(runs["tmp"]) in messages and "quarantined from" in messages  # these runs' logs were read
    assert {"koe-report", "koe-pain-points"} <= {a.key for a in artifacts}
    published = "\n".join(json.dumps([a.key, a.description, a.data], ensure_ascii=False, default=str)
                          for a in artifacts)
    for secret in SECRETS:
        assert secret not in messages, secret
        assert secret not in published, secret


def test_outputs_and_manifest(runs):
    files = runs["second"]["files"]
    for name in ("report.html", "report.md", "report.json", "pain_points.csv", "followup.csv", "manifest.json"):
        assert name in files
    manifest = json.load(open(files["manifest.json"], encoding="utf-8"))
    assert manifest["config"]["report"]["language"] == "ja"
    assert {"ingest", "embed", "cluster", "rank"} <= set(manifest["timings_s"])
    assert manifest["versions"]["spacy"].startswith("3.")
    # the sample's 472 rated items with text (stars, CSAT, NPS) fit its own sentiment head, found in the store
    # by the second run
    assert manifest["sentiment"]["head"] == "ratings" and manifest["sentiment"]["cached"]
    assert manifest["sentiment"]["n_ratings"] >= 200
    followup = pd.read_csv(files["followup.csv"])
    assert len(followup) > 0 and followup["priority"].is_monotonic_decreasing  # the work queue order
    html = open(files["report.html"], encoding="utf-8").read()
    assert "<script" not in html and "http" not in html.split("<body>")[1]  # self-contained


def test_english_rerender_from_store(runs):
    english = runs["english"]
    md = open(english["files"]["report.md"], encoding="utf-8").read()
    assert "## Summary" in md and "## Needs follow-up" in md and "## What to act on first" in md
    assert "Delivery" in md and "Support" in md
    assert english["run_id"] == runs["second"]["run_id"]
    # the re-render reads what the run read: its window (recorded in its summary), its items and survey answers
    assert english["window"] == runs["second"]["window"] and runs["second"]["window"][0] is not None
    assert (english["items"], english["answers_only"]) == (runs["second"]["items"], runs["second"]["answers_only"])
    assert english["answers_only"] > 0


def test_artifacts_are_published(runs):
    from prefect.artifacts import Artifact

    report = Artifact.get("koe-report")
    table = Artifact.get("koe-pain-points")
    assert report is not None and "配送" in report.data
    assert table is not None and "delivery" in str(table.data)


def test_weekly_backfill_flags_the_planted_issues(sample_backfill):
    """Replaying the sample's 8 weeks: the login bug (from 2026-11-02) is flagged new within two weekly runs,
    the delivery delay is flagged growing by the end, and the last report opens with what changed."""
    summary = sample_backfill["summary"]
    assert len(summary["replayed"]) == 8
    store = Store(str(sample_backfill["tmp"] / "koe.duckdb"))
    runs = store.table("runs", "WHERE status = 'completed' ORDER BY started_at")
    alerts = [(json.loads(r)["as_of"][:10], a["issue_id"], a["alert"]) for r in runs["summary_json"]
              for a in json.loads(r)["alerts"]]
    labels = dict(zip(store.table("issues")["issue_id"], store.table("issues")["label"]))
    login_new = [day for day, issue, alert in alerts if alert == "new" and "ログイン" in labels.get(issue, "")]
    assert login_new and "2026-11-02" <= login_new[0] <= "2026-11-16", alerts
    growing = {labels.get(issue, "") for day, issue, alert in alerts if alert == "growing" and day >= "2026-11-15"}
    assert any(w in label for label in growing for w in ("届", "配送")), growing
    report = open(summary["report"], encoding="utf-8").read()
    assert report.index("前回からの変化") < report.index("サマリー")


def test_an_empty_window_says_so_and_publishes_nothing(tmp_path, prefect_harness):
    from flows.nightly import nightly

    summary = nightly(str(sample_config(tmp_path)), since="2030-01-01")
    assert summary["items"] == 0 and summary["report"] is None
    assert Store(str(tmp_path / "koe.duckdb")).runs.latest_id() is None  # an empty run is not a completed one


def test_a_second_run_on_the_same_store_fails_at_once_with_a_clear_message(tmp_path, prefect_harness):
    from flows.nightly import nightly
    from nlp.store import StoreLockedError

    config = sample_config(tmp_path)
    store = Store(str(tmp_path / "koe.duckdb"))
    with store.run_lock():  # as if a run were in progress in another process
        with pytest.raises(StoreLockedError, match="another koe run"):
            nightly(str(config))
    assert not (tmp_path / "koe.duckdb").exists() or store.runs.latest_id() is None  # it wrote nothing


def test_cx_metrics_impact_followup_listening_and_abuse(runs):
    """The sample's surveys and ticket timings give metrics per stage with intervals, impact in the ranking,
    a follow-up queue without already-answered items, brand/competitor counts, and abusive tickets unquoted."""
    files = runs["first"]["files"]
    stage_metrics = pd.read_csv(files["stage_metrics.csv"])
    overall = pd.read_csv(files["overall_metrics.csv"]).set_index("metric")
    assert overall.loc["nps", "n"] == 240 and overall.loc["nps", "enough"]  # comments or not, every answer counts
    assert overall.loc["nps", "low"] < overall.loc["nps", "value"] < overall.loc["nps", "high"]
    delivery = stage_metrics[stage_metrics["stage"] == "delivery"].set_index("metric")
    assert delivery.loc["nps", "value"] < overall.loc["nps", "value"]  # detractors write about late parcels
    assert {"first_response_median_h", "fcr"} <= set(stage_metrics.loc[stage_metrics["enough"], "metric"])
    pain = runs["first_pain"]
    assert pain["impact_score"].max() == 1.0
    top_nps = pain.loc[pain["impact_nps"].idxmax()]
    assert top_nps["stage"] == "delivery" and any(w in top_nps["label"] for w in PLANTED["delivery"])
    followup = pd.read_csv(files["followup.csv"])
    items = Store(load_config(runs["config"]).store.path).table("items")
    answered = set(items.loc[items["answered"].fillna(False).astype(bool), "item_id"])
    assert answered and not answered & set(followup["item_id"])
    assert (followup["reason"] == "detractor").any() and followup["customer_id"].notna().mean() > 0.5
    listening = pd.read_csv(files["listening.csv"]).set_index("name")
    assert listening.loc["Shopira", "mentions"] >= 6 and listening.loc["KoeMart", "role"] == "brand"
    abuse = pd.read_csv(files["abuse.csv"])
    assert abuse["abusive"].sum() >= 6  # 8 planted, rule-based
    report = open(files["report.md"], encoding="utf-8").read()
    for phrase in ("給料泥棒", "ネットに晒してやる", "土下座"):  # abusive tickets are counted, never quoted
        assert phrase not in json.dumps(pain["verbatims"].tolist(), ensure_ascii=False)
        assert f"> {phrase}" not in report
    assert "顧客体験の指標" in report and "指標へのインパクト" in report and "ソーシャルリスニング" in report
