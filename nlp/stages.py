"""Journey stages. ``calibrated.v2`` (the default): each stage's name, description, examples and keywords (ja and
en) are prototypes embedded like the items; an item's score for a stage is its prototype similarity minus the
stage's background similarity over the night's items (so a stage with generic examples absorbs nothing by
default), plus matched keywords and source/channel hints; an issue's items vote (softmax of the scores) and the
vote is combined with each item's own; an item that fits no stage is ``unassigned``. ``similarity.v1`` (koe
before issue 17): similarity to the top-k examples with cluster smoothing (``assign_stages``)."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from nlp.cluster import OUTLIER
from nlp.config import Stage, StagesConfig

UNASSIGNED = "unassigned"


def stage_examples(stages: list[Stage], langs: list[str]) -> tuple[list[str], np.ndarray, list[str]]:
    """The example phrases of every stage in each of ``langs`` (English examples serve languages other than
    Japanese), each one's stage index, and each one's language."""
    texts, owner, text_langs = [], [], []
    for lang in langs:
        for s, stage in enumerate(stages):
            examples = stage.examples_ja if lang == "ja" else stage.examples_en
            examples = examples or [stage.name_ja if lang == "ja" else stage.name_en]
            texts += examples
            owner += [s] * len(examples)
            text_langs += ["ja" if lang == "ja" else "en"] * len(examples)
    return texts, np.asarray(owner, dtype=int), text_langs


def stage_prototypes(stages: list[Stage], langs: list[str]) -> tuple[list[str], np.ndarray, list[str]]:
    """Every stage's prototype texts for a space holding ``langs``: its name, description, examples and keywords
    in each language (Japanese uses ``description_ja``, or ``description`` when it is written in Japanese; a stage
    with nothing in Japanese but its name also lends its English texts), each one's stage index and language."""
    texts, owner, text_langs = [], [], []
    for lang in sorted({"ja" if lang == "ja" else "en" for lang in langs}):
        for s, stage in enumerate(stages):
            own = _prototype_texts(stage, lang)
            if lang == "ja" and len(own) == 1:
                own += [(t, "en") for t, _ in _prototype_texts(stage, "en")]
            texts += [t for t, _ in own]
            text_langs += [lg for _, lg in own]
            owner += [s] * len(own)
    return texts, np.asarray(owner, dtype=int), text_langs


def _prototype_texts(stage: Stage, lang: str) -> list[tuple[str, str]]:
    if lang == "ja":
        description = stage.description_ja or (stage.description if _has_japanese(stage.description) else "")
        texts = [stage.name_ja, description, *stage.examples_ja, *stage.keywords_ja]
    else:
        description = "" if _has_japanese(stage.description) else stage.description
        texts = [stage.name_en, description, *stage.examples_en, *stage.keywords_en]
    return [(t, lang) for t in dict.fromkeys(t.strip() for t in texts) if t]


def _has_japanese(text: str) -> bool:
    return bool(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text))


def prototype_similarity(item_vectors: np.ndarray, proto_vectors: np.ndarray, proto_stage: np.ndarray,
                         n_stages: int, cfg: StagesConfig, center: bool = False) -> np.ndarray:
    """(n_items, n_stages): ``cfg.centroid_weight`` x the cosine to the stage's prototype centroid + the rest x
    the mean cosine to its ``cfg.top_k`` most similar prototypes. ``center``: remove the items' mean vector
    from both first (averaged word vectors share a direction that makes everything look alike)."""
    items, protos = item_vectors, proto_vectors
    if center and len(items):
        mean = items.mean(axis=0, keepdims=True)
        items, protos = _unit(items - mean), _unit(protos - mean)
    kept = np.linalg.norm(proto_vectors, axis=1) > 0  # texts with nothing to embed are no prototype
    protos, proto_stage = protos[kept], proto_stage[kept]
    centroids = np.zeros((n_stages, protos.shape[1]), dtype=np.float32)
    np.add.at(centroids, proto_stage, protos)
    top = stage_similarity(items, protos, proto_stage, n_stages, cfg.top_k)
    return (cfg.centroid_weight * (items @ _unit(centroids).T) + (1 - cfg.centroid_weight) * top).astype(np.float32)


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1.0, norms)).astype(np.float32)


