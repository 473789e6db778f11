"""Issue 20's payload attacks: escaped markup and text taken for markup, zero-width texts, the quarantine in any
spelling, CSV cells a spreadsheet would run, a report folder that a full disk left mixing two runs, and one small
flow run end to end scanned by tests/pii_checker.py (the PII classes themselves: tests/test_attack_pii.py)."""

import errno
import json
import os
import types

import pandas as pd
import pytest
import yaml

import nlp.report.write as report_write
from nlp.config import IngestConfig, SourceConfig
from nlp.normalize import normalize_text
from nlp.sources import read_source
from nlp.store import Store
from tests.attack_common import NOW
from tests.pii_checker import find_leaks


# ---- payloads --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("&lt;script&gt;alert(1)&lt;/script&gt;本文", "本文"),  # decoded before tags are stripped
    ("&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;本文", "本文"),
    ("＜img src=x onerror=alert(1)＞本文", "本文"),
    ("本文<img src=x onerror=alert(1)", "本文"),  # left open at the end
    ("<scr\u200bipt>alert(1)</script>本文", "本文"),
    ("<<b>script>alert(1)<</b>/script>本文", "本文"),
    ("送料‹無料>です", "送料‹無料>です"),  # not markup: kept (this one held before too)
    ("送料<無料>です", "送料<無料>です"),
    ("<$10 off > today", "<$10 off > today"),
    ("ありがとう<(_ _)>", "ありがとう<(_ _)>"),
    ("I <3 it, 1 < 2 > 0", "I <3 it, 1 < 2 > 0"),
])
def test_escaped_markup_is_stripped_and_text_that_is_not_markup_is_kept(raw, expected):
    assert normalize_text(raw) == expected


