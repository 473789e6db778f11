"""Bad input, the kinds test_sources.py, test_dates.py and test_config.py do not cover already: each gives a
correct item or a quarantine row with a reason a person understands, and every row read is accounted for.

Covered elsewhere: CP932, UTF-8 with BOM, UTF-16 and invalid bytes, too many fields, embedded newlines and
quotes, whitespace-only text, a 1 MB text, unparsable and future dates, duplicate ids with another text, a
missing required column, an empty file (test_sources.py); dates without a zone in Asia/Tokyo (test_dates.py);
an unknown source kind in the config (test_config.py)."""

import io
import json
import zipfile

import pandas as pd
import pytest
from pydantic import ValidationError

from nlp.config import IngestConfig, SourceConfig
from nlp.sources import read_source

COLUMNS = {"source_id": "id", "created_at": "date", "rating": "stars", "text": "body"}
HEADER = "id,date,stars,body\n"
NOW = pd.Timestamp("2026-11-24", tz="UTC")


def _read(tmp_path, name: str, content: bytes | str, ingest: IngestConfig = IngestConfig()):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    src = SourceConfig(name="src", kind="review", path=str(path), columns=COLUMNS)
    batch = read_source(src, ingest, tmp_path, now=NOW)
    if batch.rows_read:
        assert batch.rows_read == len(batch.items) + batch.duplicates_in_file + len(batch.quarantine)
    return batch


def test_a_row_with_too_few_fields_is_quarantined(tmp_path):
    batch = _read(tmp_path, "r.csv", HEADER + "r1,2026-11-01,1\nr2,2026-11-01,2,配送が遅い\n")
    assert batch.items["source_id"].tolist() == ["r2"]
    assert batch.quarantine["reason"].tolist() == ["row has 3 fields, the header has 4"]
    assert "r1" in batch.quarantine["raw"].iloc[0]  # kept for a person to fix


@pytest.mark.parametrize("body, reason", [
    ("", "text is empty"),
    ("\u3000\t ", "text is empty"),  # full-width space and a tab
    ("<br><div></div>", "text is empty"),  # markup and nothing else
    ("😡", "text is too short ('😡')"),
])
def test_texts_with_nothing_to_read_are_quarantined(tmp_path, body, reason):
    batch = _read(tmp_path, "r.csv", HEADER + f'r1,2026-11-01,1,"{body}"\n')
    assert batch.items.empty and batch.quarantine["reason"].tolist() == [reason]


@pytest.mark.parametrize("body, text, lang", [
    ("<p>配送が<b>遅い</b></p><br>改善して", "配送が 遅い 改善して", "ja"),
    ("<script>alert(1)</script>箱が&lt;つぶれて&gt;いた", "箱が<つぶれて>いた", "ja"),
    ("<p>The box was <i>crushed</i></p>", "The box was crushed", "en"),
    # emoji and kaomoji alone are feedback too: kept, NFKC-normalised like every text, language "other"
    ("😡😡😡", "😡😡😡", "other"),
    ("(´;ω;`)", "( \u0301;ω;`)", "other"),
    ("(╯°□°)╯︵ ┻━┻ 🙏", "(╯°□°)╯( ┻━┻ 🙏", "other"),
])
def test_markup_is_stripped_and_emoji_or_kaomoji_alone_are_kept(tmp_path, body, text, lang):
    batch = _read(tmp_path, "r.jsonl", json.dumps({"id": "r1", "date": "2026-11-01", "stars": "1", "body": body},
                                                  ensure_ascii=False))
    assert batch.quarantine.empty
    assert batch.items["text"].tolist() == [text] and batch.items["lang"].tolist() == [lang]


