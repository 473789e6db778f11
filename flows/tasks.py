"""Prefect tasks of the nightly flow's middle: plan the clustering, cluster, describe and identify issues,
journey stages, pinned issues, then save the results, rank and publish. Reading is in flows/ingest.py, tokenizing
and embedding in flows/embedding.py, sentiment in flows/sentiment.py; the logic is in nlp/, each task a thin
wrapper that logs what it did."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.embedding import model_keys
from nlp.analysis import centring, configured_language, embedding_space, space_spec
from nlp.cluster import cluster_embeddings
from nlp.config import PipelineConfig
from nlp.delta import clustering_plan, delta_clusters, delta_descriptions, delta_scope, fit_key
from nlp.embed import get_embedder
from nlp.issues import issue_tracking
from nlp.label import centrality, describe_clusters
from nlp.names import sentence_encoder
from nlp.phrases import pin_items_by_space, stage_similarities
from nlp.records import IssueTracking, KnownIssues, PriorRun, ReportMeta, ReportTables, RunPlan
from nlp.report import (build_report, render_alerts_markdown, render_html, render_markdown, stage_name,
                        write_report_files)
from nlp.report.write import local_times
from nlp.stages import assign_stages, calibrated_stages, keyword_hits
from nlp.store import Store
from nlp.tables import report_tables
from nlp.taxonomy import load_taxonomy
from nlp.tokenize import Tokens


@task
def analysis_scope(cfg: PipelineConfig, items: pd.DataFrame, plan: RunPlan, prior: PriorRun) -> np.ndarray:
    """Which items this run tokenizes and scores: all of them for a full fit; for a delta run, those of
    nlp.delta.delta_scope (the cached vectors tell which texts changed). The others keep the last run's results."""
    if not plan.delta:
        return np.ones(len(items), dtype=bool)
    store = Store(cfg.store.path)
    space = embedding_space(items["lang"], cfg.embed)
    embedded = set()
    for name in space.unique():
        hashes = items.loc[(space == name).to_numpy(), "content_hash"].tolist()
        embedded |= store.cache.embedded(hashes, get_embedder(space_spec(name, cfg.embed)).model_key)
    scope = delta_scope(items, prior.assignments, embedded, plan.as_of, cfg.cluster)
    get_run_logger().info("delta: %d of %d items are new, changed or recent outliers", int(scope.sum()), len(items))
    return scope


@task
def plan_clustering(cfg: PipelineConfig, items: pd.DataFrame, prior: PriorRun) -> RunPlan:
    """'full' (UMAP + HDBSCAN from scratch) or 'delta' (new items into known issues), as nlp.delta.clustering_plan
    decides from the last full fit and the known issues."""
    as_of = items["created_at"].max() if len(items) else pd.Timestamp.now(tz="UTC")
    plan, age, model_changed = clustering_plan(as_of, fit_key(cfg), prior.last_full_fit, prior.issues,
                                               model_keys(cfg), cfg.cluster, n_items=len(items))
    fitted = (prior.last_full_fit or {}).get("items")
    since = "" if age is None else (f" (last full fit {age.days} days ago"
                                    + (f", on {fitted} of the window's {len(items)} items" if fitted else "") + ")")
    get_run_logger().info("clustering: %s%s%s", plan.clustering, since,
                          "; the known issues were made by another embedding model" if model_changed else "")
    return plan


@task
def cluster_items(cfg: PipelineConfig, items: pd.DataFrame, vectors: dict[str, np.ndarray],
                  plan: RunPlan, scope: np.ndarray, prior: PriorRun) -> tuple[pd.DataFrame, str]:
    """(item_id, space (embedding space), cluster_id, centrality; the clustering done): a full fit, or (delta)
    new items into known issues, with the new items that fit none clustered among themselves."""
    space, mode = embedding_space(items["lang"], cfg.embed), plan.clustering
    centered, groups = centring(items["lang"], vectors, cfg)
    if mode == "delta":
        assigned = _into_known_issues(cfg, items, space, vectors, centered, scope, prior, groups)
    else:
        assigned = cluster_embeddings(items["item_id"], space, vectors, cfg.cluster, centered, groups)
        assigned = items[["item_id"]].merge(assigned, on="item_id", how="left")
    assigned["centrality"] = centrality(assigned, vectors)
    n_clusters = assigned.loc[assigned["cluster_id"] != "outlier", "cluster_id"].nunique()
    get_run_logger().info("cluster (%s): %d issues, %.0f%% outliers", mode, n_clusters,
                          100 * (assigned["cluster_id"] == "outlier").mean() if len(assigned) else 0)
    return assigned, mode


