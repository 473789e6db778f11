"""The store's DuckDB file: its tables (created, and an older store's migrated, once per schema version), short
connections and transactions, the run lock, and the one-line errors of a store that cannot be used."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from nlp.schema import ITEM_COLUMNS, QUARANTINE_COLUMNS

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
    run_id VARCHAR, item_id VARCHAR, issue_id VARCHAR, centrality DOUBLE, stage VARCHAR, stage_score DOUBLE,
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
    run_id VARCHAR, issue_id VARCHAR, space VARCHAR, size INTEGER, label VARCHAR, keyphrases_json VARCHAR,
    verbatims_json VARCHAR, names_json VARCHAR, PRIMARY KEY (run_id, issue_id)
);
"""


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                                      [table]).fetchall()}


# (table, old column, new column) of the columns renamed since the store was first written
_RENAMED = (("assignments", "cluster_id", "issue_id"), ("clusters", "cluster_id", "issue_id"),
            ("clusters", "lang", "space"))


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    """A store written by an older koe gets the item columns added since (empty for its old rows), and its issue
    states a model_key (NULL for the old ones: a model nobody knows, so the next run refits in full and keeps
    their ids by member overlap, nlp.matching.match_issues); its results' columns get the names of what they
    hold (cluster_id -> issue_id, the clusters' lang -> space: an embedding space, not an item's language)."""
    for table, old, new in _RENAMED:
        have = _columns(con, table)
        if old in have and new not in have:
            con.execute(f"ALTER TABLE {table} RENAME COLUMN {old} TO {new}")
    for table in ("issues", "pending_issues"):
        if "model_key" not in _columns(con, table):
            con.execute(f"ALTER TABLE {table} ADD COLUMN model_key VARCHAR")
    have = _columns(con, "items")
    for col, (dtype, _) in ITEM_COLUMNS.items():
        if col not in have:
            con.execute(f"ALTER TABLE items ADD COLUMN {col} {_SQL_TYPES[dtype]}")
    if "row_hash" not in have:
        con.execute("ALTER TABLE items ADD COLUMN row_hash VARCHAR")
    if "names_json" not in _columns(con, "clusters"):  # issue names in the other report languages
        con.execute("ALTER TABLE clusters ADD COLUMN names_json VARCHAR")


# the schema a store was prepared for (tables created, older columns migrated), kept in the store itself: a
# connection to a store of this version runs one query, not the DDL and the migration. _SCHEMA's text is in it;
# bump _MIGRATION when _migrate changes
_MIGRATION = 2
SCHEMA_VERSION = hashlib.sha256(f"{_MIGRATION}\n{_SCHEMA}".encode()).hexdigest()[:16]


def _prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables and migrate an older store, unless the store says it was prepared for this version."""
    try:
        if con.execute("SELECT max(version) FROM koe_schema").fetchone()[0] == SCHEMA_VERSION:
            return
    except duckdb.CatalogException:  # a new store, or one from before koe kept its schema version
        pass
    con.execute(_SCHEMA)
    _migrate(con)
    con.execute("CREATE TABLE IF NOT EXISTS koe_schema (version VARCHAR)")
    con.execute("DELETE FROM koe_schema")
    con.execute("INSERT INTO koe_schema VALUES (?)", [SCHEMA_VERSION])


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

class Database:
    """A DuckDB file: short connections (so no lock is held between steps), transactions and the run lock."""

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
                    _prepare(con)
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
    def lock(self) -> Iterator[None]:
        """A lock file beside the store, held while the context runs: a second holder fails at once with a clear
        message."""
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
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection inside one transaction: committed when the context ends, rolled back on any error."""
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def table(self, name: str, where: str = "", params: list | None = None) -> pd.DataFrame:
        """A whole table (or a filtered one) as a frame, for reports and notebooks."""
        with self.connect(read_only=True) as con:
            return con.execute(f"SELECT * FROM {name} {where}", params or []).df()
