"""The report's tables of one run, from its items and results: pain points per stage, trends, CX metrics and
impact, the follow-up queue, social listening, abusive messages, alerts and segments. Pure: the caller reads the
store and the taxonomy file."""

from __future__ import annotations

import pandas as pd

from nlp.abuse import abuse_by_stage, abuse_kinds
from nlp.alerts import issue_alerts, issue_cores
from nlp.analysis import scored_items
from nlp.config import PipelineConfig
from nlp.listening import brand_mentions
from nlp.metrics import metric_tables
from nlp.problems import held_back, issue_profiles, main_stages
from nlp.rank import followup_items, rank_pain_points
from nlp.records import KnownIssues, ReportTables
from nlp.segments import segment_lift, segment_metrics
from nlp.sentiment import answer_sentiment
from nlp.stages import touchpoint_stages
from nlp.taxonomy import Taxonomy, apply_taxonomy
from nlp.trends import growth, period_trends, weekly_trends


def report_tables(cfg: PipelineConfig, taxonomy: Taxonomy, items: pd.DataFrame, assignments: pd.DataFrame,
                  clusters: pd.DataFrame, issues: KnownIssues, answers: pd.DataFrame, seen_before: set[str] | None,
                  stored: pd.DataFrame) -> ReportTables:
    """The report's tables. ``taxonomy``: the analysts' edits (applied after the issues were
    identified; the edits that no longer apply are listed as taxonomy_stale); ``issues``: this run's issue
    events, labels of every known issue and whether this is the first run; ``answers``: survey answers without a
    comment (they count in the metrics and the follow-up queue only); ``seen_before``: the item ids of the run
    before (the follow-up queue marks the others new); ``stored``: every stored item with its latest result
    (store.results.history), for issue trends beyond the window."""
    scored = scored_items(items, assignments)
    # the analysts' taxonomy (renames, merges, splits, stages, noise), after the issues were identified
    scored, clusters, taxonomy = apply_taxonomy(taxonomy, scored, clusters, set(issues.labels), cfg.report.language)
    noise = set(taxonomy["noise"])
    scored["abuse"] = pd.Series(abuse_kinds(scored["text"].tolist()), index=scored.index, dtype="string")
    scored["quotable"] = scored["abuse"].isna() | cfg.agent.quote_abusive
    tz, neg = cfg.ingest.timezone, cfg.sentiment.negative_below
    history = _history(stored, scored)
    responses = _responses(scored, answers, cfg)
    metrics = metric_tables(responses, cfg.metrics)
    metrics.pop("pair_impact")  # each issue ranks once, under its main stage, on its own growth and impact
    grown = growth(scored, ["issue_id"], tz, cfg.trends)
    ranked = rank_pain_points(scored, clusters, grown, metrics["issue_impact"], cfg.rank, neg, noise)
    profiles = issue_profiles(scored, clusters.set_index("issue_id")["space"], cfg.rank, neg, noise)
    as_of = scored["created_at"].max() if len(scored) else pd.Timestamp.now(tz="UTC")
    followup, followup_rest = followup_items(responses, cfg.followup, as_of, seen_before)
    return ReportTables(
        scored=scored, clusters=clusters, pain_points=ranked, **metrics,
        stage_weekly=weekly_trends(scored, "stage", tz, neg),
        issue_weekly=weekly_trends(history, "issue_id", tz, neg),
        issue_daily=period_trends(history, "issue_id", tz, neg, "day"),
        followup=followup, followup_rest=int(followup_rest), alerts=_alerts(scored, issues, cfg, as_of),
        listening=brand_mentions(scored, cfg.listening, neg),
        abuse=abuse_by_stage(scored),
        held_back=held_back(profiles, clusters),
        taxonomy_stale=tuple(taxonomy["stale"]),
        segment_lift=segment_lift(scored, cfg.segments),
        segment_metrics=segment_metrics(responses, cfg.metrics.confidence),
    )


def _history(stored: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """Every stored item with its latest issue, this run's items as they are now: issue trends reach back beyond
    the window."""
    return pd.concat([stored[~stored["item_id"].isin(scored["item_id"])],
                      scored[stored.columns.intersection(scored.columns)]], ignore_index=True)


def _responses(scored: pd.DataFrame, answers: pd.DataFrame, cfg: PipelineConfig) -> pd.DataFrame:
    """The items and the survey answers without a comment (placed by their touchpoint, with the sentiment of
    their scores): what the metrics and the follow-up queue count."""
    return pd.concat([scored, answers.assign(stage=touchpoint_stages(answers, cfg.stages),
                                             sentiment=answer_sentiment(answers))], ignore_index=True)


def _alerts(scored: pd.DataFrame, issues: KnownIssues, cfg: PipelineConfig, as_of: pd.Timestamp) -> pd.DataFrame:
    """The run's alerts, each with its issue's label and main stage."""
    alerts = issue_alerts(issue_cores(scored, issues.radius), issues.events, cfg.alerts, as_of, issues.first_run)
    alerts["label"] = alerts["issue_id"].map(issues.labels).fillna(alerts["issue_id"])
    alerts["stage"] = alerts["issue_id"].map(main_stages(scored)).fillna("unassigned")
    return alerts