def _into_known_issues(cfg: PipelineConfig, items: pd.DataFrame, space: pd.Series,
                       vectors: dict[str, np.ndarray], centered: frozenset[str], scope: np.ndarray,
                       prior: PriorRun, groups: pd.Series | None = None) -> pd.DataFrame:
    """New items into the known issues, each only within its issue's radius; the items in scope that fit none
    are clustered among themselves, and a group as tight as the known issues becomes a new issue (issue
    matching then names it), the rest stay outliers (nlp.delta.delta_clusters)."""
    base = pd.DataFrame({"item_id": items["item_id"].to_numpy(), "space": space.to_numpy()})
    # items seen by the last run keep what it gave them (outliers too: the same data twice gives the same answer)
    seen = prior.members(include_outliers=True)
    return delta_clusters(base, vectors, seen, prior.issues, scope, cfg.cluster, cfg.issues, centered,
                          model_keys(cfg), groups)


@task
def describe_items(cfg: PipelineConfig, items: pd.DataFrame, assigned: pd.DataFrame,
                   tokens: list[Tokens | None], plan: RunPlan, prior: PriorRun) -> pd.DataFrame:
    """Keyphrases, label and verbatims per cluster. A delta run describes only its new clusters; the known
    issues keep the last run's description (with this run's size)."""
    langs = configured_language(items["lang"], cfg.embed)  # "other" items are described as the fallback language
    encode = sentence_encoder(cfg.label.name_embedder) if cfg.label.names else None
    if not plan.delta:
        return describe_clusters(assigned, items["text"], tokens, cfg.label, langs, cfg.report.language, encode)
    return delta_descriptions(assigned, items["text"], tokens, langs, prior.clusters, cfg.label, cfg.report.language,
                              encode)


@task
def identify_issues(cfg: PipelineConfig, run_id: str, items: pd.DataFrame, assigned: pd.DataFrame,
                    clusters: pd.DataFrame, vectors: dict[str, np.ndarray], prior: PriorRun) -> IssueTracking:
    """Give this run's clusters the ids of the issues they continue (or new ids); returns the assignments and
    clusters under issue ids (issue_id from here on), the issue rows to store and the issue events."""
    as_of = items["created_at"].max() if len(items) else pd.Timestamp.now(tz="UTC")
    tracking = issue_tracking(assigned, clusters, vectors, prior, run_id, as_of, cfg.issues, model_keys(cfg))
    events, issues = tracking.known.events, tracking.states
    counts = events["event"].value_counts().to_dict()
    get_run_logger().info("issues: %d continued, %s", int((~issues["issue_id"].isin(events["issue_id"])).sum()),
                          ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "no changes")
    return tracking


@task
def stage_items(cfg: PipelineConfig, items: pd.DataFrame, assigned: pd.DataFrame,
                vectors: dict[str, np.ndarray]) -> pd.DataFrame:
    """Journey stage per item, in the item's own embedding space: (calibrated.v2) against every stage's
    prototypes (name, description, examples, keywords) with keyword evidence and the issue's vote, or
    (similarity.v1) against the stage examples."""
    sims = stage_similarities(cfg, items, vectors)
    if cfg.stages.method == "calibrated.v2":
        hits = keyword_hits(items["text"], cfg.stages.stages)
        return calibrated_stages(items, sims, hits, assigned["issue_id"], cfg.stages)
    return assign_stages(items, sims, assigned["issue_id"], cfg.stages)


