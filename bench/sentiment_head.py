"""Build the shipped sentiment head, nlp/data/sentiment_head.npz (seeded: the same file from the same data).

It learns only from text that may ship a model: koe's hand-written seed set (nlp/data/sentiment_seed.tsv) and
the rows of ../shared/data/bilingual_cx/dev.tsv (CC0) whose id ends in an even number (dev-ja-08-02, ...); the
odd ones are kept for bench/sentiment.py. jrte_ja and airline_tweets are non-commercial (CC BY-NC-SA): never
used here. Run: ``python -m bench.sentiment_head``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.common import DATA, REPO


def features(texts: list[str], langs: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(vectors in the sentiment embedder's space, the rules' scores) of the texts."""
    from nlp.config import SentimentConfig
    from nlp.embed import embed_texts, get_embedder
    from nlp.sentiment import text_sentiment
    from nlp.tokenize import tokenize_texts

    tokens = tokenize_texts(texts, langs)
    rules = np.array([text_sentiment(t, tok) for t, tok in zip(texts, tokens)], dtype=float)
    vectors = embed_texts(texts, tokens, get_embedder(SentimentConfig().embedder), chunk_size=8192)
    return vectors, rules


def bilingual_cx() -> pd.DataFrame:
    frame = pd.read_csv(DATA / "bilingual_cx" / "dev.tsv", sep="\t")
    return frame.assign(even=frame["id"].str[-2:].astype(int) % 2 == 0)


def training_rows() -> pd.DataFrame:
    seed = pd.read_csv(REPO / "nlp" / "data" / "sentiment_seed.tsv", sep="\t")
    cx = bilingual_cx()
    cx = cx[cx["even"]].rename(columns={"sentiment": "label"})
    return pd.concat([seed[["lang", "label", "text"]].assign(origin="seed"),
                      cx[["lang", "label", "text"]].assign(origin="bilingual_cx_even")], ignore_index=True)


def build() -> dict:
    from nlp.config import SentimentConfig
    from nlp.embed import get_embedder
    from nlp.sentiment_head import SHIPPED, SentimentHead

    cfg = SentimentConfig()
    rows = training_rows()
    vectors, rules = features(rows["text"].tolist(), rows["lang"].tolist())
    head = SentimentHead(C=cfg.regularization, seed=cfg.seed, model_key=get_embedder(cfg.embedder).model_key,
                         source="seed+bilingual_cx_even").fit(vectors, rules, rows["label"].to_numpy())
    SHIPPED.write_bytes(head.to_bytes())
    counts = rows.groupby(["origin", "lang", "label"]).size()
    summary = {"path": str(SHIPPED.relative_to(REPO)), "rows": int(len(rows)), "model_key": head.model_key,
               "counts": {" ".join(map(str, k)): int(v) for k, v in counts.items()}}
    print(summary, flush=True)
    return summary


if __name__ == "__main__":
    build()
