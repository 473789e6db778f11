"""One PII and payload checker for everything a run leaves: every text column of every store table (the quarantine
included), every report file (html, md, csv, json) and the Prefect artifacts and log records. ``find_leaks``
returns one line per planted string (or payload) found, naming where; a test asserts the list is empty."""

from __future__ import annotations

import csv
import html
import io
import re
import unicodedata
from pathlib import Path

import duckdb

# markup that would run in a browser or a Markdown viewer, and spreadsheet formulas
PAYLOADS = re.compile(r"<\s*/?\s*(?:script|img|iframe|object|embed)\b|\bon(?:error|load|click|mouseover)\s*="
                      r"|javascript:", re.IGNORECASE)
_FORMULA = re.compile(r"^\s*[=+\-@]")
_NUMBER = re.compile(r"^\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*$")


def find_leaks(planted: list[str], store_path: Path, report_dir: Path, prefect: bool = True,
               extra: dict[str, str] | None = None) -> list[str]:
    """Where any of ``planted`` (as written, or decoded: entities, NFKC, no zero-width characters) or a payload
    appears. ``extra``: more texts to scan (name -> text), e.g. the captured console."""
    texts = {**_store_texts(store_path), **_report_texts(report_dir), **(extra or {})}
    if prefect:
        texts.update(_prefect_texts())
    needles = sorted({form for s in planted for form in (s, decode_text(s)) if form.strip()})
    leaks = []
    for where, text in texts.items():
        decoded = decode_text(text)
        leaks += [f"{where}: planted {n!r}" for n in needles if n in text or n in decoded]
        leaks += [f"{where}: payload {m.group(0)!r}" for m in PAYLOADS.finditer(text)]
        if where.endswith(".csv"):
            leaks += [f"{where}: formula cell {cell[:40]!r}" for cell in _csv_cells(text)
                      if _FORMULA.match(cell) and not _NUMBER.match(cell)]
    return leaks


def decode_text(text: str) -> str:
    """Entities decoded, NFKC, invisible format characters removed: the checker's own, not the code under test."""
    for _ in range(8):
        decoded = "".join(c for c in unicodedata.normalize("NFKC", html.unescape(text))
                          if unicodedata.category(c) != "Cf")
        if decoded == text:
            break
        text = decoded
    return text


def _store_texts(store_path: Path) -> dict[str, str]:
    out = {}
    with duckdb.connect(str(store_path), read_only=True) as con:
        columns = con.execute("SELECT table_name, column_name, data_type FROM information_schema.columns "
                              "WHERE table_schema = 'main'").fetchall()
        for table, column, kind in columns:
            if kind.startswith(("VARCHAR", "JSON")) or kind.endswith("[]") or kind.startswith(("STRUCT", "MAP")):
                values = con.execute(f'SELECT CAST("{column}" AS VARCHAR) FROM "{table}"').fetchall()
                out[f"store {table}.{column}"] = "\n".join(v for (v,) in values if v is not None)
    return out


def _report_texts(report_dir: Path) -> dict[str, str]:
    return {f"report {p.relative_to(report_dir)}": p.read_text(encoding="utf-8")
            for p in sorted(report_dir.rglob("*")) if p.is_file() and p.suffix in {".html", ".md", ".csv", ".json"}}


def _csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _prefect_texts() -> dict[str, str]:
    """Every artifact and log record of the Prefect API the tests run against (the harness's)."""
    from prefect.client.orchestration import get_client
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)  # the run's last records are sent in the background
    out: dict[str, list[str]] = {"prefect artifacts": [], "prefect logs": []}
    with get_client(sync_client=True) as client:
        for offset in range(0, 100_000, 200):
            page = client.read_artifacts(limit=200, offset=offset)
            out["prefect artifacts"] += [f"{a.key} {a.description} {a.data}" for a in page]
            if len(page) < 200:
                break
        for offset in range(0, 1_000_000, 200):
            page = client.read_logs(limit=200, offset=offset)
            out["prefect logs"] += [log.message for log in page]
            if len(page) < 200:
                break
    return {k: "\n".join(v) for k, v in out.items()}
