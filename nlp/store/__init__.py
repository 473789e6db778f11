"""The DuckDB store: items, quarantine, the embedding cache, runs and each run's results.

Every write happens in one transaction; item and quarantine upserts are idempotent (keyed by stable ids).
``Store`` holds one part per concern, each a small object over the same file:

- ``store.db``: the file, its tables (created or migrated once per schema version), connections (database.py);
- ``store.items``: items and quarantined rows (items.py);
- ``store.cache``: the embedding cache and the sentiment heads fitted on a store's ratings (cache.py);
- ``store.runs``: the run ledger (runs.py);
- ``store.results``: each run's results and the known issues' states (results.py).

``Store`` itself takes the run lock and reads what a run needs from several parts at once, as one record:
``prior_run`` before a run, ``stored_run`` for a re-render."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from nlp.records import PriorRun, StoredRun
from nlp.store.cache import Cache
from nlp.store.database import Database, StoreError, StoreLockedError
from nlp.store.items import Items
from nlp.store.results import Results
from nlp.store.runs import Runs

__all__ = ["Store", "StoreError", "StoreLockedError"]


class Store:
    """A DuckDB file; each part opens a short connection per call, so no lock is held between steps."""

    def __init__(self, path: str | Path):
        self.db = Database(path)
        self.items = Items(self.db)
        self.cache = Cache(self.db)
        self.runs = Runs(self.db)
        self.results = Results(self.db, self.runs)

    @property
    def path(self) -> Path:
        return self.db.path

    @contextmanager
    def run_lock(self) -> Iterator[None]:
        """Held for a whole run: a second run on the same store fails at once with a clear message. Runs left
        'running' by a run that died are closed as crashed first (store.runs.close_crashed)."""
        with self.db.lock():
            if self.path.exists():
                self.runs.close_crashed()
            yield

    def table(self, name: str, where: str = "", params: list | None = None) -> pd.DataFrame:
        """A whole table (or a filtered one) as a frame, for tests, benchmarks and notebooks."""
        return self.db.table(name, where, params)

    def _latest(self) -> dict:
        """What every read of the latest run shares: its results, the issues' states and the items' history."""
        assignments, clusters = self.results.latest()
        return {"assignments": assignments, "clusters": clusters, "issues": self.results.issue_states(),
                "history": self.results.history()}

    def prior_run(self, run_id: str) -> PriorRun:
        """What the store holds before run ``run_id`` completes, read once (nlp.records.PriorRun)."""
        return PriorRun(run_id=self.runs.latest_id(), last_full_fit=self.runs.last_full_fit(),
                        seen_before=self.runs.items_seen_before(run_id), **self._latest())

    def stored_run(self) -> StoredRun | None:
        """The latest completed run, read once for a re-render (nlp.records.StoredRun); None before the first."""
        run_id = self.runs.latest_id()
        if run_id is None:
            return None
        summary = self.runs.summary(run_id)
        window = summary.get("window")
        start, end = (None, None) if window is None else (None if t is None else pd.Timestamp(t) for t in window)
        return StoredRun(run_id=run_id, summary=summary, items=self.items.read(start, end),
                         events=self.results.issue_events(run_id), first_run=not self.runs.completed_before(run_id),
                         seen_before=self.runs.items_seen_before(run_id), **self._latest())