def keyword_hits(texts: pd.Series, stages: list[Stage]) -> np.ndarray:
    """(n_items, n_stages): how many of each stage's keywords (ja and en) occur in each text, at most 2. Latin
    keywords match whole words (case-insensitive, plural -s/-es allowed), Japanese ones anywhere."""
    folded = texts.astype(str).map(lambda t: unicodedata.normalize("NFKC", t).lower())
    out = np.zeros((len(texts), len(stages)), dtype=np.float32)
    for s, stage in enumerate(stages):
        words = [unicodedata.normalize("NFKC", k).lower().strip() for k in stage.keywords_ja + stage.keywords_en]
        words = sorted({w for w in words if w}, key=len, reverse=True)
        if not words:
            continue
        parts = [re.escape(w) if _has_japanese(w) else rf"(?<![a-z0-9]){re.escape(w)}(?:s|es)?(?![a-z0-9])"
                 for w in words]
        pattern = re.compile("|".join(parts))
        out[:, s] = np.minimum(folded.map(lambda t: len(set(pattern.findall(t)))).to_numpy(), 2)
    return out


def calibrated_stages(items: pd.DataFrame, similarity: np.ndarray, hits: np.ndarray, issue_ids: pd.Series,
                      cfg: StagesConfig) -> pd.DataFrame:
    """item_id, stage, stage_score (the chosen stage's share of the combined vote), stage_fit (its calibrated
    score). A stage's background is its mean similarity over the items that are not closest to it; the
    calibrated score is similarity - background + keyword_weight x hits + hints; its softmax is each item's vote,
    corrected for the night's stage shares (``prior_iterations``). Items of an issue mix their own vote with the
    issue's mean vote (``issue_vote_weight``); below ``min_score`` an item is unassigned."""
    calibrated = similarity - stage_background(similarity) + cfg.keyword_weight * hits + _hint_bonus(items, cfg)
    votes = _prior_corrected(_softmax(calibrated / cfg.temperature), cfg.prior_iterations)
    w = cfg.issue_vote_weight
    codes, uniques = pd.factorize(issue_ids.to_numpy())
    member = np.asarray(uniques != OUTLIER, dtype=bool)[codes] if len(codes) else np.zeros(0, dtype=bool)
    combined, fit = votes.copy(), calibrated.copy()
    combined[member] = (1 - w) * votes[member] + w * _group_means(votes, codes, len(uniques))[codes[member]]
    fit[member] = (1 - w) * calibrated[member] + w * _group_means(calibrated, codes, len(uniques))[codes[member]]
    best = combined.argmax(axis=1)
    rows = np.arange(len(best))
    score, best_fit = combined[rows, best], fit[rows, best]
    keys = np.array([s.key for s in cfg.stages], dtype=object)
    stage = np.where(best_fit >= cfg.min_score, keys[best] if len(best) else [], UNASSIGNED)
    return pd.DataFrame({"item_id": items["item_id"].to_numpy(), "stage": stage, "stage_score": score.round(4),
                         "stage_fit": best_fit.round(4)})


def stage_background(similarity: np.ndarray) -> np.ndarray:
    """(n_stages,): each stage's mean similarity over the items that are closest to another stage (all items
    when every item is closest to it): what any item scores there, whatever it is about."""
    if not len(similarity):
        return np.zeros(similarity.shape[1], dtype=np.float32)
    nearest = similarity.argmax(axis=1)
    out = np.empty(similarity.shape[1], dtype=np.float32)
    for s in range(similarity.shape[1]):
        others = nearest != s
        out[s] = similarity[others, s].mean() if others.any() else similarity[:, s].mean()
    return out


