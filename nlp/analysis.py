"""Glue between steps that is still pure: which embedding space an item belongs to, and the per-item frame
that ranking and trends read."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from nlp.config import EmbedConfig, EmbedderSpec, PipelineConfig
from nlp.records import StoredRun


def embedding_spaces(cfg: EmbedConfig) -> dict[str, list[str]]:
    """Space name -> the languages embedded in it. Languages configured with the same embedder share one
    space (e.g. a multilingual model for ja and en gives ``en+ja``), so their complaints can share a cluster;
    with ``space: bilingual`` every language is in one space."""
    if cfg.space == "bilingual":
        langs = sorted(cfg.by_language)
        return {"+".join(langs): langs}
    groups: dict[EmbedderSpec, list[str]] = {}
    for lang in sorted(cfg.by_language):
        groups.setdefault(cfg.by_language[lang], []).append(lang)
    return {"+".join(langs): langs for langs in groups.values()}


def configured_language(langs: pd.Series, cfg: EmbedConfig) -> pd.Series:
    """Each item's language as the embedding sees it: its own, or the fallback language for one not configured."""
    return langs.where(langs.isin(list(cfg.by_language)), cfg.fallback_language).astype(str)


def embedding_space(langs: pd.Series, cfg: EmbedConfig) -> pd.Series:
    """The space of each item: its language's, or the fallback language's for languages not configured."""
    lang_to_space = {lang: name for name, members in embedding_spaces(cfg).items() for lang in members}
    return configured_language(langs, cfg).map(lang_to_space).astype(str)


def space_spec(space: str, cfg: EmbedConfig) -> EmbedderSpec:
    """The embedder of a space."""
    return cfg.bilingual if cfg.space == "bilingual" else cfg.by_language[embedding_spaces(cfg)[space][0]]


def scored_items(items: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """Items joined with their run results (issue_id, centrality, stage, stage_score, sentiment)."""
    cols = ["item_id", "issue_id", "centrality", "stage", "stage_score", "sentiment"]
    return items.merge(assignments[cols], on="item_id", how="inner", validate="one_to_one")


def centring(langs: pd.Series, spaces: Iterable[str], cfg: PipelineConfig) -> tuple[frozenset[str], pd.Series | None]:
    """Which embedding spaces clustering mean-centres (cfg.cluster.center: "always"; "auto" those whose embedder
    shares a common direction; "per_language" those too and every space of several languages), and the groups
    each is centred by (per_language: each item's configured language on its own mean; else None: one mean)."""
    from nlp.embed import get_embedder

    centre = cfg.cluster.center
    shared = {name for name, members in embedding_spaces(cfg.embed).items() if len(members) > 1}
    centred = frozenset(name for name in spaces if centre == "always" or (
        centre in ("auto", "per_language") and get_embedder(space_spec(name, cfg.embed)).common_direction)
        or (centre == "per_language" and name in shared))
    groups = configured_language(langs, cfg.embed).reset_index(drop=True) if centre == "per_language" else None
    return centred, groups


def survey_answers(items: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(answers, commented): the survey answers without a comment count in the CX metrics and the follow-up
    queue, not in the text analysis, which gets the items with a text."""
    empty = (items["text"] == "").to_numpy()
    return items[empty].reset_index(drop=True), items[~empty].reset_index(drop=True)


def run_items(stored: StoredRun) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(items, answers) of a completed run as it read them: the items it analysed (those with a result) and the
    survey answers without a comment of its window (survey_answers, as the run split them). A run recorded
    before koe kept its window: the answers created in the span of its analysed items."""
    answers, commented = survey_answers(stored.items)
    items = commented[commented["item_id"].isin(stored.assignments["item_id"])].reset_index(drop=True)
    if "window" not in stored.summary and len(items):
        answers = answers[answers["created_at"].between(items["created_at"].min(), items["created_at"].max())]
    return items, answers.reset_index(drop=True)
