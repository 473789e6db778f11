import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nlp.config import IngestConfig, SourceConfig
from nlp.schema import ITEM_COLUMNS
from nlp.sources import read_source

REVIEWS = [
    {"id": "r1", "date": "2026-11-01 10:00", "stars": "1", "body": "配送が遅い。連絡先 taro@example.com"},
    {"id": "r2", "date": "2026年11月2日", "stars": "5", "body": "とても満足です"},
    {"id": "r3", "date": "2026/11/03 09:30", "stars": "2", "body": "The box arrived crushed"},
]
REVIEW_MAP = {"source_id": "id", "created_at": "date", "rating": "stars", "text": "body"}
INGEST = IngestConfig()


def _csv(path, rows, encoding):
    frame = pd.DataFrame(rows)
    path.write_bytes(frame.to_csv(index=False).encode(encoding))
    return path


def _read(path, kind="review", columns=REVIEW_MAP, **kw):
    src = SourceConfig(name="src", kind=kind, path=str(path), columns=columns, **kw)
    return read_source(src, INGEST, path.parent)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932", "utf-16"])
def test_csv_encodings_are_detected(tmp_path, encoding):
    batch = _read(_csv(tmp_path / "r.csv", REVIEWS, encoding))
    assert batch.quarantine.empty
    assert batch.items["text"].tolist()[1] == "とても満足です"
    assert batch.rows_read == 3


@pytest.mark.parametrize("fmt", ["json", "jsonl", "parquet"])
def test_other_formats(tmp_path, fmt):
    path = tmp_path / f"r.{fmt}"
    if fmt == "json":
        path.write_text(json.dumps(REVIEWS, ensure_ascii=False), encoding="utf-8")
    elif fmt == "jsonl":
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in REVIEWS), encoding="utf-8")
    else:
        pq.write_table(pa.Table.from_pylist(REVIEWS), path)
    batch = _read(path)
    assert len(batch.items) == 3 and batch.quarantine.empty


def test_items_have_the_canonical_schema_and_redacted_text(tmp_path):
    items = _read(_csv(tmp_path / "r.csv", REVIEWS, "utf-8")).items
    assert list(items.columns) == [*ITEM_COLUMNS, "row_hash"]  # the row each item came from
    assert "taro@example.com" not in " ".join(items["text"])
    assert "[EMAIL]" in items["text"].iloc[0]
    assert items["lang"].tolist() == ["ja", "ja", "en"]
    assert items["rating"].tolist() == [1, 5, 2]
    assert str(items["created_at"].dt.tz) == "UTC"


def test_ids_are_stable_across_reads_and_formats(tmp_path):
    a = _read(_csv(tmp_path / "a.csv", REVIEWS, "utf-8")).items["item_id"].tolist()
    b = _read(_csv(tmp_path / "b.csv", REVIEWS, "cp932")).items["item_id"].tolist()
    assert a == b and len(set(a)) == 3


def test_rows_without_an_id_get_a_content_id(tmp_path):
    rows = [{k: v for k, v in r.items() if k != "id"} for r in REVIEWS]
    mapping = {k: v for k, v in REVIEW_MAP.items() if k != "source_id"}
    first = _read(_csv(tmp_path / "a.csv", rows, "utf-8"), columns=mapping).items["item_id"].tolist()
    again = _read(_csv(tmp_path / "b.csv", rows, "utf-8"), columns=mapping).items["item_id"].tolist()
    assert first == again and len(set(first)) == 3


def test_duplicate_rows_in_a_file_are_counted_not_kept(tmp_path):
    batch = _read(_csv(tmp_path / "r.csv", REVIEWS + REVIEWS[:1], "utf-8"))
    assert len(batch.items) == 3 and batch.duplicates_in_file == 1


BAD_CSV = (
    "id,date,stars,body\n"
    "b1,2026-11-01,1,ok text here\n"
    "b2,2026-11-01,1,too,many,fields\n"
    "b3,2026-11-01,1,   \n"
    "b4,someday,1,date is bad\n"
    "b5,2026-11-01,9,rating out of range\n"
    "b6,2026-11-01,abc,rating not a number\n"
)