@pytest.mark.parametrize("date, utc", [
    ("2026-07-01 10:00", "2026-07-01 14:00"),  # EDT
    ("2026/01/15 10:00", "2026-01-15 15:00"),  # EST
    ("2026年7月1日 10時", "2026-07-01 14:00"),
    ("2026-07-01T10:00:00+09:00", "2026-07-01 01:00"),  # a zone in the value wins over the config's
])
def test_dates_without_a_zone_are_read_in_the_configured_timezone(tmp_path, date, utc):
    batch = _read(tmp_path, "r.csv", HEADER + f"r1,{date},1,配送が遅い\n",
                  IngestConfig(timezone="America/New_York"))
    assert batch.items["created_at"].tolist() == [pd.Timestamp(utc, tz="UTC")]


def test_an_ambiguous_local_time_is_never_an_item_without_a_date(tmp_path):
    # 01:30 happens twice in New York on 2026-11-01 (clocks go back at 02:00)
    batch = _read(tmp_path, "r.csv", HEADER + "r1,2026-11-01 01:30,1,配送が遅い\n",
                  IngestConfig(timezone="America/New_York"))
    assert len(batch.items) == 1 and batch.quarantine.empty
    assert batch.items["created_at"].iloc[0] == pd.Timestamp("2026-11-01 05:30", tz="UTC")  # the first 01:30 (EDT)


def _xlsx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook>" + "<sheet/>" * 100 + "</workbook>")
    return out.getvalue()


CSV_TEXT = HEADER + "r1,2026-11-01,1,配送が遅い\nr2,2026-11-02,5,満足です\n"


@pytest.mark.parametrize("name, content, reason", [
    ("export.csv", _xlsx_bytes(), "cannot detect the text encoding"),  # an Excel workbook renamed .csv
    ("export.json", CSV_TEXT, "not valid JSON"),
    ("export.parquet", json.dumps([{"id": "r1"}]), "not a readable Parquet file"),
    ("export.xlsx", _xlsx_bytes(), "cannot tell the format from the extension '.xlsx'"),
])
def test_a_file_that_is_not_what_its_name_says_is_quarantined_as_a_whole(tmp_path, name, content, reason):
    batch = _read(tmp_path, name, content)
    assert batch.items.empty and batch.rows_read == 0
    assert len(batch.quarantine) == 1 and reason in batch.quarantine["reason"].iloc[0]
    assert name in batch.quarantine["reason"].iloc[0]  # says which file


def test_a_csv_named_jsonl_quarantines_every_line_it_read(tmp_path):
    batch = _read(tmp_path, "export.jsonl", CSV_TEXT)
    assert batch.items.empty and batch.rows_read == 3
    assert (batch.quarantine["reason"].str.startswith("line is not valid JSON")).all()


def test_json_in_a_csv_file_is_not_lost_silently(tmp_path):
    records = [{"id": "r1", "date": "2026-11-01", "stars": "1", "body": "配送が遅い"}]
    batch = _read(tmp_path, "export.csv", json.dumps(records, ensure_ascii=False))
    assert len(batch.items) + len(batch.quarantine) == 1  # read, or quarantined (the file as a whole), once


def test_a_header_only_file_has_nothing_to_lose(tmp_path):
    batch = _read(tmp_path, "r.csv", HEADER)
    assert batch.rows_read == 0 and batch.items.empty and batch.quarantine.empty


def test_an_unknown_source_kind_is_refused_naming_the_kinds():
    with pytest.raises(ValidationError, match="unknown source kind 'fax'; expected one of review, social"):
        SourceConfig(name="src", kind="fax", path="x.csv")


def test_a_quarantine_reason_never_quotes_pii(tmp_path):
    content = HEADER + ("r1,taro.yamada@example.com,1,列がずれた行\nr2,2026-11-01,090-1234-5678,列がずれた行\n")
    batch = _read(tmp_path, "r.csv", content)
    assert len(batch.quarantine) == 2
    reasons = " ".join(batch.quarantine["reason"])
    assert "taro.yamada@example.com" not in reasons and "090-1234-5678" not in reasons
