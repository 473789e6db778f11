"""The pipeline's middle in memory: hand-written items and results in, ReportTables and the Markdown report out,
with no store, no Prefect and no files (nlp.tables.report_tables, nlp.report.build_report, render_markdown).
Three issues over two weeks: a Japanese delivery delay that grows and is new this run, an English login bug and
an English praise issue; one outlier, a survey answer without a comment, and a ticket written by an NPS
detractor."""

import pandas as pd
import pytest

from nlp.config import load_config
from nlp.records import KnownIssues, ReportMeta
from nlp.report import build_report, render_markdown
from nlp.schema import conform
from nlp.tables import report_tables
from nlp.taxonomy import Taxonomy

DAY = pd.Timestamp("2026-03-16 10:00", tz="UTC")  # the run's newest item
LATE = ["配送が遅い", "荷物がまだ届かない", "配達が三日も遅れた", "配送が遅すぎる", "届くのが遅い", "まだ届かない"]
LOGIN = ["can't log in to the app", "login fails every time", "the app logs me out", "password reset never works"]
PRAISE = ["the driver was very kind", "great packaging", "fast and friendly", "love the new app", "kind staff"]

# (text, lang, issue, stage, sentiment, days before DAY, source kind)
ROWS = ([(t, "ja", "ja-0001", "delivery", -0.7, d, "review") for t, d in zip(LATE, (9, 3, 2, 1, 1, 0))]
        + [(t, "en", "en-0001", "usage", -0.6, d, "ticket") for t, d in zip(LOGIN, (12, 8, 5, 2))]
        + [(t, "en", "en-0002", "delivery", 0.8, d, "review") for t, d in zip(PRAISE, (13, 10, 6, 4, 1))]
        + [("what time do you open", "en", "outlier", "unassigned", 0.0, 3, "social")])


def _inputs():
    items = conform(pd.DataFrame({
        "item_id": [f"i{k:02d}" for k in range(len(ROWS))],
        "source_kind": [r[6] for r in ROWS], "source_name": [r[6] + "s" for r in ROWS],
        "created_at": [DAY - pd.Timedelta(days=r[5]) for r in ROWS], "text": [r[0] for r in ROWS],
        "content_hash": [f"h{k}" for k in range(len(ROWS))], "lang": [r[1] for r in ROWS],
        "rating": [1.0 if r[4] < 0 and r[6] == "review" else (5.0 if r[6] == "review" else None) for r in ROWS],
        "nps": [2.0 if r[2] == "en-0001" else None for r in ROWS],
        "customer_id": [f"c{k}" for k in range(len(ROWS))],
    }))
    assignments = pd.DataFrame({"item_id": items["item_id"], "issue_id": [r[2] for r in ROWS],
                                "centrality": 0.9, "stage": [r[3] for r in ROWS], "stage_score": 0.5,
                                "sentiment": [r[4] for r in ROWS]})
    clusters = pd.DataFrame({"issue_id": ["en-0001", "en-0002", "ja-0001"], "space": ["en", "en", "ja"],
                             "size": [4, 5, 6], "label": ["can't log in", "kind drivers", "配送が遅い"],
                             "keyphrases": [["login"], ["kind"], ["配送"]], "verbatims": [LOGIN[:2], PRAISE[:2], LATE[:2]],
                             "names": [{"ja": "ログインできない"}, {}, {"en": "delivery is late"}]})
    answers = conform(pd.DataFrame({"item_id": ["s01"], "source_kind": ["survey"], "source_name": ["surveys"],
                                    "created_at": [DAY - pd.Timedelta(days=1)], "text": [""], "lang": ["other"],
                                    "content_hash": ["h-s"], "nps": [10.0], "touchpoint": ["post-purchase"],
                                    "customer_id": ["c99"]}))
    events = pd.DataFrame({"run_id": ["r2"], "issue_id": ["ja-0001"], "event": ["new"], "related_issue": [None],
                           "detail": [""]})
    known = KnownIssues(events=events, labels=dict(zip(clusters["issue_id"], clusters["label"])),
                        radius={"en-0001": 0.3, "en-0002": 0.3, "ja-0001": 0.3}, first_run=False)
    stored = items[["item_id", "created_at", "source_kind"]].merge(assignments[["item_id", "issue_id", "stage",
                                                                                 "sentiment"]])
    return items, assignments, clusters, answers, known, stored