def test_bad_rows_go_to_quarantine_with_reasons(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    batch = _read(path)
    assert batch.items["source_id"].tolist() == ["b1"]
    reasons = batch.quarantine["reason"].tolist()
    assert len(reasons) == 5
    assert any("fields" in r for r in reasons)
    assert any("empty" in r for r in reasons)
    assert any("unparsable date" in r for r in reasons)
    assert any("outside 1-5" in r for r in reasons)
    assert any("not a number" in r for r in reasons)
    assert batch.rows_read == len(batch.items) + len(batch.quarantine)


def test_missing_required_column_quarantines_every_row_with_advice(tmp_path):
    batch = _read(_csv(tmp_path / "r.csv", REVIEWS, "utf-8"), columns={"created_at": "date", "text": "comment"})
    assert batch.items.empty and len(batch.quarantine) == 3
    assert "comment" in batch.quarantine["reason"].iloc[0]


@pytest.mark.parametrize("content, reason", [(b"", "empty"), (b"\x89PNG\r\n\x1a\n\x00\x00", "")])
def test_unreadable_files_are_quarantined(tmp_path, content, reason):
    path = tmp_path / "r.csv"
    path.write_bytes(content)
    batch = _read(path)
    assert batch.items.empty and len(batch.quarantine) >= 1
    assert reason in batch.quarantine["reason"].iloc[0]


def test_missing_file_is_quarantined_not_raised(tmp_path):
    batch = _read(tmp_path / "nope.csv")
    assert "no file matches" in batch.quarantine["reason"].iloc[0]


def test_ticket_joins_subject_and_body_and_maps_channel_and_times(tmp_path):
    rows = [{"番号": "T1", "受付": "2026年11月1日 10:00", "件名": "ログイン不可", "本文": "アプリにログインできません",
             "経路": "電話", "回答": "2026/11/01 12:00", "解決": "", "回数": "2", "再": "はい", "顧客": "C1"}]
    columns = {"source_id": "番号", "created_at": "受付", "subject": "件名", "text": "本文", "channel": "経路",
               "first_response_at": "回答", "resolved_at": "解決", "contact_count": "回数", "reopened": "再",
               "author": "顧客"}
    items = _read(_csv(tmp_path / "t.csv", rows, "cp932"), kind="ticket", columns=columns).items
    row = items.iloc[0]
    assert row["text"] == "ログイン不可 / アプリにログインできません"
    assert row["channel"] == "phone" and bool(row["reopened"]) and row["contact_count"] == 2
    assert pd.isna(row["resolved_at"])
    assert row["first_response_at"] - row["created_at"] == pd.Timedelta(hours=2)
    assert row["author_hash"] and row["author_hash"] != "C1"


def test_social_keeps_platform_and_reach(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"id": "s1", "t": "2026-11-01T10:00:00+09:00", "u": "@abc", "msg": "広告がしつこい",
                                "followers": 1200}, ensure_ascii=False) + "\n{broken\n", encoding="utf-8")
    batch = _read(path, kind="social", columns={"source_id": "id", "created_at": "t", "author": "u", "text": "msg",
                                                 "reach": "followers"}, platform="x")
    assert batch.items["platform"].tolist() == ["x"] and batch.items["reach"].tolist() == [1200]
    assert batch.quarantine["reason"].str.contains("not valid JSON").all()
    assert batch.rows_read == 2


@pytest.mark.parametrize("kind", ["ticket", "survey"])
def test_a_constant_channel_fills_a_file_without_a_channel_column(tmp_path, kind):
    path = _csv(tmp_path / "t.csv", [{"id": "t1", "date": "2026-11-01 10:00", "body": "返品の方法が分からない"}], "utf-8")
    batch = _read(path, kind=kind, columns={"source_id": "id", "created_at": "date", "text": "body"}, channel="メール")
    assert batch.items["channel"].tolist() == ["email"] and batch.quarantine.empty


def test_future_dates_are_quarantined(tmp_path):
    rows = REVIEWS + [{"id": "r9", "date": "2099-01-01 10:00", "stars": "3", "body": "未来の日付"}]
    batch = _read(_csv(tmp_path / "r.csv", rows, "utf-8"))
    assert batch.quarantine["reason"].str.contains("in the future").tolist() == [True]
    assert len(batch.items) == 3


