"""Sentiment: macro-F1, accuracy and the confusion matrix (3 classes) of the rules alone (rules.v1), the shipped
head (head.v1, blended with the rules) and a head fitted on the data's own labels, on jrte dev, the airline
tweets (United/American), bilingual_cx per language and the demo sample's reviews against their stars; speed
per 1,000 items. Writes bench/results/sentiment.json. Run: ``python -m bench.sentiment``.

What each head learned from, and where it is measured:
- shipped: nlp/data/sentiment_seed.tsv + bilingual_cx rows with an even id (bench/sentiment_head.py), so
  bilingual_cx is reported on its odd ids; it never saw jrte or the airline tweets.
- own labels: the sample's reviews with an even row number, scored on the odd ones (star ratings, as a store
  fits its own head at run time); the airline tweets have no ratings (the shipped head is what a store gets).
  For a measurement only (these licences forbid shipping such a model): a head fitted on jrte train, scored
  on jrte dev, and one on the airline tweets with an even tweet id, scored on the odd ones."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd

from bench.common import DATA, REPO, RESULTS, machine
from bench.sentiment_head import bilingual_cx, features


def scores(truth: np.ndarray, predicted: np.ndarray) -> dict:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    labels = [-1, 0, 1]
    return {"macro_f1": round(float(f1_score(truth, predicted, labels=labels, average="macro")), 4),
            "accuracy": round(float(accuracy_score(truth, predicted)), 4), "n": int(len(truth)),
            "confusion": {"rows_truth_cols_predicted": ["neg", "neu", "pos"],
                          "matrix": confusion_matrix(truth, predicted, labels=labels).tolist()}}


def classes(score: np.ndarray) -> np.ndarray:
    """The report's reading of a score: the neutral band (sentiment.neutral_band) around 0."""
    from nlp.config import SentimentConfig

    band = SentimentConfig().neutral_band
    return np.where(score >= band, 1, np.where(score <= -band, -1, 0))


def methods(vectors: np.ndarray, rules: np.ndarray, own=None) -> dict[str, np.ndarray]:
    """Predicted classes of each method; ``own``: a head fitted on the data's own labels."""
    from nlp.config import SentimentConfig
    from nlp.sentiment_head import blended_scores, shipped_head

    cfg = SentimentConfig()
    out = {"rules": classes(rules),
           "shipped_head": classes(blended_scores(shipped_head().predict_proba(vectors, rules), rules, cfg))}
    if own is not None:
        out["own_labels_head"] = classes(blended_scores(own.predict_proba(vectors, rules), rules, cfg))
    for weight in (0.3, 0.8, 1.0):  # sentiment.head_weight: the trade-off between the head and the rules
        other = cfg.model_copy(update={"head_weight": weight})
        out[f"shipped_head_weight_{weight}"] = classes(
            blended_scores(shipped_head().predict_proba(vectors, rules), rules, other))
    return out


def fitted(vectors: np.ndarray, rules: np.ndarray, labels: np.ndarray, source: str):
    from nlp.config import SentimentConfig
    from nlp.sentiment_head import SentimentHead

    cfg = SentimentConfig()
    return SentimentHead(C=cfg.regularization, seed=cfg.seed, source=source).fit(vectors, rules, labels)


def evaluate(name: str, truth: np.ndarray, predicted: dict[str, np.ndarray], note: str) -> dict:
    out = {"note": note, **{m: scores(truth, p) for m, p in predicted.items()}}
    print(name, {m: v["macro_f1"] for m, v in out.items() if m != "note"}, flush=True)
    return out


def jrte() -> dict:
    frame = pd.read_csv(DATA / "jrte_ja" / "pn_train_dev.tsv", sep="\t", header=None,
                        names=["id", "label", "text", "judges", "usage"])
    vectors, rules = features(frame["text"].tolist(), ["ja"] * len(frame))
    train, dev = (frame["usage"] == "train").to_numpy(), (frame["usage"] == "dev").to_numpy()
    own = fitted(vectors[train], rules[train], frame["label"].to_numpy()[train], "jrte train (measurement only)")
    return evaluate("jrte_dev", frame["label"].to_numpy()[dev], methods(vectors[dev], rules[dev], own),
                    "all 1,112 dev rows; own_labels_head: fitted on jrte train, for a measurement only "
                    "(CC BY-NC-SA: nothing trained on it ships)")