META = ReportMeta(run_id="r2", run_date="2026-03-16", n_items=len(ROWS), n_quarantined=0,
                  counts={"items": len(ROWS)}, by_kind={}, period_start="2026-03-03", period_end="2026-03-16",
                  koe_version="test", n_answers_only=1)


@pytest.fixture(scope="module")
def tables():
    cfg = load_config("configs/default.yaml")
    items, assignments, clusters, answers, known, stored = _inputs()
    before = [f.copy() for f in (items, assignments, clusters, answers)]
    out = report_tables(cfg, Taxonomy(), items, assignments, clusters, known, answers, {"i00", "i06"}, stored)
    for frame, copy in zip((items, assignments, clusters, answers), before):
        pd.testing.assert_frame_equal(frame, copy)  # pure: the inputs are left as they were
    return cfg, out


def test_pain_points_rank_the_complaints_under_their_stages_and_hold_the_praise_back(tables):
    _, t = tables
    pain = t.pain_points[["stage", "rank", "issue_id", "count", "negative_share"]]
    assert pain.to_dict(orient="list") == {"stage": ["delivery", "usage"], "rank": [1, 1],
                                           "issue_id": ["ja-0001", "en-0001"], "count": [6, 4],
                                           "negative_share": [1.0, 1.0]}
    assert t.pain_points["score"].between(0, 1).all()
    # the praise is an issue but not a pain point; the outlier is in no issue
    assert t.held_back[["issue_id", "held_back"]].values.tolist() == [["en-0002", "not_a_problem"]]
    assert len(t.scored) == len(ROWS)


def test_the_new_issue_is_an_alert_and_the_metrics_count_the_answer_without_a_comment(tables):
    _, t = tables
    alerts = t.alerts[["issue_id", "alert", "recent_count", "stage", "label"]].values.tolist()
    assert alerts == [["ja-0001", "new", 5, "delivery", "配送が遅い"]]  # 5 of its 6 items in the last 7 days
    overall = t.overall_metrics.set_index("metric")
    assert overall.loc["nps", "n"] == 5  # the 4 detractors' tickets and the answer without a comment
    assert overall.loc["rating", "n"] == 11 and overall.loc["rating", "value"] == pytest.approx(31 / 11, abs=0.005)


def test_the_followup_queue_puts_the_unresolved_tickets_first_and_marks_what_is_new(tables):
    _, t = tables
    queue = t.followup
    tickets = {f"i{k:02d}" for k in range(len(LATE), len(LATE) + len(LOGIN))}
    assert set(queue["item_id"].head(3)) <= tickets and (queue["reason"].head(3) == "unresolved").all()
    assert queue["priority"].is_monotonic_decreasing
    assert queue["new"].tolist() == [i not in {"i00", "i06"} for i in queue["item_id"]]
    praise_and_outlier = {f"i{k:02d}" for k in range(len(LATE) + len(LOGIN), len(ROWS))}
    assert not praise_and_outlier & set(queue["item_id"])


def test_the_markdown_report_names_the_stages_issues_and_verbatims_in_memory(tables):
    cfg, t = tables
    md = render_markdown(build_report(cfg, t, META))
    first = md.split("## 前回からの変化")[0]  # "what to act on first": the two pain points, delivery first
    assert first.index("**配送が遅い** — 配送: 6 件") < first.index("**can't log in** — 利用: 4 件")
    assert "| 新規 | 配送が遅い (`ja-0001`) | 配送 | 5 | 0 |" in md
    delivery = md.split("## 配送 (11 件")[1].split("\n## ")[0]
    assert "> 荷物がまだ届かない" in delivery and "kind drivers" not in delivery


def test_the_report_cuts_verbatims_and_followup_texts_where_its_section_says(tables):
    cfg, t = tables
    short = cfg.model_copy(update={"report": cfg.report.model_copy(update={"verbatim_chars": 4,
                                                                          "followup_chars": 2})})
    report = build_report(short, t, META)
    verbatims = [v["text"] for stage in report["stages"] for p in stage["pain_points"]
                 for v in p["all_verbatims"]["rows"]]
    assert verbatims and max(map(len, verbatims)) == 4
    assert report["followup"] and max(len(r["text"]) for r in report["followup"]) == 2
