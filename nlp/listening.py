"""Social listening: how often our brands and competitors are mentioned, with what sentiment, about which issues."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from nlp.cluster import OUTLIER
from nlp.config import Brand, ListeningConfig
from nlp.normalize import normalize_text

LISTENING_COLUMNS = ["name", "role", "mentions", "share", "mean_sentiment", "negative_share", "by_kind", "top_issues"]


def mention_mask(texts: pd.Series, brand: Brand) -> np.ndarray:
    """Items whose text names the brand in any of its spellings (NFKC, case-insensitive; Latin names as whole
    words, so "Koe" does not match "Koeln")."""
    pattern = re.compile("|".join(_variant(v) for v in sorted({brand.name, *brand.variants}, key=len, reverse=True)),
                         re.IGNORECASE)
    return texts.fillna("").map(lambda t: bool(pattern.search(t))).to_numpy(dtype=bool)


def _variant(name: str) -> str:
    name = normalize_text(name)
    escaped = re.escape(name)
    # Latin names as whole Latin words: "KoeMartは" matches (は is a word character to \w, so not \b)
    return rf"(?<![A-Za-z0-9_]){escaped}(?![A-Za-z0-9_])" if name.isascii() else escaped


def brand_mentions(scored: pd.DataFrame, cfg: ListeningConfig, negative_below: float) -> pd.DataFrame:
    """One row per configured brand and competitor: mentions, share of all items, mean sentiment, negative
    share, mentions per source kind and the top issues (issue_id, count) among the mentions."""
    rows = []
    for role, brands in (("brand", cfg.brands), ("competitor", cfg.competitors)):
        for brand in brands:
            hit = scored[mention_mask(scored["text"], brand)]
            issues = hit.loc[hit["issue_id"] != OUTLIER, "issue_id"].value_counts()
            issues = issues.sort_index().sort_values(ascending=False, kind="stable").head(cfg.top_issues)
            rows.append({
                "name": brand.name, "role": role, "mentions": int(len(hit)),
                "share": round(len(hit) / len(scored), 4) if len(scored) else 0.0,
                "mean_sentiment": round(float(hit["sentiment"].mean()), 4) if len(hit) else None,
                "negative_share": round(float((hit["sentiment"] < negative_below).mean()), 4) if len(hit) else None,
                "by_kind": {k: int(v) for k, v in hit["source_kind"].value_counts().sort_index().items()},
                "top_issues": [{"issue_id": c, "count": int(n)} for c, n in issues.items()],
            })
    return pd.DataFrame(rows, columns=LISTENING_COLUMNS)
