"""What is checked before any work (before the Prefect server starts, when run from the CLI): the sources' files,
the store and the report directory. Each problem is one line a person can act on."""

from __future__ import annotations

from pathlib import Path

from nlp.config import PipelineConfig
from nlp.records import IngestSummary
from nlp.sources import check_sources
from nlp.store import Store
from nlp.store_admin import inspect_store, lock_holder, writable_dir
from nlp.taxonomy import TaxonomyError, check_taxonomy, load_taxonomy


class PreflightError(RuntimeError):
    """The run cannot start; the message lists every problem, one a line."""


class SourceError(RuntimeError):
    """A source gave no item (and does not allow it); the message names the source and the reason."""


def preflight(cfg: PipelineConfig, base_dir: Path) -> list[str]:
    """Every problem that would stop the run: sources (no file, not a file, one file in two sources), a store
    directory or report directory that cannot be written, a store file that cannot be opened, a taxonomy file
    that cannot be read or names a stage the config lacks."""
    problems = check_sources(cfg.sources, base_dir)
    store = Store(cfg.store.path)
    for directory in (store.path.resolve().parent, Path(cfg.report.out_dir)):
        ok, finding = writable_dir(directory)
        if not ok:
            problems.append(finding)
    if store.path.exists() and lock_holder(store) is None:  # a run in progress is the lock's to report
        # every table read through (as `koe doctor` does), so a damaged or truncated store fails here, in one
        # line, not midway through the run
        problems += [finding for ok, finding in inspect_store(store) if not ok]
    try:
        problems += check_taxonomy(load_taxonomy(cfg.taxonomy.path), [st.key for st in cfg.stages.stages])
    except TaxonomyError as exc:
        problems.append(str(exc))
    return problems


def check_before_work(cfg: PipelineConfig, base_dir: Path) -> None:
    """Raise PreflightError listing the problems, if any."""
    problems = preflight(cfg, base_dir)
    if problems:
        raise PreflightError("\n".join(problems))


def empty_sources(cfg: PipelineConfig, ingest: IngestSummary) -> None:
    """Raise SourceError for the sources that gave no item this run, unless they allow it (``allow_empty``)."""
    read = ingest.sources
    empty = [f"source {s.name!r} gave no item: {read[s.name].first_reason or 'its files have no rows'}"
             for s in cfg.sources if s.name in read and not read[s.name].items and not s.allow_empty]
    if empty:
        raise SourceError("; ".join(empty) + " (set allow_empty: true on a source that may be empty)")
