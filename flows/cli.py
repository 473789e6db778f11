"""koe's command line: run the nightly flow, re-render a report, serve the schedule, describe sources, check the
store (doctor) and purge a source. Errors end in one line and an exit code (2 config or set-up, 3 the store is in
use, 4 a source gave no item, 5 the store cannot be used)."""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(help="koe (声): customer feedback → ranked pain points per journey stage.",
                  no_args_is_help=True, add_completion=False)

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Pipeline config (YAML).", exists=True,
                                         dir_okay=False, readable=True)]


def _offline_env() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# Prefect's own lines about each task and flow run: the console shows them only with --verbose
_CHATTER = re.compile(r"^(Finished in state Completed\(\)|Created (task|flow) run|Executing |Beginning "
                      r"(flow|subflow) run|View at |Running )")


class _Quiet(logging.Filter):
    """Drops Prefect's per-task chatter and any line already shown once in this process (a replay re-reads the
    same files: their quarantine warnings would repeat at every step)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _CHATTER.match(message) or message in self.seen:
            return False
        self.seen.add(message)
        return True


class _Stderr(logging.StreamHandler):
    """A handler on whatever sys.stderr is when a line is written (not when the handler was made)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _console(verbose: bool) -> None:
    """One line per step (logger koe.progress) on stderr; Prefect's chatter off unless ``verbose``."""
    progress = logging.getLogger("koe")
    if not progress.handlers:
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("koe: %(message)s"))
        progress.addHandler(handler)
        progress.setLevel(logging.INFO)
        progress.propagate = False
    quiet = _Quiet()
    for name in ("prefect.flow_runs", "prefect.task_runs", "prefect.engine"):
        log = logging.getLogger(name)
        for old in [f for f in log.filters if isinstance(f, _Quiet)]:  # one per process, the latest call's
            log.removeFilter(old)
        if not verbose:
            log.addFilter(quiet)


VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's line for every task run too.")]


def _check_config(config: Path):
    from nlp.config import ConfigError, load_config

    try:
        return load_config(config)
    except ConfigError as exc:
        _fail(str(exc), 2)


def _fail(message: str, code: int):
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code) from None


def _preflight(cfg, sources: bool = True) -> None:
    """Every problem that would stop the run, before any work (and before Prefect's server starts): a run in
    progress on the store (exit 3), then the set-up (exit 2; ``sources``: the sources' files too)."""
    from flows.preflight import preflight
    from nlp.store import Store
    from nlp.store_admin import lock_holder

    if holder := lock_holder(Store(cfg.store.path)):
        _fail(f"another koe run ({holder}) is using {cfg.store.path}; wait for it to finish", 3)
    problems = [p for p in preflight(cfg, Path.cwd()) if sources or not p.startswith("source")]
    if problems:
        _fail("\n".join(problems), 2)


def _on_sigterm(signum, frame):
    # unwinds like any exception: the run is recorded as cancelled, the run lock released and, at exit, Prefect's
    # temporary server stopped (its atexit hook), so no server process outlives the run
    from flows.nightly import note_termination

    note_termination(signum)
    raise SystemExit(128 + signum)


@contextmanager
def _signal_exit():
    """Exit 128 + the signal after a SIGTERM, whatever exception it became on the way out (raised inside
    Prefect's task engine, the SystemExit can come back as Prefect's own ValueError)."""
    from flows.nightly import terminated_by

    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    except BaseException:
        if (signum := terminated_by()) is not None:
            typer.secho(f"koe: terminated by {signal.Signals(signum).name}; the run is recorded as cancelled",
                        fg=typer.colors.RED, err=True)
            raise SystemExit(128 + signum) from None
        raise


@contextmanager
def _store_errors():
    """The store's errors as one line each with an exit code: 3 held by a run, 4 a source gave no item, 5 the
    store cannot be used; no traceback."""
    from flows.preflight import PreflightError, SourceError
    from nlp.store import StoreError, StoreLockedError

    try:
        yield
    except StoreLockedError as exc:
        _fail(str(exc), 3)
    except PreflightError as exc:
        _fail(str(exc), 2)
    except SourceError as exc:
        _fail(str(exc), 4)
    except StoreError as exc:
        _fail(str(exc), 5)


@app.command()
def run(config: ConfigOpt = Path("configs/default.yaml"),
        since: Annotated[Optional[str], typer.Option(help="Analyse items created on/after this date (YYYY-MM-DD).")] = None,
        until: Annotated[Optional[str], typer.Option(help="Analyse items created on/before this date (YYYY-MM-DD).")] = None,
        replay: Annotated[Optional[str], typer.Option(
            help="Backfill: replay history 'daily' or 'weekly' from --since to --until (defaults: the data's "
                 "range), one run per step, so issue ids, trends and alerts exist from the first day.")] = None,
        verbose: VerboseOpt = False):
    """Ingest the config's sources and publish the report (the nightly flow, run once now)."""
    _offline_env()
    _console(verbose)
    cfg = _check_config(config)
    if replay not in (None, "daily", "weekly"):
        _fail("--replay must be 'daily' or 'weekly'", 2)
    _preflight(cfg)
    with _signal_exit(), _store_errors():
        summary = _run_flow(config, since, until, replay)
    if not summary.get("report"):
        typer.secho("Nothing to analyse: no items in the store for that period.", fg=typer.colors.YELLOW)
        raise typer.Exit(1)
    typer.echo(f"{summary['items']} items analysed, {summary['new_items']} new, "
               f"{summary['quarantined']} rows quarantined, {summary['embedded']} embedded, "
               f"{len(summary.get('alerts', []))} alerts.")
    typer.secho(f"Report: {summary['report']}", fg=typer.colors.GREEN)


