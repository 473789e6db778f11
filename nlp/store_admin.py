"""Looking after the store outside a run: `koe doctor` (what is there, is it readable, who holds the lock) and
`koe purge --source NAME` (delete one source's items and everything derived from them, recorded in ``runs``)."""

from __future__ import annotations

import fcntl
import json
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

from nlp.store import Store, StoreError, StoreLockedError

_TABLES = ("items", "quarantine", "embeddings", "runs", "assignments", "issues", "pending_issues", "issue_events",
           "clusters", "sentiment_heads")


def purge_source(store: Store, name: str, run_id: str, at: pd.Timestamp) -> dict[str, int]:
    """Delete every item and quarantine row of source ``name``, the run results of its items, the cached
    vectors no other item shares and the sentiment heads fitted on ratings, in one transaction recorded in
    ``runs`` (status 'purge'). Counts deleted.
    The caller holds the run lock."""
    mine = "SELECT content_hash FROM items WHERE source_name = ?"
    others = "SELECT content_hash FROM items WHERE source_name <> ?"
    steps = {
        "assignments": ("DELETE FROM assignments WHERE item_id IN (SELECT item_id FROM items WHERE source_name = ?)",
                        [name]),
        "embeddings": (f"DELETE FROM embeddings WHERE content_hash IN ({mine}) AND content_hash NOT IN ({others})",
                       [name, name]),
        "items": ("DELETE FROM items WHERE source_name = ?", [name]),
        "quarantine": ("DELETE FROM quarantine WHERE source_name = ?", [name]),
        # heads fitted on ratings may have learned from the source's items: all go, the next run fits afresh
        "sentiment_heads": ("DELETE FROM sentiment_heads", []),
    }
    with store.db.transaction() as con:
        counts = {table: int(con.execute(sql, params).fetchone()[0]) for table, (sql, params) in steps.items()}
        con.execute("INSERT INTO runs VALUES (?, ?, ?, 'purge', NULL, ?)",
                    [run_id, at.to_pydatetime(), at.to_pydatetime(),
                     json.dumps({"purged_source": name, "deleted": counts}, ensure_ascii=False)])
    return counts


def stored_sources(store: Store) -> list[str]:
    """The sources that have items or quarantined rows in the store."""
    if not store.path.exists():
        return []
    with store.db.connect(read_only=True) as con:
        rows = con.execute("SELECT source_name FROM items UNION SELECT source_name FROM quarantine "
                           "ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def inspect_store(store: Store) -> list[tuple[bool, str]]:
    """What `koe doctor` prints, as (ok, finding): the file, its directory, the lock, every table (each read
    through, so a damaged block shows) and the runs."""
    real = store.path.resolve()
    findings = [(True, f"store: {store.path}" + (f" (resolves to {real})" if real != store.path.absolute() else ""))]
    findings.append(writable_dir(real.parent))
    holder = lock_holder(store)
    if holder:
        return findings + [(True, f"lock: held by a run ({holder}); run `koe doctor` again after it ends")]
    findings.append((True, "lock: free (no run in progress)"))
    if not real.exists():
        return findings + [(True, "no store file yet: the first run creates it")]
    try:
        with store.db.connect(read_only=True) as con:
            findings += _table_findings(con)
    except (StoreError, StoreLockedError) as exc:
        findings.append((False, str(exc)))
    return findings


def lock_holder(store: Store) -> str | None:
    """Who holds the store's run lock (None when no one does); takes and releases it at once."""
    real = store.path.resolve()
    lock_path = real.with_name(real.name + ".lock")
    if not lock_path.exists():
        return None
    with open(lock_path, encoding="utf-8", errors="replace") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return fh.read().strip() or "another process"
        fcntl.flock(fh, fcntl.LOCK_UN)
    return None


def writable_dir(directory: Path) -> tuple[bool, str]:
    """Whether a file can be created in ``directory`` (created if missing; tried, not read from its mode bits,
    which root ignores)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".koe-write-check-"):
            pass
    except OSError as exc:
        return False, f"directory {directory}: not writable ({exc.strerror}); make it writable or change the path"
    return True, f"directory {directory}: writable"


def _table_findings(con: duckdb.DuckDBPyConnection) -> list[tuple[bool, str]]:
    have = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    missing = [t for t in _TABLES if t not in have]
    findings = [(not missing, "tables: all present" if not missing else
                 f"tables missing: {', '.join(missing)} (not a koe store? restore it from a backup)")]
    for table in (t for t in _TABLES if t in have):
        rows = con.execute(f"SELECT count(*) FROM {table} WHERE hash({table}) IS NOT NULL").fetchone()[0]
        findings.append((True, f"{table}: {rows} rows, all read"))
    if "runs" in have:
        runs = dict(con.execute("SELECT status, count(*) FROM runs GROUP BY status ORDER BY status").fetchall())
        findings.append((True, "runs: " + (", ".join(f"{n} {s}" for s, n in runs.items()) or "none yet")))
        if runs.get("running"):
            findings.append((True, "a run marked running holds no lock: it died; the next run marks it crashed"))
    return findings
