"""Naming clusters: c-TF-IDF keyphrases over lemmas and phrases, plus the verbatims closest to the centroid."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd

from nlp.cluster import OUTLIER
from nlp.config import LabelConfig
from nlp.pii import redact_pii
from nlp.tokenize import Tokens

_PHRASE_BOOST = 1.5  # a compound or predicate phrase names an issue better than its words alone


def cluster_keyphrases(cluster_ids: list[str], tokens: list[Tokens], n: int) -> dict[str, list[str]]:
    """Top ``n`` keyphrases per cluster by class-based TF-IDF (BERTopic's c-TF-IDF), within each language."""
    counts: dict[str, Counter] = {}
    for cid, tok in zip(cluster_ids, tokens):
        if cid == OUTLIER:
            continue
        bag = counts.setdefault(cid, Counter())
        bag.update(set(tok.content))
        bag.update({p: _PHRASE_BOOST for p in set(tok.phrases)})
    if not counts:
        return {}
    total = Counter()
    for bag in counts.values():
        total.update(bag)
    avg = sum(sum(b.values()) for b in counts.values()) / len(counts)
    out = {}
    for cid, bag in counts.items():
        size = sum(bag.values()) or 1
        scored = sorted(((tf / size) * math.log(1 + avg / total[t]), t) for t, tf in bag.items() if tf >= 1)
        out[cid] = _dedupe([t for _, t in reversed(scored)], n)
    return out


def _dedupe(terms: list[str], n: int) -> list[str]:
    """Drop a term already contained in (or containing) a better-ranked one: 配送 after 配送が遅い."""
    kept: list[str] = []
    for term in terms:
        if any(term in k or k in term for k in kept):
            continue
        kept.append(term)
        if len(kept) == n:
            break
    return kept


def representative_verbatims(texts: list[str], vectors: np.ndarray, n: int) -> list[str]:
    """The ``n`` distinct texts closest to the centroid, with @handles and any PII redacted."""
    centroid = vectors.mean(axis=0)
    order = np.argsort(-(vectors @ centroid), kind="stable")
    seen, out = set(), []
    for i in order:
        text = redact_pii(texts[i], handles=True)
        if text not in seen:
            seen.add(text)
            out.append(text)
        if len(out) == n:
            break
    return out


def describe_clusters(assigned: pd.DataFrame, texts: pd.Series, tokens: list[Tokens],
                      vectors: dict[str, np.ndarray], cfg: LabelConfig) -> pd.DataFrame:
    """One row per cluster: cluster_id, lang, size, label, keyphrases, verbatims.

    ``assigned`` rows align with ``texts``, ``tokens`` and, per language, the rows of ``vectors[lang]``."""
    keyphrases = cluster_keyphrases(assigned["cluster_id"].tolist(), tokens, cfg.n_keyphrases)
    rows = []
    for lang, vecs in vectors.items():
        in_lang = (assigned["lang"] == lang).to_numpy()
        sub = assigned[in_lang].reset_index(drop=True)
        sub_texts = texts[in_lang].tolist()
        for cid, group in sub.groupby("cluster_id", sort=True):
            if cid == OUTLIER:
                continue
            idx = group.index.to_numpy()
            terms = keyphrases.get(cid, [])
            sep = "・" if lang == "ja" else " / "
            rows.append({
                "cluster_id": cid, "lang": lang, "size": len(idx),
                "label": sep.join(terms[: cfg.max_label_terms]) or cid,
                "keyphrases": terms,
                "verbatims": representative_verbatims([sub_texts[i] for i in idx], vecs[idx], cfg.n_verbatims),
            })
    columns = ["cluster_id", "lang", "size", "label", "keyphrases", "verbatims"]
    return pd.DataFrame(rows, columns=columns).sort_values("cluster_id").reset_index(drop=True)
