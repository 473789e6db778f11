"""The sentiment task: the rules, the shipped head or a head fitted on the store's own ratings, per issue; the
store's embedding cache for the head's vectors."""

from __future__ import annotations

import numpy as np
import pandas as pd
from prefect import get_run_logger, task

from nlp.config import PipelineConfig
from nlp.embed import embed_texts, get_embedder
from nlp.records import PriorRun
from nlp.sentiment import rated_sentiment, score_sentiment, text_sentiment
from nlp.sentiment_head import (SentimentHead, blended_scores, fit_ratings_head, issue_scores, rating_labels,
                                ratings_fit_plan, ratings_key, shipped_head_for, split_sentences)
from nlp.store import Store
from nlp.tokenize import Tokens, tokenize_texts


@task
def sentiment_items(cfg: PipelineConfig, items: pd.DataFrame, tokens: list[Tokens | None], scope: np.ndarray,
                    assigned: pd.DataFrame, prior: PriorRun) -> tuple[pd.DataFrame, dict]:
    """Sentiment of the items in scope, per issue (``assigned``: item_id, issue_id); the others (a delta run)
    keep the last run's score (``prior``). Also what scored them, for the manifest: the rules, the shipped head or a head
    fitted on the store's own ratings (with its key, counts, or why not). The ratings are those of the whole
    window (``items``); the issue centroids come from the items in scope (in a delta run, the new ones)."""
    idx = np.flatnonzero(scope)
    scoped, scoped_tokens = items.iloc[idx].reset_index(drop=True), [tokens[i] for i in idx]
    if cfg.sentiment.model == "rules.v1":
        scored, info = score_sentiment(scoped, scoped_tokens, cfg.sentiment), {"model": "rules.v1"}
    else:
        store, embedder = Store(cfg.store.path), get_embedder(cfg.sentiment.embedder)
        head, info = _sentiment_head(cfg, items, tokens, store, embedder)
        vectors = _head_vectors(cfg, store, embedder, scoped["text"].tolist(), scoped_tokens,
                                scoped["content_hash"].tolist())
        scored = score_sentiment(scoped, scoped_tokens, cfg.sentiment, head, vectors)
        clusters = scoped[["item_id"]].merge(assigned[["item_id", "issue_id"]], on="item_id", how="left")
        per_issue = _issue_text_scores(cfg, store, embedder, head, scoped, vectors, scored["text_sentiment"],
                                       clusters["issue_id"].fillna("outlier").to_numpy())
        scored = scored.assign(item_sentiment=scored["sentiment"],
                               sentiment=rated_sentiment(scoped, per_issue, cfg.sentiment))
    get_run_logger().info("sentiment: %s", ", ".join(f"{k} {v}" for k, v in info.items() if k != "classes"))
    if scope.all():
        return scored, info
    previous = prior.assignments
    kept = items.loc[~scope, ["item_id"]].merge(previous[["item_id", "sentiment"]], on="item_id", how="left")
    merged = pd.concat([scored, kept], ignore_index=True).set_index("item_id").loc[items["item_id"]].reset_index()
    return merged, info


def _sentiment_head(cfg: PipelineConfig, items: pd.DataFrame, tokens: list[Tokens | None], store: Store,
                    embedder) -> tuple[SentimentHead, dict]:
    """A head fitted on the window's rated items (cached in the store by their hash) when there are enough,
    else the shipped one."""
    labels = rating_labels(items)
    plan = {"model": "head.v1", **ratings_fit_plan(labels, cfg.sentiment)}
    if not plan.pop("fit"):
        return shipped_head_for(embedder.model_key), {**plan, "head": "shipped"}
    rated = np.flatnonzero(~np.isnan(labels))
    rated = rated[np.argsort(items["content_hash"].iloc[rated].to_numpy(), kind="stable")]  # fit in a fixed order
    key = ratings_key(items["content_hash"].iloc[rated].tolist(), labels[rated], embedder.model_key, cfg.sentiment)
    blob = store.cache.sentiment_head(key)
    if blob is not None:
        return SentimentHead.from_bytes(blob), {**plan, "head": "ratings", "head_key": key, "cached": True}
    texts, langs = items["text"].iloc[rated].tolist(), items["lang"].iloc[rated].tolist()
    missing = [k for k, i in enumerate(rated) if tokens[i] is None]  # a delta run tokenized its scope only
    rated_tokens = [tokens[i] for i in rated]
    for k, tok in zip(missing, tokenize_texts([texts[k] for k in missing], [langs[k] for k in missing])):
        rated_tokens[k] = tok
    rules = np.array([text_sentiment(t, tok) for t, tok in zip(texts, rated_tokens)], dtype=float)
    vectors = _head_vectors(cfg, store, embedder, texts, rated_tokens, items["content_hash"].iloc[rated].tolist())
    head = fit_ratings_head(vectors, rules, labels[rated], embedder.model_key, cfg.sentiment)
    store.cache.save_sentiment_head(key, len(rated), head.to_bytes())
    return head, {**plan, "head": "ratings", "head_key": key, "cached": False}


def _issue_text_scores(cfg: PipelineConfig, store: Store, embedder, head: SentimentHead, scoped: pd.DataFrame,
                       vectors: np.ndarray, item_scores: pd.Series, issue_ids: np.ndarray) -> np.ndarray:
    """Each item's text score for its issue, from its sentences closest to the issue (one sentence: its own)."""
    sentences = [split_sentences(t) for t in scoped["text"]]
    owner = np.array([row for row, parts in enumerate(sentences) if len(parts) > 1 for _ in parts], dtype=int)
    if not len(owner):
        return item_scores.to_numpy(dtype=float)
    texts = [part for parts in sentences if len(parts) > 1 for part in parts]
    sentence_tokens = tokenize_texts(texts, scoped["lang"].iloc[owner].tolist())
    rules = np.array([text_sentiment(t, tok) for t, tok in zip(texts, sentence_tokens)], dtype=float)
    sentence_vectors = _head_vectors(cfg, store, embedder, texts, sentence_tokens)
    scores = blended_scores(head.predict_proba(sentence_vectors, rules), rules, cfg.sentiment)
    return issue_scores(issue_ids, vectors, item_scores.to_numpy(dtype=float), owner, sentence_vectors, scores,
                        cfg.sentiment.issue_sentence_margin, cfg.sentiment.neutral_band)


def _head_vectors(cfg: PipelineConfig, store: Store, embedder, texts: list[str], tokens: list[Tokens],
                  hashes: list[str] | None = None) -> np.ndarray:
    """Vectors of ``texts`` in the sentiment head's space: items' (``hashes``: their content hashes) through the
    store's embedding cache, so `koe purge` deletes them with their items; sentences embedded afresh."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    if hashes is None:
        return embed_texts(texts, tokens, embedder, cfg.embed.chunk_size)
    cached = store.cache.embeddings(hashes, embedder.model_key)
    first = {h: k for k, h in reversed(list(enumerate(hashes))) if h not in cached}
    todo = sorted(first.values())
    if todo:
        new = embed_texts([texts[k] for k in todo], [tokens[k] for k in todo], embedder, cfg.embed.chunk_size)
        store.cache.save_embeddings([hashes[k] for k in todo], new, embedder.model_key)
        cached.update(zip((hashes[k] for k in todo), new))
    return np.vstack([cached[h] for h in hashes]).astype(np.float32)