def airline() -> dict:
    tweets = pd.read_csv(DATA / "airline_tweets" / "tweets_united_american.csv", dtype={"tweet_id": str})
    truth = tweets["airline_sentiment"].map({"negative": -1, "neutral": 0, "positive": 1}).to_numpy()
    vectors, rules = features(tweets["text"].tolist(), ["en"] * len(tweets))
    even = (tweets["tweet_id"].str[-1].astype(int) % 2 == 0).to_numpy()
    own = fitted(vectors[even], rules[even], truth[even], "airline even ids (measurement only)")
    everything = evaluate("airline", truth, methods(vectors, rules), "all 6,581 tweets; no ratings: a store "
                          "of these tweets gets the shipped head")
    odd = evaluate("airline_odd", truth[~even], methods(vectors[~even], rules[~even], own),
                   "odd tweet ids; own_labels_head fitted on the even ids for a measurement only "
                   "(CC BY-NC-SA: nothing trained on it ships)")
    return {"all": everything, "odd_ids": odd}


def bilingual() -> dict:
    frame = bilingual_cx()
    vectors, rules = features(frame["text"].tolist(), frame["lang"].tolist())
    out = {}
    for lang in ("ja", "en"):
        m = ((frame["lang"] == lang) & ~frame["even"]).to_numpy()
        out[lang] = evaluate(f"bilingual_cx_{lang}", frame["sentiment"].to_numpy()[m],
                             methods(vectors[m], rules[m]),
                             "odd ids only (the shipped head was fitted on the even ones); no ratings")
    return out


def sample() -> dict:
    """The demo sample's reviews against their stars (1-2 negative, 3 neutral, 4-5 positive)."""
    from nlp.language import detect_language
    from nlp.sentiment_head import rating_labels

    reviews = pd.read_csv(REPO / "data" / "sample" / "reviews.csv", on_bad_lines="skip")
    reviews = reviews[reviews["review_text"].fillna("").str.len() > 0].reset_index(drop=True)
    truth = rating_labels(pd.DataFrame({"rating": reviews["stars"], "csat": np.nan, "nps": np.nan}))
    texts = reviews["review_text"].tolist()
    vectors, rules = features(texts, [detect_language(t) for t in texts])
    even = np.arange(len(reviews)) % 2 == 0
    own = fitted(vectors[even], rules[even], truth[even].astype(int), "sample reviews, even rows")
    return evaluate("sample_reviews", truth[~even].astype(int), methods(vectors[~even], rules[~even], own),
                    f"odd rows of {len(reviews)} reviews with text; own_labels_head: fitted on the even rows' "
                    "stars (as a store fits its own head on its ratings)")


def speed(n: int = 1000) -> dict:
    """Seconds per 1,000 airline tweets: tokenize + rules, embed (use.v1), head; one process, this machine."""
    from nlp.config import SentimentConfig
    from nlp.embed import embed_texts, get_embedder
    from nlp.sentiment import text_sentiment
    from nlp.sentiment_head import blended_scores, shipped_head
    from nlp.tokenize import tokenize_texts

    texts = pd.read_csv(DATA / "airline_tweets" / "tweets_united_american.csv")["text"].tolist()[:n]
    cfg, embedder = SentimentConfig(), get_embedder(SentimentConfig().embedder)
    embed_texts(texts[:64], tokenize_texts(texts[:64], ["en"] * 64), embedder)  # warm
    t0 = time.perf_counter()
    tokens = tokenize_texts(texts, ["en"] * n)
    rules = np.array([text_sentiment(t, k) for t, k in zip(texts, tokens)])
    t1 = time.perf_counter()
    vectors = embed_texts(texts, tokens, embedder)
    t2 = time.perf_counter()
    blended_scores(shipped_head().predict_proba(vectors, rules), rules, cfg)
    t3 = time.perf_counter()
    per = 1000 / n
    out = {"tokenize_and_rules_s": round((t1 - t0) * per, 3), "embed_use_v1_s": round((t2 - t1) * per, 3),
           "head_s": round((t3 - t2) * per, 4), "head_v1_total_s": round((t3 - t0) * per, 3),
           "rules_v1_total_s": round((t1 - t0) * per, 3)}
    print("speed per 1,000", out, flush=True)
    return out


def main() -> dict:
    result = {"machine": machine(), "jrte_dev": jrte(), "airline": airline(), "bilingual_cx": bilingual(),
              "sample_reviews": sample(), "speed_per_1000": speed()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "sentiment.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n",
                                            encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
