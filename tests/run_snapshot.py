"""What a nightly run leaves behind (report files and store tables), for comparing two runs of the same input.

Only what differs by nature between two runs is made neutral, each by name: the run id, the run date (the day
the run happened), the temporary directory and the step timings; ``without_ingest_counts`` also the ingest
bookkeeping of a run that resumed another one's work (items new to the store, vectors newly embedded, a sentiment
head found in the store)."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pandas as pd

from nlp.config import load_config
from nlp.store import Store

_RUN_DATE = re.compile(r'"run_date": "\d{4}-\d{2}-\d{2}"')
_TIMINGS = re.compile(r'"timings_s": \{[^}]*\}')
# ingest counts that depend on what an earlier (killed) run already stored or embedded
_INGEST_COUNTS = re.compile(r'"(new_items|already_stored|updated_items|new_quarantined|reused_rows|embedded)": \d+')
# whether the sentiment head fitted on the store's ratings came from the store (an earlier run fitted it)
_HEAD_CACHED = re.compile(r'"cached": (?:true|false)')


def snapshot_run(config_path: Path, summary: dict) -> dict:
    """{"files": report file name -> text, "tables": store table -> frame} of the run in ``summary``."""
    cfg = load_config(config_path)
    out_dir = Path(summary["report"]).parent
    files = {p.name: _neutral(p.read_text(encoding="utf-8"), summary["run_id"], Path(config_path).parent)
             for p in sorted(out_dir.iterdir())}
    return {"files": files, "tables": _tables(Store(cfg.store.path), summary["run_id"])}


def without_ingest_counts(snapshot: dict) -> dict:
    files = {name: _HEAD_CACHED.sub('"cached": <cached>', _INGEST_COUNTS.sub(r'"\1": <n>', text))
             for name, text in snapshot["files"].items()}
    return {**snapshot, "files": files}


def assert_same_run(got: dict, expected: dict) -> None:
    assert sorted(got["files"]) == sorted(expected["files"])
    for name, text in expected["files"].items():
        diff = difflib.unified_diff(text.splitlines(), got["files"][name].splitlines(), "expected", "got", lineterm="")
        assert got["files"][name] == text, f"{name} differs:\n" + "\n".join(list(diff)[:30])
    assert sorted(got["tables"]) == sorted(expected["tables"])
    for name, frame in expected["tables"].items():
        pd.testing.assert_frame_equal(got["tables"][name], frame, obj=name)


def _neutral(text: str, run_id: str, tmp: Path) -> str:
    text = text.replace(run_id, "<run_id>").replace(str(tmp), "<tmp>")
    return _TIMINGS.sub('"timings_s": <timings>', _RUN_DATE.sub('"run_date": <run_date>', text))


def _tables(store: Store, run_id: str) -> dict[str, pd.DataFrame]:
    this_run = ("WHERE run_id = ?", [run_id])
    tables = {
        "items": store.table("items", "ORDER BY item_id").drop(columns="first_run_id"),
        "quarantine": store.table("quarantine", "ORDER BY quarantine_id").drop(columns="first_run_id"),
        "embeddings": store.table("embeddings", "ORDER BY model_key, content_hash"),
        "assignments": store.table("assignments", this_run[0] + " ORDER BY item_id", this_run[1]),
        "clusters": store.table("clusters", this_run[0] + " ORDER BY issue_id", this_run[1]),
        "issue_events": store.table("issue_events", this_run[0] + " ORDER BY issue_id, event", this_run[1]),
        "issues": store.table("issues", "ORDER BY issue_id"),
    }
    for name in ("assignments", "clusters", "issue_events"):
        tables[name] = tables[name].drop(columns="run_id")
    for col in ("first_seen_run", "last_seen_run", "label_history_json"):
        tables["issues"][col] = tables["issues"][col].str.replace(run_id, "<run_id>", regex=False)
    return tables
