"""The store's items (upserted by stable id, reused by source row hash) and quarantined rows."""

from __future__ import annotations

import pandas as pd

from nlp.schema import ITEM_COLUMNS, QUARANTINE_COLUMNS, stable_hash
from nlp.store.database import Database


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Items read from DuckDB with the canonical dtypes."""
    for col, (dtype, _) in ITEM_COLUMNS.items():
        frame[col] = frame[col].astype(dtype) if not dtype.startswith("datetime") else \
            pd.to_datetime(frame[col], utc=True).astype(dtype)
    return frame


class Items:
    """Items and quarantine (``store.items``)."""

    def __init__(self, db: Database):
        self.db = db

    def upsert(self, items: pd.DataFrame, run_id: str) -> tuple[int, int]:
        """Insert new items and update those that changed at the source (text, or e.g. a ticket resolved or a
        review answered since the last export); return (new, updated). The same rows again change nothing."""
        if items.empty:
            return 0, 0
        frame = items[list(ITEM_COLUMNS)].copy()
        frame["first_run_id"] = run_id
        frame["row_hash"] = items["row_hash"] if "row_hash" in items else None
        cols = [c for c in ITEM_COLUMNS if c != "item_id"]
        written = [*cols, "row_hash"]
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in written)
        differs = "({}) IS DISTINCT FROM ({})"
        with self.db.transaction() as con:
            con.register("incoming", frame)
            new, changed = con.execute(
                "SELECT count(*) FILTER (WHERE s.item_id IS NULL), count(*) FILTER (WHERE s.item_id IS NOT NULL AND "
                + differs.format(", ".join(f"s.{c}" for c in cols), ", ".join(f"i.{c}" for c in cols))
                + ") FROM incoming i LEFT JOIN items s USING (item_id)").fetchone()
            # a row that gives the same item by another row (e.g. a column koe does not read changed) updates
            # only the row_hash, and is not counted as changed
            con.execute(f"INSERT INTO items BY NAME SELECT * FROM incoming ON CONFLICT (item_id) DO UPDATE SET {updates} "
                        "WHERE " + differs.format(", ".join(f"items.{c}" for c in written),
                                                  ", ".join(f"EXCLUDED.{c}" for c in written)))
        return int(new), int(changed)

    def by_row_hash(self, hashes: list[str]) -> pd.DataFrame:
        """The stored items (with their row_hash) that these source rows gave as they are stored now."""
        with self.db.connect(read_only=True) as con:
            con.register("wanted", pd.DataFrame({"row_hash": pd.unique(pd.Series(hashes, dtype=object))}))
            frame = con.execute("SELECT i.* EXCLUDE (first_run_id) FROM items i SEMI JOIN wanted USING (row_hash)").df()
        return _typed(frame)[[*ITEM_COLUMNS, "row_hash"]].assign(row_hash=lambda f: f["row_hash"].astype("string"))

    def quarantine(self, rows: pd.DataFrame, run_id: str) -> int:
        """Add quarantined rows (keyed by source, path, row number, reason and raw text); return how many were new."""
        if rows.empty:
            return 0
        frame = rows[list(QUARANTINE_COLUMNS)].copy()
        frame.insert(0, "quarantine_id", [
            stable_hash(r.source_name, r.source_path, r.row_number, r.reason, r.raw) for r in frame.itertuples()
        ])
        frame["first_run_id"] = run_id
        frame = frame.drop_duplicates("quarantine_id")
        with self.db.transaction() as con:
            con.register("incoming", frame)
            before = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
            con.execute("INSERT INTO quarantine SELECT * FROM incoming ON CONFLICT DO NOTHING")
            return con.execute("SELECT count(*) FROM quarantine").fetchone()[0] - before

    def read(self, since: pd.Timestamp | None = None, until: pd.Timestamp | None = None) -> pd.DataFrame:
        """Items created in [since, until), ordered by item_id (deterministic)."""
        sql, params = "SELECT * EXCLUDE (first_run_id) FROM items WHERE 1=1", []
        if since is not None:
            sql, params = sql + " AND created_at >= ?", params + [since.to_pydatetime()]
        if until is not None:
            sql, params = sql + " AND created_at < ?", params + [until.to_pydatetime()]
        with self.db.connect(read_only=True) as con:
            frame = con.execute(sql + " ORDER BY item_id", params).df()
        return _typed(frame)[list(ITEM_COLUMNS)]

    def created_range(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """The oldest and newest item dates (UTC), without reading the items; None when there are none."""
        with self.db.connect(read_only=True) as con:
            first, last = con.execute("SELECT min(created_at), max(created_at) FROM items").fetchone()
        return None if first is None else (pd.Timestamp(first).tz_convert("UTC"), pd.Timestamp(last).tz_convert("UTC"))
