"""The DuckDB store: items, quarantine, the embedding cache, runs and each run's results.

Every write happens in one transaction; item and quarantine upserts are idempotent (keyed by stable ids).
One class, ``Store``, made of one part per concern: the database (nlp/store/database.py), items and quarantine
(items.py), the embedding cache (cache.py), the run ledger (runs.py) and run results (results.py)."""

from __future__ import annotations

from nlp.store.cache import CacheStore
from nlp.store.database import StoreError, StoreLockedError
from nlp.store.items import ItemStore
from nlp.store.results import ResultStore

__all__ = ["Store", "StoreError", "StoreLockedError"]


class Store(ItemStore, CacheStore, ResultStore):
    """A DuckDB file; each method opens a short connection so no lock is held between steps."""