def test_invalid_bytes_quarantine_only_their_row(tmp_path):
    good = "id,date,stars,body\nr1,2026-11-01,1,配送が遅い\n".encode("utf-8")
    path = tmp_path / "r.csv"
    path.write_bytes(good + b"r2,2026-11-01,1,broken \xff\xfe bytes\n" + "r3,2026-11-02,5,満足です\n".encode("utf-8"))
    batch = _read(path)
    assert batch.items["source_id"].tolist() == ["r1", "r3"]
    assert "not valid" in batch.quarantine["reason"].iloc[0]


def test_duplicate_id_with_a_different_text_is_quarantined(tmp_path):
    rows = REVIEWS + [{**REVIEWS[0], "body": "別の本文"}]
    batch = _read(_csv(tmp_path / "r.csv", rows, "utf-8"))
    assert len(batch.items) == 3 and batch.duplicates_in_file == 0
    assert "duplicate id 'r1'" in batch.quarantine["reason"].iloc[0]
    assert batch.rows_read == len(batch.items) + len(batch.quarantine)


def test_a_one_megabyte_text_is_kept_whole_and_tokenized(tmp_path):
    from nlp.tokenize import tokenize_texts

    big = "配送が遅い。" * 180_000  # ~1 MB in UTF-8
    batch = _read(_csv(tmp_path / "r.csv", [{**REVIEWS[0], "body": big}], "utf-8"))
    assert len(batch.items) == 1 and len(batch.items["text"].iloc[0]) == len(big)
    tokens = tokenize_texts(batch.items["text"].tolist(), ["ja"])
    assert "配送" in tokens[0].content


def test_embedded_newlines_and_quotes_survive(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text('id,date,stars,body\nr1,2026-11-01,2,"一行目\n二行目で ""引用"" あり"\n', encoding="utf-8")
    batch = _read(path)
    assert batch.items["text"].iloc[0] == '一行目 二行目で "引用" あり'


SURVEY_MAP = {"source_id": "回答ID", "created_at": "回答日時", "touchpoint": "タッチポイント", "nps": "NPS",
              "csat": "満足度", "ces": "CES", "text": "コメント", "customer_id": "顧客ID", "answered": "対応状況"}


def test_survey_answers_with_and_without_a_comment(tmp_path):
    rows = [
        {"回答ID": "Q1", "回答日時": "2026/11/01 10:00", "タッチポイント": "購入後アンケート", "NPS": "3", "満足度": "",
         "CES": "", "コメント": "配送が遅い。taro@example.com", "顧客ID": "C001", "対応状況": "対応済み"},
        {"回答ID": "Q2", "回答日時": "2026/11/01 11:00", "タッチポイント": "サポート後アンケート", "NPS": "",
         "満足度": "5", "CES": "6", "コメント": "", "顧客ID": "C002", "対応状況": ""},
        {"回答ID": "Q3", "回答日時": "2026/11/01 12:00", "タッチポイント": "購入後アンケート", "NPS": "11", "満足度": "",
         "CES": "", "コメント": "点数が範囲外", "顧客ID": "C003", "対応状況": ""},
        {"回答ID": "Q4", "回答日時": "2026/11/01 13:00", "タッチポイント": "購入後アンケート", "NPS": "", "満足度": "",
         "CES": "", "コメント": "", "顧客ID": "C004", "対応状況": ""},
    ]
    batch = _read(_csv(tmp_path / "s.csv", rows, "utf-8"), kind="survey", columns=SURVEY_MAP)
    items = batch.items.set_index("source_id")
    assert list(items.index) == ["Q1", "Q2"]
    assert items.loc["Q1", "nps"] == 3 and items.loc["Q1", "answered"] and items.loc["Q1", "customer_id"] == "C001"
    assert "[EMAIL]" in items.loc["Q1", "text"]
    # an answer without a comment is kept for the metrics, with an empty text
    assert items.loc["Q2", "text"] == "" and items.loc["Q2", "csat"] == 5 and items.loc["Q2", "ces"] == 6
    assert items.loc["Q2", "touchpoint"] == "サポート後アンケート" and pd.isna(items.loc["Q2", "answered"])
    reasons = batch.quarantine.sort_values("row_number")["reason"].tolist()
    assert reasons == ["nps 11 is outside 0-10", "text is empty"]
