"""Ingest a batch of rows at a time, and reuse of rows read before: the same items, quarantine and counts as
reading the whole file at once and parsing every row."""

import pandas as pd

from nlp.config import IngestConfig, SourceConfig
from nlp.sources import iter_source, read_source
from nlp.store import Store

NOW = pd.Timestamp("2026-11-24", tz="UTC")


def _rows(n: int) -> list[dict]:
    rows = [{"id": f"r{i:04d}", "date": f"2026-11-{1 + i % 20:02d}", "text": f"配送が遅い 注文番号 {i} の件"}
            for i in range(n)]
    rows[150] = dict(rows[20])  # an exact repeat of an id in a later batch
    rows[260] = {**rows[30], "text": "別の文章です"}  # the same id with another text, in a later batch
    rows[270] = {**rows[270], "date": "いつか"}  # a row that cannot be read
    rows[280] = {**rows[280], "date": "2026-12-24"}  # in the future (for a while)
    return rows


def _source(tmp_path, rows: list[dict], name="r.csv") -> SourceConfig:
    pd.DataFrame(rows).to_csv(tmp_path / name, index=False)
    return SourceConfig(name="r", kind="review", path=name, columns={"source_id": "id", "created_at": "date"})


def _ingest(store: Store, source: SourceConfig, tmp_path, now=NOW, batch_size=100) -> dict:
    counts = {"rows": 0, "items": 0, "new": 0, "updated": 0, "reused": 0, "dupes": 0, "quarantined": 0}
    for batch in iter_source(source, IngestConfig(batch_size=batch_size), tmp_path, now, store.items.by_row_hash):
        new, updated = store.items.upsert(batch.items, "run")
        store.items.quarantine(batch.quarantine, "run")
        for key, value in (("rows", batch.rows_read), ("items", len(batch.items)), ("new", new),
                           ("updated", updated), ("reused", batch.reused), ("dupes", batch.duplicates_in_file),
                           ("quarantined", len(batch.quarantine))):
            counts[key] += value
    return counts


def test_batches_give_what_the_whole_file_gives(tmp_path):
    source = _source(tmp_path, _rows(320))
    whole = read_source(source, IngestConfig(batch_size=10_000), tmp_path, NOW)
    parts = list(iter_source(source, IngestConfig(batch_size=100), tmp_path, NOW))
    assert [p.rows_read for p in parts] == [100, 100, 100, 20]
    pd.testing.assert_frame_equal(pd.concat([p.items for p in parts], ignore_index=True), whole.items)
    batched = pd.concat([p.quarantine for p in parts], ignore_index=True)
    assert sorted(batched["reason"]) == sorted(whole.quarantine["reason"])
    assert sum(p.duplicates_in_file for p in parts) == whole.duplicates_in_file == 1
    assert len(whole.items) + whole.duplicates_in_file + len(whole.quarantine) == 320
    assert any("with a different text" in r for r in batched["reason"])


def test_unchanged_rows_are_reused_and_change_nothing(tmp_path):
    source, store = _source(tmp_path, _rows(320)), Store(tmp_path / "s.duckdb")
    first = _ingest(store, source, tmp_path)
    stored = store.table("items").sort_values("item_id", ignore_index=True)
    again = _ingest(store, source, tmp_path)
    # the repeat of a row in a later batch is the row stored by an earlier one
    assert first["reused"] == 1 and first["new"] == first["items"] == 316
    # every row that became an item is reused, the repeat too; the conflict and the bad rows are read again
    assert again == {**first, "new": 0, "reused": 317}
    pd.testing.assert_frame_equal(store.table("items").sort_values("item_id", ignore_index=True), stored)


def test_a_changed_row_is_parsed_again_and_updates_its_item(tmp_path):
    rows, store = _rows(320), Store(tmp_path / "s.duckdb")
    _ingest(store, _source(tmp_path, rows), tmp_path)
    rows[5] = {**rows[5], "text": "ログインできない"}
    counts = _ingest(store, _source(tmp_path, rows), tmp_path)
    assert counts["updated"] == 1 and counts["reused"] == 316 and counts["new"] == 0
    assert (store.items.read()["text"] == "ログインできない").sum() == 1
    # and back: the old row is not taken for the item as it is stored now
    counts = _ingest(store, _source(tmp_path, _rows(320)), tmp_path)
    assert counts["updated"] == 1 and (store.items.read()["text"] == "ログインできない").sum() == 0


def test_a_row_quarantined_for_now_becomes_an_item_later(tmp_path):
    source, store = _source(tmp_path, _rows(320)), Store(tmp_path / "s.duckdb")
    _ingest(store, source, tmp_path)
    later = _ingest(store, source, tmp_path, now=pd.Timestamp("2026-12-25", tz="UTC"))
    assert later["new"] == 1 and later["quarantined"] == 2  # the conflict and the unreadable date stay


def test_a_change_in_how_rows_are_read_parses_every_row_again(tmp_path):
    source, store = _source(tmp_path, _rows(320)), Store(tmp_path / "s.duckdb")
    _ingest(store, source, tmp_path)
    source = source.model_copy(update={"columns": {**source.columns, "rating": "id"}})  # now a bad mapping
    counts = _ingest(store, source, tmp_path)
    assert counts["reused"] == 0 and counts["quarantined"] == 320


def test_a_file_larger_than_a_read_chunk_streams_in_cp932(tmp_path):
    text = "返品の手続きがわかりにくい。" * 6  # two-byte characters across the 1 MiB read boundaries
    rows = [{"id": i, "date": "2026-11-01", "text": f"{text}{i}"} for i in range(12_000)]
    path = tmp_path / "big.csv"
    path.write_bytes(pd.DataFrame(rows).to_csv(index=False).encode("cp932"))
    assert path.stat().st_size > 2 * (1 << 20)
    source = SourceConfig(name="big", kind="review", path="big.csv", columns={"source_id": "id", "created_at": "date"})
    batch = read_source(source, IngestConfig(batch_size=5000), tmp_path, NOW)
    assert batch.encoding == "cp932" and batch.quarantine.empty and len(batch.items) == 12_000
    assert batch.items["text"].str.startswith(text).all()
