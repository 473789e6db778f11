"""Glue between steps that is still pure: which embedding space an item belongs to, stage example vectors,
and the per-item frame that ranking and trends read."""

from __future__ import annotations

import pandas as pd

from nlp.config import EmbedConfig


def embedding_space(langs: pd.Series, cfg: EmbedConfig) -> pd.Series:
    """The language whose embedder serves each item (its own if configured, else the fallback)."""
    return langs.where(langs.isin(list(cfg.by_language)), cfg.fallback_language).astype(str)


def scored_items(items: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """Items joined with their run results (cluster_id, centrality, stage, stage_score, sentiment)."""
    cols = ["item_id", "cluster_id", "centrality", "stage", "stage_score", "sentiment"]
    return items.merge(assignments[cols], on="item_id", how="inner", validate="one_to_one")
