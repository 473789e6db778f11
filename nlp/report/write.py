"""Writing a report's files: the whole report into a new folder next to its target, each file to a temporary name
then renamed into place, and the folder swapped in whole at the end: a reader (or a crash, or a disk filling up)
never sees a half-written file, nor a folder mixing two runs."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd

# a cell a spreadsheet would run as a formula (=, +, -, @, also after a tab, a space or a line break)
_FORMULA = re.compile(r"^[\s]*[=+\-@]")


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
    manifest.json into ``out_dir`` (replacing
    what an earlier run wrote there, all at once); return name -> path."""
    staging = out_dir.parent / f".{out_dir.name}.new"
    shutil.rmtree(staging, ignore_errors=True)  # what a run killed while publishing left
    try:
        names = _write_files(staging, html, markdown, tables, manifest, report)
        _swap_in(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {name: str(out_dir / name) for name in names}


def _write_files(folder: Path, html: str, markdown: str, tables: dict[str, pd.DataFrame], manifest: dict,
                 report: dict) -> list[str]:
    folder.mkdir(parents=True)
    names = []
    for name, text in (("report.html", html), ("report.md", markdown),
                       ("report.json", json.dumps(report, ensure_ascii=False, indent=1, default=str))):
        write_text_atomic(folder / name, text)
        names.append(name)
    for name, frame in tables.items():
        flat = frame.copy()
        for col in flat.columns:
            if flat[col].map(lambda v: isinstance(v, (list, dict))).any():
                flat[col] = flat[col].map(lambda v: json.dumps(v, ensure_ascii=False))
        # with a BOM: Excel (a Japanese one above all) reads a CSV without one in the system code page
        write_text_atomic(folder / f"{name}.csv", "\ufeff" + neutralise_formulas(flat).to_csv(index=False))
        write_text_atomic(folder / f"{name}.json", frame.to_json(orient="records", force_ascii=False,
                                                                 date_format="iso", indent=1))
        names.append(f"{name}.csv")
    write_text_atomic(folder / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1, default=str))
    names.append("manifest.json")
    return names


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell a spreadsheet would read as a formula prefixed with ``'`` (CSV injection);
    a carriage return in a cell becomes a line feed (which the CSV writer quotes; a bare CR it does not)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(_neutral)
    return out


def _neutral(value: object) -> object:
    if not isinstance(value, str):
        return value
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return f"'{value}" if _FORMULA.match(value) else value


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Put the finished ``staging`` folder at ``out_dir``: the earlier folder is renamed aside first, then removed."""
    if not out_dir.exists():
        os.replace(staging, out_dir)
        return
    old = out_dir.parent / f".{out_dir.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    os.replace(out_dir, old)
    os.replace(staging, out_dir)
    shutil.rmtree(old, ignore_errors=True)
