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
