"""Writing a report's files: each one to a temporary name, then renamed into place, so a reader (or a crash)
never sees a half-written file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def local_times(frame: pd.DataFrame, tz: str) -> pd.DataFrame:
    """``frame`` with its time-zone-aware columns in ``tz``."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_convert(tz)
    return out


def write_report_files(out_dir: Path, html: str, markdown: str, tables: dict[str, pd.DataFrame],
                       manifest: dict, report: dict) -> dict[str, str]:
    """Write report.html, report.md, report.json, <table>.csv (UTF-8 with a BOM, for Excel)/.json and
    manifest.json; return name -> path."""
    written = {}
    for name, text in (("report.html", html), ("report.md", markdown),
                       ("report.json", json.dumps(report, ensure_ascii=False, indent=1, default=str))):
        write_text_atomic(out_dir / name, text)
        written[name] = str(out_dir / name)
    for name, frame in tables.items():
        flat = frame.copy()
        for col in flat.columns:
            if flat[col].map(lambda v: isinstance(v, (list, dict))).any():
                flat[col] = flat[col].map(lambda v: json.dumps(v, ensure_ascii=False))
        # with a BOM: Excel (a Japanese one above all) reads a CSV without one in the system code page
        write_text_atomic(out_dir / f"{name}.csv", "\ufeff" + flat.to_csv(index=False))
        write_text_atomic(out_dir / f"{name}.json", frame.to_json(orient="records", force_ascii=False,
                                                                  date_format="iso", indent=1))
        written[f"{name}.csv"] = str(out_dir / f"{name}.csv")
    write_text_atomic(out_dir / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1, default=str))
    written["manifest.json"] = str(out_dir / "manifest.json")
    return written
