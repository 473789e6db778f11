"""koe's command line: run the nightly flow, re-render a report, serve the schedule, describe sources."""

from __future__ import annotations

import os
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


def _check_config(config: Path):
    from nlp.config import ConfigError, load_config

    try:
        return load_config(config)
    except ConfigError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


@app.command()
def run(config: ConfigOpt = Path("configs/default.yaml"),
        since: Annotated[Optional[str], typer.Option(help="Analyse items created on/after this date (YYYY-MM-DD).")] = None,
        until: Annotated[Optional[str], typer.Option(help="Analyse items created on/before this date (YYYY-MM-DD).")] = None,
        replay: Annotated[Optional[str], typer.Option(
            help="Backfill: replay history 'daily' or 'weekly' from --since to --until (defaults: the data's "
                 "range), one run per step, so issue ids, trends and alerts exist from the first day.")] = None):
    """Ingest the config's sources and publish the report (the nightly flow, run once now)."""
    _offline_env()
    _check_config(config)
    if replay not in (None, "daily", "weekly"):
        typer.secho("--replay must be 'daily' or 'weekly'", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    from nlp.store import StoreLockedError

    try:
        summary = _run_flow(config, since, until, replay)
    except StoreLockedError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(3) from None
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
def report(config: ConfigOpt = Path("configs/default.yaml")):
    """Re-render the report of the store's latest run (no ingest, no embedding, no clustering)."""
    _offline_env()
    _check_config(config)
    from flows.nightly import rerender

    summary = rerender(str(config))
    typer.secho(f"Report: {summary['report']}", fg=typer.colors.GREEN)


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
def sources():
    """What each source kind expects: required and optional fields, and how to map your columns."""
    from nlp.schema import ITEM_COLUMNS
    from nlp.sources import describe_kinds

    for kind, fields in describe_kinds().items():
        typer.secho(f"{kind}", bold=True)
        typer.echo(f"  required: {', '.join(fields['required'])}")
        typer.echo(f"  optional: {', '.join(fields['optional'])}")
    typer.echo("\nMap your file's columns in the config, e.g.\n"
               "  sources:\n    - {name: shop, kind: review, path: data/reviews.csv,\n"
               "       columns: {text: review_text, created_at: posted_at, rating: stars}}\n"
               "Files: CSV (UTF-8, UTF-8 BOM, CP932/Shift-JIS auto-detected), JSON, JSONL, Parquet.\n"
               "Ticket text may join several columns: columns: {text: [subject, body]}.\n"
               f"Canonical columns stored: {', '.join(ITEM_COLUMNS)}")


if __name__ == "__main__":
    app()
