"""The typed records between the flow's steps: what ingest read (IngestSummary) and how a run summary keeps it."""

import json

from nlp.records import IngestSummary, SourceIngest


def _summary() -> IngestSummary:
    return IngestSummary({
        "reviews": SourceIngest(kind="review", rows_read=10, items=8, new_items=5, updated_items=1,
                                duplicates_in_file=1, quarantined=1, new_quarantined=1, encoding="cp932",
                                files={"a.csv": "ab12"}),
        "tickets": SourceIngest(kind="ticket", rows_read=4, items=0, first_reason="no text column"),
    })


def test_ingest_counts_add_up_over_sources_and_already_stored_is_what_was_neither_new_nor_changed():
    ingest = _summary()
    assert ingest.sources["reviews"].already_stored == 2
    assert ingest.counts() == {"rows_read": 14, "new_items": 5, "updated_items": 1, "already_stored": 2,
                               "duplicates_in_file": 1, "quarantined": 1}


def test_a_run_summary_keeps_what_ingest_read_and_gives_it_back():
    ingest = _summary()
    written = json.loads(json.dumps({"ingest": ingest.as_dict()}))  # as the runs table stores it
    assert list(written["ingest"]["reviews"]) == [
        "kind", "rows_read", "items", "new_items", "updated_items", "duplicates_in_file", "quarantined",
        "new_quarantined", "reused_rows", "already_stored", "encoding", "files", "first_reason"]
    assert IngestSummary.from_run_summary(written, stored=99) == ingest


def test_a_summary_from_before_koe_kept_ingest_gives_its_totals_as_one_source():
    old = IngestSummary.from_run_summary({"rows_read": 7, "quarantined": 2}, stored=5)
    assert list(old.sources) == ["(from store)"]
    assert old.counts() == {"rows_read": 7, "new_items": 0, "updated_items": 0, "already_stored": 5,
                            "duplicates_in_file": 0, "quarantined": 2}


def _stored(summary: dict):
    import pandas as pd

    from nlp.records import StoredRun

    t = lambda day: pd.Timestamp(f"2026-03-{day:02d} 09:00", tz="UTC")  # noqa: E731
    # a1, a4: answers without a comment before and after the analysed items; c2, c3 analysed; c5 not analysed
    items = pd.DataFrame({"item_id": ["a1", "c2", "c3", "a4", "c5"], "text": ["", "遅い", "late", "", "new"],
                          "created_at": [t(1), t(2), t(3), t(4), t(5)]})
    empty = pd.DataFrame()
    return StoredRun(run_id="r1", summary=summary, assignments=pd.DataFrame({"item_id": ["c2", "c3"]}),
                     clusters=empty, items=items, issues=empty, events=empty, first_run=True, seen_before=None,
                     history=empty)


def test_survey_answers_are_the_items_without_a_text_and_the_rest_keep_their_order():
    from nlp.analysis import survey_answers

    answers, commented = survey_answers(_stored({}).items)
    assert answers["item_id"].tolist() == ["a1", "a4"]
    assert commented["item_id"].tolist() == ["c2", "c3", "c5"]
    assert commented.index.tolist() == [0, 1, 2]


def test_a_rerender_takes_the_runs_analysed_items_and_every_answer_of_its_window():
    from nlp.analysis import run_items

    items, answers = run_items(_stored({"window": ["2026-02-28T00:00:00+00:00", None]}))
    assert items["item_id"].tolist() == ["c2", "c3"]  # c5 was stored but not analysed by the run
    assert answers["item_id"].tolist() == ["a1", "a4"]  # as the run split them: its whole window


def test_a_run_recorded_before_koe_kept_its_window_takes_the_answers_in_the_span_of_its_items():
    from nlp.analysis import run_items

    items, answers = run_items(_stored({}))
    assert items["item_id"].tolist() == ["c2", "c3"]
    assert answers.empty


def test_a_stored_run_knows_the_date_folder_of_its_report():
    assert _stored({"report": "reports/2026-03-05/report.html"}).report_date == "2026-03-05"
    assert _stored({"report": None}).report_date is None