def _run_flow(config: Path, since: str | None, until: str | None, replay: str | None) -> dict:
    from flows.nightly import backfill, nightly

    if replay:
        summary = backfill(str(config), since=since, until=until, every_days=1 if replay == "daily" else 7)
        typer.echo(f"Replayed {len(summary.get('replayed', []))} runs: {', '.join(summary.get('replayed', []))}")
        return summary
    return nightly(str(config), since=since, until=until)


@app.command()
def report(config: ConfigOpt = Path("configs/default.yaml"), verbose: VerboseOpt = False):
    """Re-render the report of the store's latest run (no ingest, no embedding, no clustering)."""
    _offline_env()
    _console(verbose)
    cfg = _check_config(config)
    _preflight(cfg, sources=False)  # the sources are not read here
    from flows.nightly import rerender

    with _signal_exit(), _store_errors():
        summary = rerender(str(config))
    typer.secho(f"Report: {summary['report']}", fg=typer.colors.GREEN)


@app.command()
def purge(source: Annotated[str, typer.Option("--source", help="The source name whose data to delete.")],
          config: ConfigOpt = Path("configs/default.yaml")):
    """Delete one source's items, quarantined rows, run results and cached vectors from the store (e.g. a
    source removed from the config), recorded in the store's runs table. Never while a run is in progress."""
    cfg = _check_config(config)
    import pandas as pd

    from nlp.store import Store
    from nlp.store_admin import purge_source, stored_sources

    store = Store(cfg.store.path)
    with _store_errors(), store.run_lock():
        known = stored_sources(store)
        if source not in known:
            _fail(f"no source named {source!r} in {store.path} (stored: {', '.join(known) or 'none'})", 1)
        now = pd.Timestamp.now(tz="UTC")
        counts = purge_source(store, source, f"{now:%Y%m%dT%H%M%S%f}-purge", now)
    typer.echo(f"Purged {source!r}: {counts['items']} items, {counts['quarantine']} quarantined rows, "
               f"{counts['assignments']} run results, {counts['embeddings']} cached vectors (recorded in runs).")
    if source in {s.name for s in cfg.sources}:
        typer.secho(f"{source!r} is still in {config}: the next run reads it again.", fg=typer.colors.YELLOW)


@app.command()
def doctor(config: ConfigOpt = Path("configs/default.yaml")):
    """Check the store: it opens, its tables are there and read through, who holds the run lock, whether its
    directory and the report directory can be written. Exit 1 when something is wrong."""
    cfg = _check_config(config)
    from nlp.store import Store
    from nlp.store_admin import inspect_store, writable_dir

    findings = [*inspect_store(Store(cfg.store.path)), writable_dir(Path(cfg.report.out_dir))]
    for ok, finding in findings:
        typer.secho(f"{'ok ' if ok else 'BAD'} {finding}", fg=None if ok else typer.colors.RED)
    if not all(ok for ok, _ in findings):
        typer.secho("Something is wrong: restore the store from a backup, or fix what is marked BAD.",
                    fg=typer.colors.RED)
        raise typer.Exit(1)


@app.command()
def serve(config: ConfigOpt = Path("configs/default.yaml")):
    """Serve the nightly deployment on the config's schedule (cron + timezone); needs a Prefect server
    (`prefect server start`) and runs until stopped. Never two runs at once."""
    _offline_env()
    cfg = _check_config(config)
    from prefect import serve as prefect_serve

    from flows.nightly import nightly_deployment

    deployment = nightly_deployment(cfg, str(config))
    typer.echo(f"Serving koe-nightly: cron '{cfg.schedule.cron}' ({cfg.schedule.timezone}). Ctrl+C to stop.")
    prefect_serve(deployment)


@app.command()
def taxonomy(config: ConfigOpt = Path("configs/default.yaml")):
    """Print the store's current issues as a starting taxonomy file (rename, merge, noise, split, stage, pinned
    issues; save it and set taxonomy.path in the config)."""
    cfg = _check_config(config)
    from nlp.store import Store
    from nlp.taxonomy import starting_file

    store = Store(cfg.store.path)
    if not store.path.exists():
        _fail(f"no store at {cfg.store.path}: run `koe run --config {config}` first", 2)
    typer.echo(starting_file(store.results.issue_states(), [s.key for s in cfg.stages.stages]), nl=False)


@app.command()
def sources():
    """What each source kind expects: required and optional fields, and how to map your columns."""
    from nlp.schema import ITEM_COLUMNS
    from nlp.sources import describe_kinds

    for kind, fields in describe_kinds().items():
        typer.secho(f"{kind}", bold=True)
        typer.echo(f"  required: {', '.join(fields['required'])}")
        typer.echo(f"  optional: {', '.join(fields['optional'])}")
        if fields["options"]:
            typer.echo(f"  options:  {', '.join(fields['options'])} (beside name, kind and path)")
    typer.echo("\nMap your file's columns in the config, e.g.\n"
               "  sources:\n    - {name: shop, kind: review, path: data/reviews.csv,\n"
               "       columns: {text: review_text, created_at: posted_at, rating: stars}}\n"
               "Files: CSV (UTF-8, UTF-8 BOM, CP932/Shift-JIS auto-detected), JSON, JSONL, Parquet.\n"
               "Ticket text may join several columns: columns: {text: [subject, body]}.\n"
               f"Canonical columns stored: {', '.join(ITEM_COLUMNS)}")


if __name__ == "__main__":
    app()