def _prior_corrected(votes: np.ndarray, iterations: int) -> np.ndarray:
    """Votes re-weighted by the night's stage shares, estimated by EM from the votes themselves (Saerens et al.
    2002): the background removed every stage's pull, this gives a stage that many items are about its weight
    back, as far as the items' own votes say so."""
    prior = np.full(votes.shape[1], 1.0 / votes.shape[1]) if votes.size else None
    out = votes
    for _ in range(iterations if votes.size else 0):
        out = votes * prior
        out = out / out.sum(axis=1, keepdims=True)
        prior = out.mean(axis=0)
    return out.astype(np.float32)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True)) if len(x) else x
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32) if len(x) else x


def _group_means(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    sums = np.zeros((n_groups, values.shape[1]), dtype=np.float64)
    np.add.at(sums, codes, values)
    return (sums / np.maximum(np.bincount(codes, minlength=n_groups), 1)[:, None]).astype(np.float32)


def stage_similarity(item_vectors: np.ndarray, example_vectors: np.ndarray, example_stage: np.ndarray,
                     n_stages: int, top_k: int) -> np.ndarray:
    """(n_items, n_stages): mean cosine similarity to each stage's ``top_k`` most similar examples."""
    sims = item_vectors @ example_vectors.T
    out = np.zeros((len(item_vectors), n_stages), dtype=np.float32)
    for s in range(n_stages):
        cols = sims[:, example_stage == s]
        k = min(top_k, cols.shape[1])
        out[:, s] = np.sort(cols, axis=1)[:, -k:].mean(axis=1) if k else 0.0
    return out


def assign_stages(items: pd.DataFrame, similarity: np.ndarray, issue_ids: pd.Series,
                  cfg: StagesConfig) -> pd.DataFrame:
    """item_id, stage, stage_score. ``similarity`` rows align with ``items``; items of one cluster share
    cfg.cluster_weight of their evidence so an issue's items land in one stage unless they clearly differ."""
    sims = similarity + _hint_bonus(items, cfg)
    smoothed = sims.copy()
    # each cluster's mean similarity, by one pass over the items (a mask per cluster was 3.5 s at 100k items)
    codes, uniques = pd.factorize(issue_ids.to_numpy())
    sums = np.zeros((len(uniques), sims.shape[1]), dtype=np.float64)
    np.add.at(sums, codes, sims)
    means = (sums / np.bincount(codes, minlength=len(uniques))[:, None]).astype(sims.dtype)
    member = np.asarray(uniques != OUTLIER, dtype=bool)[codes]
    w = cfg.cluster_weight
    smoothed[member] = (1 - w) * sims[member] + w * means[codes[member]]
    best = smoothed.argmax(axis=1)
    score = smoothed[np.arange(len(best)), best]
    keys = np.array([s.key for s in cfg.stages], dtype=object)
    stage = np.where(score >= cfg.threshold, keys[best] if len(best) else [], UNASSIGNED)
    return pd.DataFrame({"item_id": items["item_id"].to_numpy(), "stage": stage, "stage_score": score.round(4)})


def _hint_bonus(items: pd.DataFrame, cfg: StagesConfig) -> np.ndarray:
    bonus = np.zeros((len(items), len(cfg.stages)), dtype=np.float32)
    kinds = items["source_kind"].astype(str).to_numpy()
    channels = items["channel"].astype("string").fillna("").to_numpy()
    touchpoints = items["touchpoint"].astype("string").fillna("").to_numpy() if "touchpoint" in items else \
        np.full(len(items), "")
    for s, stage in enumerate(cfg.stages):
        hit = np.isin(kinds, stage.source_kinds) | np.isin(channels, stage.channels) \
            | np.isin(touchpoints, stage.touchpoints)
        bonus[hit, s] = cfg.hint_bonus
    return bonus


def touchpoint_stages(items: pd.DataFrame, cfg: StagesConfig) -> pd.Series:
    """The stage of items placed by their survey touchpoint alone (answers without a comment): the first stage
    that lists the touchpoint, else unassigned."""
    by_touchpoint = {tp: stage.key for stage in reversed(cfg.stages) for tp in stage.touchpoints}
    return items["touchpoint"].astype("string").map(by_touchpoint).fillna(UNASSIGNED).astype(str)