def test_a_text_of_zero_width_characters_is_quarantined_not_an_item(tmp_path):
    path = tmp_path / "r.jsonl"
    rows = [{"id": "z", "date": "2026-11-01", "body": "\u200b\u200b\u200d\ufeff\u2060"},
            {"id": "ok", "date": "2026-11-01", "body": "配送が遅い"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    src = SourceConfig(name="s", kind="review", path=str(path),
                       columns={"source_id": "id", "created_at": "date", "text": "body"})
    batch = read_source(src, IngestConfig(), tmp_path, now=NOW)
    assert batch.items["source_id"].tolist() == ["ok"]
    assert batch.quarantine["reason"].tolist() == ["text is empty"]


def test_the_quarantine_keeps_no_pii_in_any_spelling(tmp_path):
    path = tmp_path / "r.csv"
    body = "０９０－５５５５－１２１２ ｑｒｎｑ＠ｅｘａｍｐｌｅ．ｃｏｍ 〒１６０－０１２３ junq&#64;example.com 田中様"
    path.write_text(f"id,date,body\nq1,not a date,{body}\nq2,{body},配送が遅い\n", encoding="utf-8")
    src = SourceConfig(name="s", kind="review", path=str(path),
                       columns={"source_id": "id", "created_at": "date", "text": "body"})
    batch = read_source(src, IngestConfig(), tmp_path, now=NOW)
    assert len(batch.quarantine) == 2 and batch.items.empty
    kept = " ".join(batch.quarantine["raw"]) + " ".join(batch.quarantine["reason"])
    for secret in ("5555-1212", "qrnq", "160-0123", "junq", "田中"):
        assert secret not in kept, kept
    assert "[PHONE]" in kept and "[EMAIL]" in kept and "[POSTCODE]" in kept


# ---- report files ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cell", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=HYPERLINK(\"x\")", " =1", "\r=1", "\n@x"])
def test_csv_cells_a_spreadsheet_would_run_are_neutralised(cell, tmp_path):
    frame = pd.DataFrame({"text": [cell, "普通の文"], "score": [-0.5, 0.25]})
    report_write.write_report_files(tmp_path / "r", "<p>x</p>", "# x", {"t": frame}, {}, {})
    got = pd.read_csv(tmp_path / "r" / "t.csv")
    written = "'" + cell.replace("\r", "\n")  # a bare CR would end the CSV row: it is written as a line feed
    assert got["text"].tolist() == [written, "普通の文"] and got["score"].tolist() == [-0.5, 0.25]
    assert json.loads((tmp_path / "r" / "t.json").read_text(encoding="utf-8"))[0]["text"] == cell  # data as is


def test_a_disk_filling_up_while_publishing_leaves_the_last_whole_report(tmp_path, monkeypatch):
    out = tmp_path / "reports" / "2026-11-24"
    tables = {"followup": pd.DataFrame({"text": ["first run"]}), "alerts": pd.DataFrame({"a": [1]})}
    report_write.write_report_files(out, "<p>run 1</p>", "# run 1", tables, {"run": 1}, {"run": 1})
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    calls = []

    def replace(src, dst):  # the fourth file finds the disk full
        calls.append(dst)
        if len(calls) == 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        os.replace(src, dst)

    proxy = types.ModuleType("os")
    proxy.__dict__.update(os.__dict__)
    proxy.replace = replace
    monkeypatch.setattr(report_write, "os", proxy)
    second = {"followup": pd.DataFrame({"text": ["second run"]}), "alerts": pd.DataFrame({"a": [2]})}
    with pytest.raises(OSError, match="No space"):
        report_write.write_report_files(out, "<p>run 2</p>", "# run 2", second, {"run": 2}, {"run": 2})
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # run 1, whole, nothing of run 2
    assert sorted(os.listdir(out.parent)) == [out.name]  # nor a half-written folder beside it
    monkeypatch.setattr(report_write, "os", os)
    report_write.write_report_files(out, "<p>run 2</p>", "# run 2", second, {"run": 2}, {"run": 2})
    assert (out / "report.md").read_text(encoding="utf-8") == "# run 2"
    assert sorted(os.listdir(out.parent)) == [out.name]


# ---- one small run end to end, scanned by the checker ----------------------------------------------------------

PLANTED = [  # (ticket text, customer id, strings that must appear nowhere)
    ("電話は090ー2718ー2818です。至急折り返してください", "c01", ["2718ー2818", "2718-2818"]),
    ("携帯 080−3141−5926 まで連絡ください", "c02", ["3141−5926", "3141-5926"]),
    ("代表（03）4455-6677 に電話しても繋がらない", "c03", ["4455-6677"]),
    ("番号0345678912に電話ください", "c04", ["0345678912"]),
    ("返信は山田太郎@例え.jp にお願いします", "c05", ["山田太郎@", "例え.jp"]),
    ("宛先は taro.split@\nexample.com です", "c06", ["taro.split"]),
    ("宛先は taro.zw\u200bsp@example.com です", "c07", ["taro.zwsp", "taro.zw\u200bsp"]),
    ("hanakoq&#64;example.org へ返信を", "c08", ["hanakoq"]),
    ("jiroq＠example.net へ返信を", "c09", ["jiroq"]),
    ("カード 4111.1111.1111.1111 で決済できない", "c10", ["1111.1111.1111"]),
    ("ログイン https://admin:hunter2pw@portal.example.com/login できない", "c11", ["hunter2pw"]),
    ("リセット shop.example.com/reset?token=s3cr3tt0ken が切れている", "c12", ["s3cr3tt0ken"]),
    ("お問い合わせは@kana_handle99まで", "c13", ["kana_handle99"]),
    ("マイナンバー 9876 5432 1093 を送ってしまいました", "c14", ["9876 5432 1093", "5432 1093"]),
    ("住所は東京都渋谷区神宮前4-5-6です、届かない", "c15", ["神宮前4-5-6"]),
    ("IP 203.0.113.77 と 2001:db8::77ab から不正アクセス", "c16", ["203.0.113.77", "2001:db8::77ab"]),
    ("担当の佐々木様に伝えてください。お客様、皆様", "c17", ["佐々木"]),
    ("&lt;script&gt;alert('koe')&lt;/script&gt;配送が遅い ＜img src=x onerror=alert(2)＞", "c18", []),
    ('=HYPERLINK("http://evil.example","click") 送料‹無料> <(_ _)> <$10 off >', "@SUM(1+1)", []),
    ("\u200b\u200b\u200b", "c20", []),  # zero-width only: quarantined
    ("届かないので連絡ください", "taro.customer@example.com", ["taro.customer"]),
]


FILLER = ["荷物が届かない", "配送が遅い", "荷物がまだ届きません", "配送が遅すぎる", "届くのが遅い", "配達が遅れている",
          "注文した商品が届かない", "配送状況が更新されない", "荷物が来ない", "配送が三日遅れた", "まだ届かないです",
          "配達予定日を過ぎても届かない"]


def test_one_run_leaves_no_planted_string_or_payload_anywhere(tmp_path, prefect_harness, capfd):
    from flows.nightly import nightly

    rows = [{"id": f"t{i:02d}", "date": f"2026-11-{10 + i % 15:02d} 10:00", "body": text, "customer": customer}
            for i, (text, customer, _) in enumerate(PLANTED)]
    rows += [{"id": f"f{i:02d}", "date": f"2026-11-{10 + i:02d} 09:00", "body": text, "customer": f"f{i:02d}"}
             for i, text in enumerate(FILLER)]  # so that the run finds an issue (a run with none: see the report)
    rows.append({"id": "bad", "date": "not a date", "customer": "c99",
                 "body": "０９０－５５５５－１２１２ ｑｒｎｑ＠ｅｘａｍｐｌｅ．ｃｏｍ 〒１６０－０１２３ junq&#64;example.com"})
    pd.DataFrame(rows).to_csv(tmp_path / "tickets.csv", index=False)
    raw = {"sources": [{"name": "desk", "kind": "ticket", "path": str(tmp_path / "tickets.csv"),
                        "columns": {"source_id": "id", "created_at": "date", "text": "body",
                                    "customer_id": "customer"}}],
           "stages": {"stages": [{"key": "delivery", "name_ja": "配送", "name_en": "Delivery",
                                  "examples_ja": ["届かない", "配送が遅い"]}]},
           "cluster": {"min_cluster_size": 4, "min_samples": 2, "min_items": 5},
           "store": {"path": str(tmp_path / "koe.duckdb")}, "report": {"out_dir": str(tmp_path / "reports")}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    summary = nightly(str(tmp_path / "config.yaml"))

    secrets = [s for _, _, found in PLANTED for s in found] + ["5555-1212", "qrnq", "160-0123", "junq"]
    console = capfd.readouterr()
    leaks = find_leaks(secrets, tmp_path / "koe.duckdb", tmp_path / "reports",
                       extra={"console": console.out + console.err})
    assert not leaks, "\n".join(leaks)
    store = Store(tmp_path / "koe.duckdb")
    texts = " ".join(store.table("items")["text"])
    for kept in ("[PHONE]", "[EMAIL]", "[CARD]", "[MYNUMBER]", "[URL]", "[HANDLE]", "[ADDRESS]", "[IP]", "[NAME]様",
                 "お客様", "皆様", "送料‹無料>", "<(_ _)>", "<$10 off >", "配送が遅い"):
        assert kept in texts, kept
    quarantine = store.table("quarantine")
    assert sorted(quarantine["reason"]) == ["created_at: unparsable date", "text is empty"]
    followup = pd.read_csv(summary["files"]["followup.csv"])
    assert followup["customer_id"].isin(["'@SUM(1+1)"]).any()
    assert followup["text"].str.startswith("'=HYPERLINK").any()
