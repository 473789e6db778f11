"""The nightly flow: ingest → tokenize → embed (cached) → cluster → name → sentiment → stages → rank → publish."""

from __future__ import annotations

import logging
import signal
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pandas as pd
from prefect import flow
from prefect.utilities.annotations import quote

from flows import embedding, tasks
from flows.ingest import (ingest_sources, load_items, load_prior_run, load_stored_run, package_versions,
                          replay_dates)
from flows.preflight import check_before_work, empty_sources
from flows.runner import partition_runner, runner_info
from flows.sentiment import sentiment_items
from nlp.analysis import embedding_spaces, run_items, space_spec, survey_answers
from nlp.config import PipelineConfig, load_config
from nlp.label import labels_in_language
from nlp.pii import redact_pii
from nlp.records import IngestSummary, KnownIssues, ReportMeta, RunPlan, RunState
from nlp.schema import stable_hash
from nlp.store import Store


@flow(name="nightly", log_prints=True)
def nightly(config_path: str = "configs/default.yaml", since: str | None = None, until: str | None = None) -> dict:
    """Run koe on the config's sources; items created in [since, until] (dates, inclusive) are analysed.
    Runs on one store never overlap: a second one fails at once with StoreLockedError."""
    cfg = load_config(config_path)
    check_before_work(cfg, Path.cwd())
    with Store(cfg.store.path).run_lock():
        run = _start_run(cfg, until)
        with _recorded(cfg, run.run_id):
            return _nightly(cfg, run, since, until)


def _nightly(cfg: PipelineConfig, run: RunState, since: str | None, until: str | None) -> dict:
    with _timed(run, "ingest"):
        ingest = ingest_sources(cfg, run.run_id, Path.cwd())
    empty_sources(cfg, ingest)  # a source that gave nothing fails the run, naming it (unless allow_empty)
    with _timed(run, "load"):
        items, run.window = load_items(cfg, since, until)
        prior = load_prior_run(cfg, run.run_id)  # the store as this run found it, read once
    answers, items = survey_answers(items)
    if items.empty:  # nothing in the window: say so, publish nothing
        summary = {"run_id": run.run_id, "report": None, "files": {}, "items": 0, "alerts": [],
                   "ingest": ingest.as_dict()}
        Store(cfg.store.path).runs.finish(run.run_id, pd.Timestamp.now(tz="UTC"), summary, status="empty")
        return summary
    with partition_runner(cfg) as runner:  # runner: dask maps the tokenize and embed partitions over workers
        with _timed(run, "tokenize"):
            plan = replace(tasks.plan_clustering(cfg, items, prior), runner=runner_info(runner))
            scope = tasks.analysis_scope(cfg, items, plan, prior)  # a delta run works on new items only
            tokens = embedding.tokenize_items(cfg, items, scope, runner)
        with _timed(run, "embed"):
            vectors, run.embedded = embedding.embed_items(cfg, items, tokens, runner)
    # quote(): Prefect would otherwise walk every token of every text on each task call (27 s at 10k items)
    tokens = quote(tokens)
    with _timed(run, "cluster"):
        assigned, clustering = tasks.cluster_items(cfg, items, vectors, plan, scope, prior)
        run.plan = plan = replace(plan, clustering=clustering)
        clusters = tasks.describe_items(cfg, items, assigned, tokens, plan, prior)
        issues = tasks.identify_issues(cfg, run.run_id, items, assigned, clusters, vectors, prior)
        issues = replace(issues, assigned=tasks.pinned_items(cfg, items, issues.assigned, vectors))
    with _timed(run, "sentiment_and_stages"):
        sentiment, run.sentiment = sentiment_items(cfg, items, tokens, scope, issues.assigned, prior)
        stages = tasks.stage_items(cfg, items, issues.assigned, vectors)
    assignments = issues.assigned.merge(stages, on="item_id").merge(sentiment[["item_id", "sentiment"]])
    tasks.save_results(cfg, run.run_id, assignments, issues.clusters, issues.states, issues.known.events)
    return publish(cfg, run, items, assignments, issues.clusters, ingest, issues.known, answers,
                   prior.seen_before, prior.history)


