"""The DuckDB store: items, quarantine, the embedding cache, runs and each run's results.

Every write happens in one transaction; item and quarantine upserts are idempotent (keyed by stable ids)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from nlp.records import PriorRun
from nlp.schema import ITEM_COLUMNS, QUARANTINE_COLUMNS, stable_hash

_SQL_TYPES = {
    "string": "VARCHAR", "datetime64[us, UTC]": "TIMESTAMPTZ", "Float64": "DOUBLE", "boolean": "BOOLEAN",
}

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS items (
    {", ".join(f"{c} {_SQL_TYPES[t]}" for c, (t, _) in ITEM_COLUMNS.items())},
    first_run_id VARCHAR,
    row_hash VARCHAR,  -- the source row that gave the item as stored (nlp.sources: an unchanged row is reused)
    PRIMARY KEY (item_id)
);
CREATE TABLE IF NOT EXISTS quarantine (
    quarantine_id VARCHAR PRIMARY KEY,
    {", ".join(f"{c} {'INTEGER' if c == 'row_number' else 'VARCHAR'}" for c in QUARANTINE_COLUMNS)},
    first_run_id VARCHAR
);
CREATE TABLE IF NOT EXISTS embeddings (
    content_hash VARCHAR, model_key VARCHAR, dim INTEGER, vector BLOB,
    PRIMARY KEY (content_hash, model_key)
);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, status VARCHAR,
    config_json VARCHAR, summary_json VARCHAR
);
CREATE TABLE IF NOT EXISTS assignments (
    run_id VARCHAR, item_id VARCHAR, cluster_id VARCHAR, centrality DOUBLE, stage VARCHAR, stage_score DOUBLE,
    sentiment DOUBLE,
    PRIMARY KEY (run_id, item_id)
);
CREATE TABLE IF NOT EXISTS issues (
    issue_id VARCHAR PRIMARY KEY, space VARCHAR, label VARCHAR, keyphrases_json VARCHAR, size INTEGER,
    status VARCHAR, first_seen_run VARCHAR, last_seen_run VARCHAR, first_seen_at TIMESTAMPTZ,
    last_seen_at TIMESTAMPTZ, label_history_json VARCHAR, centroid BLOB, radius DOUBLE,
    model_key VARCHAR  -- the embedder (its cache key) whose vectors made the centroid and radius
);
-- a run's issue states wait here until the run completes, so a run that dies midway changes no issue
CREATE TABLE IF NOT EXISTS pending_issues AS SELECT NULL::VARCHAR AS run_id, * FROM issues LIMIT 0;
CREATE TABLE IF NOT EXISTS issue_events (
    run_id VARCHAR, issue_id VARCHAR, event VARCHAR, related_issue VARCHAR, detail VARCHAR
);
-- sentiment heads fitted on a store's own ratings, keyed by the hash of the rated texts, labels and fit
CREATE TABLE IF NOT EXISTS sentiment_heads (
    head_key VARCHAR PRIMARY KEY, n_ratings INTEGER, weights BLOB
);
CREATE TABLE IF NOT EXISTS clusters (
    run_id VARCHAR, cluster_id VARCHAR, lang VARCHAR, size INTEGER, label VARCHAR, keyphrases_json VARCHAR,
    verbatims_json VARCHAR, PRIMARY KEY (run_id, cluster_id)
);
"""


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                                      [table]).fetchall()}


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    """A store written by an older koe gets the item columns added since (empty for its old rows), and its issue
    states a model_key (NULL for the old ones: a model nobody knows, so the next run refits in full and keeps
    their ids by member overlap, nlp.issues.match_issues)."""
    for table in ("issues", "pending_issues"):
        if "model_key" not in _columns(con, table):
            con.execute(f"ALTER TABLE {table} ADD COLUMN model_key VARCHAR")
    have = _columns(con, "items")
    for col, (dtype, _) in ITEM_COLUMNS.items():
        if col not in have:
            con.execute(f"ALTER TABLE items ADD COLUMN {col} {_SQL_TYPES[dtype]}")
    if "row_hash" not in have:
        con.execute("ALTER TABLE items ADD COLUMN row_hash VARCHAR")


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Items read from DuckDB with the canonical dtypes."""
    for col, (dtype, _) in ITEM_COLUMNS.items():
        frame[col] = frame[col].astype(dtype) if not dtype.startswith("datetime") else \
            pd.to_datetime(frame[col], utc=True).astype(dtype)
    return frame


class StoreLockedError(RuntimeError):
    """Another process holds the store."""


class StoreError(RuntimeError):
    """The store cannot be used (damaged, not a DuckDB file, or its directory is not writable); the message is
    one line that names the file and says what to do."""


_DAMAGED = ("not a valid duckdb database", "could not read enough bytes", "corrupt database", "checksum")
_READ_ONLY = ("permission denied", "read-only file system", "read-only")


def _store_error(path: Path, exc: BaseException) -> Exception:
    """The one-line error for ``exc`` raised while opening the store at ``path``."""
    text = str(exc).lower()
    if isinstance(exc, duckdb.Error) and ("could not set lock" in text or "conflicting lock" in text):
        return StoreLockedError(f"the store {path} is in use by another koe run; wait for it to finish")
    if isinstance(exc, OSError) or any(k in text for k in _READ_ONLY):
        return StoreError(f"{path}: cannot write the store there (its directory {path.parent} is read-only, not "
                          "a directory or not ours); make it writable, or set store.path to a writable place")
    if any(k in text for k in _DAMAGED):
        return StoreError(f"{path}: not a usable koe store (damaged, truncated or not a DuckDB file); restore it "
                          "from a backup (or move it away to start afresh), and run `koe doctor` to check")
    return StoreError(f"{path}: cannot open the store ({type(exc).__name__}); run `koe doctor` to see why")


class Store:
    """A DuckDB file; each method opens a short connection so no lock is held between steps."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection (the tables created first unless ``read_only``); an unusable store raises StoreError,
        one held by another process StoreLockedError."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            read_only = read_only and self.path.exists()  # a new store is created with its tables, never empty
            con = duckdb.connect(str(self.path), read_only=read_only)
        except (duckdb.Error, OSError) as exc:
            raise _store_error(self.path, exc) from None
        try:
            if not read_only:
                try:
                    con.execute(_SCHEMA)
                    _migrate(con)
                except (duckdb.Error, OSError) as exc:
                    raise _store_error(self.path, exc) from None
            yield con
        except duckdb.Error as exc:
            if any(k in str(exc).lower() for k in _DAMAGED):  # a damaged block found by a query
                raise _store_error(self.path, exc) from None
            raise
        finally:
            con.close()

    @contextmanager
    def run_lock(self) -> Iterator[None]:
        """Held for a whole run: a second run on the same store fails at once with a clear message."""
        import fcntl
        import os

        # the lock is next to the file the path resolves to, so a symlink (or another spelling) to the same store
        # takes the same lock
        real = self.path.resolve()
        lock_path = real.with_name(real.name + ".lock")
        try:
            real.parent.mkdir(parents=True, exist_ok=True)
            fh = open(lock_path, "a+", encoding="utf-8")
        except OSError as exc:
            raise _store_error(self.path, exc) from None
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise StoreLockedError(f"another koe run ({holder}) is using {self.path}; "
                                   "wait for it to finish (runs on one store never overlap)") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}, started {pd.Timestamp.now(tz='UTC'):%Y-%m-%d %H:%M:%S} UTC")
        fh.flush()
        try:
            if self.path.exists():
                self._close_crashed_runs()
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()

    def _close_crashed_runs(self) -> None:
        """Runs still 'running' when a run takes the lock died without finishing (killed, or the machine went
        down): no live process can hold them. Mark them 'crashed' and drop their partial results, so that no
        later run reads them as a run's."""
        note = json.dumps({"crashed": "found still running by the next run; its partial results were dropped",
                           "found_at": f"{pd.Timestamp.now(tz='UTC'):%Y-%m-%d %H:%M:%S} UTC"})
        with self.transaction() as con:
            dead = "SELECT run_id FROM runs WHERE status = 'running'"
            for table in ("assignments", "clusters", "issue_events", "pending_issues"):
                con.execute(f"DELETE FROM {table} WHERE run_id IN ({dead})")
            con.execute("UPDATE runs SET status = 'crashed', summary_json = ? WHERE status = 'running'", [note])

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def upsert_items(self, items: pd.DataFrame, run_id: str) -> tuple[int, int]:
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
        with self.transaction() as con:
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

    def items_by_row_hash(self, hashes: list[str]) -> pd.DataFrame:
        """The stored items (with their row_hash) that these source rows gave as they are stored now."""
        with self.connect(read_only=True) as con:
            con.register("wanted", pd.DataFrame({"row_hash": pd.unique(pd.Series(hashes, dtype=object))}))
            frame = con.execute("SELECT i.* EXCLUDE (first_run_id) FROM items i SEMI JOIN wanted USING (row_hash)").df()
        return _typed(frame)[[*ITEM_COLUMNS, "row_hash"]].assign(row_hash=lambda f: f["row_hash"].astype("string"))

    def add_quarantine(self, rows: pd.DataFrame, run_id: str) -> int:
        if rows.empty:
            return 0
        frame = rows[list(QUARANTINE_COLUMNS)].copy()
        frame.insert(0, "quarantine_id", [
            stable_hash(r.source_name, r.source_path, r.row_number, r.reason, r.raw) for r in frame.itertuples()
        ])
        frame["first_run_id"] = run_id
        frame = frame.drop_duplicates("quarantine_id")
        with self.transaction() as con:
            con.register("incoming", frame)
            before = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
            con.execute("INSERT INTO quarantine SELECT * FROM incoming ON CONFLICT DO NOTHING")
            return con.execute("SELECT count(*) FROM quarantine").fetchone()[0] - before

    def items(self, since: pd.Timestamp | None = None, until: pd.Timestamp | None = None) -> pd.DataFrame:
        """Items created in [since, until), ordered by item_id (deterministic)."""
        sql, params = "SELECT * EXCLUDE (first_run_id) FROM items WHERE 1=1", []
        if since is not None:
            sql, params = sql + " AND created_at >= ?", params + [since.to_pydatetime()]
        if until is not None:
            sql, params = sql + " AND created_at < ?", params + [until.to_pydatetime()]
        with self.connect(read_only=True) as con:
            frame = con.execute(sql + " ORDER BY item_id", params).df()
        return _typed(frame)[list(ITEM_COLUMNS)]

    def created_range(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """The oldest and newest item dates (UTC), without reading the items; None when there are none."""
        with self.connect(read_only=True) as con:
            first, last = con.execute("SELECT min(created_at), max(created_at) FROM items").fetchone()
        return None if first is None else (pd.Timestamp(first).tz_convert("UTC"), pd.Timestamp(last).tz_convert("UTC"))

    def table(self, name: str, where: str = "", params: list | None = None) -> pd.DataFrame:
        """A whole table (or a filtered one) as a frame, for reports and notebooks."""
        with self.connect(read_only=True) as con:
            return con.execute(f"SELECT * FROM {name} {where}", params or []).df()

    def cached_embeddings(self, hashes: list[str], model_key: str) -> dict[str, np.ndarray]:
        if not hashes:
            return {}
        with self.connect(read_only=True) as con:
            con.register("wanted", pd.DataFrame({"content_hash": list(dict.fromkeys(hashes))}))
            rows = con.execute(
                "SELECT e.content_hash, e.vector FROM embeddings e JOIN wanted w USING (content_hash) "
                "WHERE e.model_key = ?", [model_key]).fetchall()
        return {h: np.frombuffer(v, dtype=np.float32) for h, v in rows}

    def cached_hashes(self, hashes: list[str], model_key: str) -> set[str]:
        """Which of ``hashes`` have a vector for ``model_key`` (without reading the vectors)."""
        if not hashes:
            return set()
        with self.connect(read_only=True) as con:
            con.register("wanted", pd.DataFrame({"content_hash": list(dict.fromkeys(hashes))}))
            rows = con.execute("SELECT e.content_hash FROM embeddings e JOIN wanted w USING (content_hash) "
                               "WHERE e.model_key = ?", [model_key]).fetchall()
        return {h for (h,) in rows}

    def latest_results(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The latest completed run's assignments (item_id, cluster_id, centrality, stage, stage_score,
        sentiment) and clusters (cluster_id, lang, size, label, keyphrases, verbatims); empty before the first."""
        run_id = self.latest_run_id()
        assignments = self.table("assignments", "WHERE run_id = ?", [run_id]).drop(columns="run_id")
        clusters = self.table("clusters", "WHERE run_id = ?", [run_id]).drop(columns="run_id")
        clusters["keyphrases"] = clusters.pop("keyphrases_json").map(json.loads)
        clusters["verbatims"] = clusters.pop("verbatims_json").map(json.loads)
        return assignments, clusters

    def save_embeddings(self, hashes: list[str], vectors: np.ndarray, model_key: str) -> None:
        if not hashes:
            return
        vectors = np.asarray(vectors, dtype=np.float32)
        frame = pd.DataFrame({
            "content_hash": hashes, "model_key": model_key, "dim": vectors.shape[1],
            "vector": [v.tobytes() for v in vectors],
        }).drop_duplicates(["content_hash", "model_key"])
        with self.transaction() as con:
            con.register("incoming", frame)
            con.execute("INSERT INTO embeddings SELECT * FROM incoming ON CONFLICT DO NOTHING")

    def sentiment_head(self, head_key: str) -> bytes | None:
        """The weights of the head fitted on ratings under ``head_key`` (nlp.sentiment_head), None if none."""
        with self.connect(read_only=True) as con:
            row = con.execute("SELECT weights FROM sentiment_heads WHERE head_key = ?", [head_key]).fetchone()
        return None if row is None else bytes(row[0])

    def save_sentiment_head(self, head_key: str, n_ratings: int, weights: bytes) -> None:
        with self.transaction() as con:
            con.execute("INSERT INTO sentiment_heads VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                        [head_key, n_ratings, weights])

    def start_run(self, run_id: str, started_at: pd.Timestamp, config: dict) -> None:
        with self.transaction() as con:
            con.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, NULL, 'running', ?, NULL)",
                        [run_id, started_at.to_pydatetime(), json.dumps(config, ensure_ascii=False)])

    def finish_run(self, run_id: str, finished_at: pd.Timestamp, summary: dict, status: str = "completed") -> None:
        """Close the run; a completed run's issue states (from save_results) become the known issues."""
        with self.transaction() as con:
            if status == "completed":
                con.execute("INSERT OR REPLACE INTO issues BY NAME SELECT * EXCLUDE (run_id) FROM pending_issues "
                            "WHERE run_id = ?", [run_id])
            con.execute("DELETE FROM pending_issues WHERE run_id = ?", [run_id])
            con.execute("UPDATE runs SET finished_at = ?, status = ?, summary_json = ? WHERE run_id = ?",
                        [finished_at.to_pydatetime(), status, json.dumps(summary, ensure_ascii=False, default=str),
                         run_id])

    def issue_states(self) -> pd.DataFrame:
        """Every known issue with its centroid (np.float32), keyphrases (list) and the model_key of the embedder
        whose vectors made its centroid and radius (None for issues stored before koe recorded it)."""
        if not self.path.exists():
            return pd.DataFrame(columns=["issue_id", "space", "label", "keyphrases", "centroid", "radius", "status",
                                         "first_seen_run", "first_seen_at", "label_history", "model_key"])
        frame = self.table("issues", "ORDER BY issue_id")
        keys = frame["model_key"] if "model_key" in frame else pd.Series(None, index=frame.index)  # read-only, old
        frame["model_key"] = keys.astype(object).where(keys.notna(), None)
        frame["centroid"] = [np.frombuffer(b, dtype=np.float32) for b in frame["centroid"]]
        frame["keyphrases"] = frame.pop("keyphrases_json").map(json.loads)
        frame["label_history"] = frame.pop("label_history_json").map(json.loads)
        return frame

    def latest_members(self, include_outliers: bool = False) -> pd.DataFrame:
        """item_id, issue_id of the latest completed run (empty before the first)."""
        run_id = self.latest_run_id()
        if run_id is None:
            return pd.DataFrame(columns=["item_id", "issue_id"])
        where = "WHERE run_id = ?" + ("" if include_outliers else " AND cluster_id <> 'outlier'")
        frame = self.table("assignments", where, [run_id])
        return frame[["item_id", "cluster_id"]].rename(columns={"cluster_id": "issue_id"})

    def save_results(self, run_id: str, assignments: pd.DataFrame, clusters: pd.DataFrame,
                     issues: pd.DataFrame | None = None, events: pd.DataFrame | None = None) -> None:
        """Replace this run's assignments, clusters, issue events and issue states, in one transaction. The issue
        states become the known issues when the run completes (finish_run), not before."""
        with self.transaction() as con:
            for table in ("assignments", "clusters", "issue_events", "pending_issues"):
                con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
            if issues is not None and len(issues):
                i = issues.copy()
                i["keyphrases_json"] = [json.dumps(k, ensure_ascii=False) for k in i.pop("keyphrases")]
                i["label_history_json"] = [json.dumps(h, ensure_ascii=False) for h in i.pop("label_history")]
                i["centroid"] = [np.asarray(c, dtype=np.float32).tobytes() for c in i["centroid"]]
                i.insert(0, "run_id", run_id)
                con.register("i", i)
                con.execute("INSERT INTO pending_issues BY NAME SELECT * FROM i")
            if events is not None and len(events):
                e = events[["issue_id", "event", "related_issue", "detail"]].copy()
                e.insert(0, "run_id", run_id)
                con.register("e", e)
                con.execute("INSERT INTO issue_events SELECT * FROM e")
            a = assignments[["item_id", "cluster_id", "centrality", "stage", "stage_score", "sentiment"]].copy()
            a.insert(0, "run_id", run_id)
            c = clusters[["cluster_id", "lang", "size", "label"]].copy()
            c.insert(0, "run_id", run_id)
            c["keyphrases_json"] = [json.dumps(k, ensure_ascii=False) for k in clusters["keyphrases"]]
            c["verbatims_json"] = [json.dumps(v, ensure_ascii=False) for v in clusters["verbatims"]]
            con.register("a", a)
            con.register("c", c)
            con.execute("INSERT INTO assignments SELECT * FROM a")
            con.execute("INSERT INTO clusters SELECT * FROM c")

    def history(self) -> pd.DataFrame:
        """Every stored item with its most recent result (issue, stage, sentiment) from any run: the basis
        of trends beyond the current window."""
        with self.connect(read_only=True) as con:
            frame = con.execute("""
                SELECT i.item_id, i.created_at, i.source_kind, a.cluster_id, a.stage, a.sentiment
                FROM items i JOIN (
                    SELECT a.*, row_number() OVER (PARTITION BY a.item_id ORDER BY r.started_at DESC) AS k
                    FROM assignments a JOIN runs r USING (run_id)) a
                ON i.item_id = a.item_id AND a.k = 1
                ORDER BY i.item_id""").df()
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
        return frame

    def last_full_fit(self) -> dict | None:
        """The summary of the latest completed run that fitted the clustering from scratch."""
        if not self.path.exists():
            return None
        with self.connect(read_only=True) as con:
            rows = con.execute("SELECT summary_json FROM runs WHERE status = 'completed' "
                               "ORDER BY finished_at DESC").fetchall()
        for (summary,) in rows:
            data = json.loads(summary or "{}")
            if data.get("clustering") == "full":
                return data
        return None

    def items_seen_before(self, run_id: str) -> set[str] | None:
        """The item ids of the latest completed run that started before ``run_id`` (what the follow-up queue
        marks as not new); None when there is no such run."""
        if not self.path.exists():
            return None
        with self.connect(read_only=True) as con:
            row = con.execute("SELECT run_id FROM runs WHERE status = 'completed' AND run_id < ? "
                              "ORDER BY run_id DESC LIMIT 1", [run_id]).fetchone()
            if row is None:
                return None
            return {r[0] for r in con.execute("SELECT item_id FROM assignments WHERE run_id = ?", [row[0]]).fetchall()}

    def prior_run(self, run_id: str) -> PriorRun:
        """What the store holds before run ``run_id`` completes, read once (nlp.records.PriorRun)."""
        assignments, clusters = self.latest_results()
        return PriorRun(run_id=self.latest_run_id(), last_full_fit=self.last_full_fit(), issues=self.issue_states(),
                        assignments=assignments, clusters=clusters, history=self.history(),
                        seen_before=self.items_seen_before(run_id))

    def run_summary(self, run_id: str) -> dict:
        """The summary a run was closed with ({} while it runs)."""
        with self.connect(read_only=True) as con:
            row = con.execute("SELECT summary_json FROM runs WHERE run_id = ?", [run_id]).fetchone()
        return json.loads(row[0] or "{}")

    def issue_events(self, run_id: str) -> pd.DataFrame:
        """The issue events of run ``run_id`` (run_id, issue_id, event, related_issue, detail)."""
        return self.table("issue_events", "WHERE run_id = ?", [run_id])

    def completed_before(self, run_id: str) -> bool:
        """Whether a run completed before ``run_id`` started."""
        with self.connect(read_only=True) as con:
            return con.execute("SELECT count(*) FROM runs WHERE status = 'completed' AND run_id < ?",
                               [run_id]).fetchone()[0] > 0

    def latest_run_id(self) -> str | None:
        if not self.path.exists():
            return None
        with self.connect(read_only=True) as con:
            row = con.execute("SELECT run_id FROM runs WHERE status = 'completed' "
                              "ORDER BY finished_at DESC LIMIT 1").fetchone()
        return row[0] if row else None