@task
def pinned_items(cfg: PipelineConfig, items: pd.DataFrame, assigned: pd.DataFrame,
                 vectors: dict[str, np.ndarray]) -> pd.DataFrame:
    """The taxonomy's pinned issues take the items nearest their examples, in each item's own space (every
    run, full fit or delta, so a pinned issue holds the same items whatever the run): nlp.phrases.pin_items_by_space."""
    taxonomy = load_taxonomy(cfg.taxonomy.path)
    if not taxonomy.pinned:
        return assigned
    out = pin_items_by_space(cfg, taxonomy, items, assigned, vectors)
    get_run_logger().info("taxonomy: %d items in %d pinned issues", int(out["issue_id"].str.startswith("pin-").sum()),
                          len(taxonomy.pinned))
    return out


@task(retries=2, retry_delay_seconds=5)
def save_results(cfg: PipelineConfig, run_id: str, assignments: pd.DataFrame, clusters: pd.DataFrame,
                 issues: pd.DataFrame, events: pd.DataFrame) -> None:
    Store(cfg.store.path).results.save(run_id, assignments, clusters, issues, events)


@task
def rank_items(cfg: PipelineConfig, items: pd.DataFrame, assignments: pd.DataFrame, clusters: pd.DataFrame,
               issues: KnownIssues, answers: pd.DataFrame, seen_before: set[str] | None,
               stored: pd.DataFrame) -> ReportTables:
    """The report's tables (nlp.tables.report_tables) with the config's taxonomy file; a taxonomy edit that no
    longer applies is a warning."""
    tables = report_tables(cfg, load_taxonomy(cfg.taxonomy.path), items, assignments, clusters, issues, answers,
                           seen_before, stored)
    for issue_id in tables.taxonomy_stale:
        get_run_logger().warning("taxonomy: the edit of %s no longer applies (no such issue); update %s",
                                 issue_id, cfg.taxonomy.path)
    return tables


@task(retries=2, retry_delay_seconds=5)
def publish_report(cfg: PipelineConfig, tables: ReportTables, meta: ReportMeta, manifest: dict) -> dict:
    """Write the report files under report.out_dir/<run date>/ and publish Prefect artifacts."""
    report = build_report(cfg, tables, meta)
    out_dir = Path(cfg.report.out_dir) / meta.run_date
    csv_tables = {
        "pain_points": tables.pain_points.assign(stage_name=lambda f: f["stage"].map(lambda k: stage_name(cfg, k))),
        "stage_weekly": tables.stage_weekly, "issue_weekly": tables.issue_weekly,
        "issue_daily": tables.issue_daily, "followup": tables.followup, "alerts": tables.alerts,
        **{name: getattr(tables, name) for name in ("overall_metrics", "stage_metrics", "issue_metrics",
                                                    "issue_impact", "listening", "abuse", "held_back",
                                                    "segment_lift", "segment_metrics")},
        "taxonomy_stale": pd.DataFrame({"issue_id": pd.Series(list(tables.taxonomy_stale), dtype=object)}),
    }
    # one time zone in every file: the config's (the store keeps UTC)
    csv_tables = {name: local_times(frame, cfg.ingest.timezone) for name, frame in csv_tables.items()}
    markdown = render_markdown(report)
    written = write_report_files(out_dir, render_html(report), markdown, csv_tables, manifest, report)
    create_markdown_artifact(markdown=markdown, key="koe-report", description=cfg.report.title)
    top = tables.pain_points[tables.pain_points["rank"] <= 3]
    create_table_artifact(key="koe-pain-points", table=top[["stage", "rank", "label", "count", "negative_share",
                                                            "growth", "score"]].to_dict(orient="records"))
    logger = get_run_logger()
    if meta.rerendered_at:  # the run published its alerts; a re-render does not raise them again
        logger.info("report re-rendered: %s", written["report.html"])
        return written
    for a in tables.alerts.itertuples():  # WARNING, so a notification automation can hook on them
        logger.warning("koe alert: %s issue %s (%s), stage %s: %d recent items %s", a.alert, a.issue_id, a.label,
                       a.stage, a.recent_count, a.detail)
    if report["changes"]:
        create_markdown_artifact(markdown=render_alerts_markdown(report), key="koe-alerts",
                                 description="koe: what changed since the last run")
    logger.info("report written: %s", written["report.html"])
    return written