def publish(cfg: PipelineConfig, run: RunState, items: pd.DataFrame, assignments: pd.DataFrame,
            clusters: pd.DataFrame, ingest: IngestSummary, issues: KnownIssues, answers: pd.DataFrame,
            seen_before: set[str] | None, history: pd.DataFrame, record: bool = True) -> dict:
    """Rank, write the report and (``record``) close the run in the store; shared by ``nightly`` and ``koe
    report``, which leaves the run's record as its run wrote it. ``seen_before``: the item ids of the run before
    (store.runs.items_seen_before); ``history``: every stored item's latest result (store.results.history)."""
    with _timed(run, "rank"):
        tables = tasks.rank_items(cfg, items, assignments, clusters, issues, answers, seen_before, history)
    meta = _meta(cfg, run, items, ingest, len(answers))
    manifest = {"run_id": run.run_id, "config": cfg.model_dump(), "versions": package_versions(),
                "models": {lang: space_spec(space, cfg.embed).model_dump()  # each language's embedder as run
                           for space, langs in embedding_spaces(cfg.embed).items() for lang in langs},
                "ingest": ingest.as_dict(), "sentiment": run.sentiment,
                "counts": meta.counts, "timings_s": run.timings}
    with _timed(run, "publish"):
        written = tasks.publish_report(cfg, tables, meta, manifest)
    summary = {"run_id": run.run_id, "report": written["report.html"], "files": written, **meta.counts,
               "answers_only": meta.n_answers_only,
               "alerts": tables.alerts[["issue_id", "alert"]].to_dict(orient="records"), **run.plan.summary(),
               "ingest": ingest.as_dict(), "window": run.window}
    if record:
        Store(cfg.store.path).runs.finish(run.run_id, pd.Timestamp.now(tz="UTC"), summary)
    return summary


def _start_run(cfg: PipelineConfig, until: str | None = None) -> RunState:
    now = pd.Timestamp.now(tz="UTC")
    run_id = f"{now:%Y%m%dT%H%M%S%f}-{stable_hash(cfg.model_dump_json(), length=6)}"
    Store(cfg.store.path).runs.start(run_id, now, cfg.model_dump())
    return _run(cfg, run_id, until)


def _run(cfg: PipelineConfig, run_id: str, until: str | None = None, plan: RunPlan | None = None) -> RunState:
    # a backfill run is dated by the day it replays, so each day keeps its own report
    run_date = until or pd.Timestamp.now(tz=cfg.schedule.timezone).strftime("%Y-%m-%d")
    return RunState(run_id, run_date, plan or RunPlan(None, None, None))


@contextmanager
def _recorded(cfg: PipelineConfig, run_id: str):
    """A run that ends by an exception or a signal is closed in ``runs`` as 'failed' or 'cancelled' with why
    (e.g. "terminated by SIGTERM"), then the exception goes on."""
    try:
        yield
    except BaseException as exc:
        status, why = _ending(exc)
        try:
            Store(cfg.store.path).runs.finish(run_id, pd.Timestamp.now(tz="UTC"), {"error": why}, status=status)
        except Exception:  # noqa: BLE001 - the store itself may be what failed; the first error is the one to see
            pass
        raise


# one line per step for the person at the console (the CLI shows it; Prefect's own per-task lines are off there
# unless --verbose)
progress = logging.getLogger("koe.progress")

# the signal that ended the run, set by the CLI's handler: the SystemExit it raises may reach the run as another
# exception (Prefect's task engine, caught mid state change, raises its own ValueError), the signal is still why
_TERMINATED_BY: list[int] = []


def note_termination(signum: int) -> None:
    _TERMINATED_BY.append(signum)


def terminated_by() -> int | None:
    return _TERMINATED_BY[0] if _TERMINATED_BY else None


def _ending(exc: BaseException) -> tuple[str, str]:
    from prefect.exceptions import TerminationSignal

    if terminated_by() is not None:
        return "cancelled", f"terminated by {signal.Signals(terminated_by()).name}"
    if isinstance(exc, TerminationSignal):
        return "cancelled", f"terminated by {signal.Signals(exc.signal).name}"
    if isinstance(exc, SystemExit) and exc.code == 128 + signal.SIGTERM:
        return "cancelled", "terminated by SIGTERM"
    if isinstance(exc, KeyboardInterrupt):
        return "cancelled", "interrupted (SIGINT)"
    # the type, and the message only from koe's own errors (others may quote a row)
    own = type(exc).__module__.startswith(("flows", "nlp"))
    return "failed", type(exc).__name__ + (f": {redact_pii(str(exc))[:500]}" if own else "")


@contextmanager
def _timed(run: RunState, step: str):
    start = time.perf_counter()
    yield
    run.timings[step] = round(time.perf_counter() - start, 3)
    progress.info("%s done in %.1f s", step, run.timings[step])


def _meta(cfg: PipelineConfig, run: RunState, items: pd.DataFrame, ingest: IngestSummary,
          n_answers_only: int) -> ReportMeta:
    local = items["created_at"].dt.tz_convert(cfg.ingest.timezone)
    counts = {"items": int(len(items)), "embedded": int(run.embedded), **ingest.counts()}
    return ReportMeta(
        run_id=run.run_id, run_date=run.run_date, n_items=int(len(items)), n_quarantined=counts["quarantined"],
        counts=counts, by_kind={k: int(v) for k, v in items["source_kind"].value_counts().sort_index().items()},
        period_start=local.min().strftime("%Y-%m-%d") if len(items) else "-",
        period_end=local.max().strftime("%Y-%m-%d") if len(items) else "-",
        koe_version=package_versions()["koe"], n_answers_only=int(n_answers_only), rerendered_at=run.rerendered_at)


@flow(name="backfill", log_prints=True)
def backfill(config_path: str = "configs/default.yaml", since: str | None = None, until: str | None = None,
             every_days: int = 7) -> dict:
    """Replay history: one nightly run per ``every_days`` days from ``since`` to ``until``, so issue
    identities, trends and alerts exist from the first day. Returns the last run's summary."""
    cfg = load_config(config_path)
    check_before_work(cfg, Path.cwd())
    with Store(cfg.store.path).run_lock():
        empty_sources(cfg, ingest_sources(cfg, "backfill", Path.cwd()))
    dates = replay_dates(cfg, since, until, every_days)
    summary: dict = {}
    for step, day in enumerate(dates, 1):
        progress.info("replay %d/%d: up to %s", step, len(dates), day)
        summary = nightly(config_path, until=day)
    return {**summary, "replayed": dates}


@flow(name="report", log_prints=True)
def rerender(config_path: str = "configs/default.yaml") -> dict:
    """Re-render the report of the store's latest completed run (e.g. after changing report.language)."""
    cfg = load_config(config_path)
    with Store(cfg.store.path).run_lock():  # never while a run writes the store
        return _rerender(cfg, config_path)


def _rerender(cfg: PipelineConfig, config_path: str) -> dict:
    stored = load_stored_run(cfg, config_path)
    items, answers = run_items(stored)  # what the run analysed, and its survey answers without a comment
    # in another report language than the run's, each issue by its name in that language (where it has one)
    labels = dict(zip(stored.issues["issue_id"], stored.issues["label"]))
    clusters, labels = labels_in_language(stored.clusters, labels, cfg.report.language)
    # into the run's own folder (its date), marked as a re-render; its alerts were published by the run itself
    run = _run(cfg, stored.run_id, until=stored.report_date, plan=RunPlan.from_summary(stored.summary))
    run.rerendered_at = pd.Timestamp.now(tz=cfg.ingest.timezone).strftime("%Y-%m-%d %H:%M")
    run.window = stored.summary.get("window")
    # what the run read, as its summary recorded it (a summary from before koe kept it: its totals)
    ingest = IngestSummary.from_run_summary(stored.summary, stored=len(items))
    issues = KnownIssues(events=stored.events, first_run=stored.first_run, labels=labels,
                         radius=dict(zip(stored.issues["issue_id"], stored.issues["radius"])))
    return publish(cfg, run, items, stored.assignments, clusters, ingest, issues, answers, stored.seen_before,
                   stored.history, record=False)


def nightly_deployment(cfg: PipelineConfig, config_path: str):
    """The nightly deployment: the config's cron in its timezone, never two runs at once."""
    from prefect.schedules import Cron

    return nightly.to_deployment(
        name="koe-nightly", schedules=[Cron(cfg.schedule.cron, timezone=cfg.schedule.timezone)],
        parameters={"config_path": config_path}, concurrency_limit=1,
        description=f"koe nightly run of {config_path}")
