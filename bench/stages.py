"""Journey-stage assignment (issue 17) on ../shared/data: koe before (similarity.v1: top-k examples with cluster
smoothing), a nearest-prototype baseline (each stage's description + examples averaged into one vector, the
nearest one wins) and koe after (calibrated.v2), on the same embeddings and koe's own clusters.

    python -m bench.stages [airline] [bilingual]

- airline: United + American tweets (airline_tweets), the negative ones whose reason maps to a stage
  (bench.quality.REASON_STAGE, written from the reason names), with configs/airline.yaml's stages.
- bilingual: bilingual_cx/dev.tsv with bench/data/stages_food_delivery.yaml (written from the set's theme list,
  not its texts), accuracy per language.
The calibrated.v2 settings tried in ``GRID`` are chosen on the even ids (tweet id / row number) and reported on
the odd ids; the config's own defaults are reported too. Writes bench/results/stages.json."""

from __future__ import annotations

import hashlib
import itertools
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from bench.common import DATA, REPO, embed, update_results

CACHE = Path("/tmp/koe-bench-stages")
# how nlp.config's calibrated.v2 defaults were chosen (koe_after_defaults)
DEFAULTS_NOTE = ("config defaults chosen on the even ids of both sets together: the best sum of airline, ja and en "
                 "accuracy on even ids over a 216-setting grid (keyword_weight 0.1/0.15/0.2, temperature "
                 "0.03/0.05/0.1, issue_vote_weight 0.3/0.5, centroid_weight 0.3/0.6, prior_iterations 0/3, "
                 "min_score -0.05/0/0.05), min_score then set to 0.0 (not -0.05) so that items below every "
                 "stage's background stay unassigned (-0.01 airline accuracy)")
GRID = {"keyword_weight": [0.05, 0.1, 0.15], "temperature": [0.05, 0.1], "issue_vote_weight": [0.3, 0.5],
        "centroid_weight": [0.3, 0.6], "prior_iterations": [0, 3], "min_score": [-0.05, 0.0]}


def _vectors(texts: list[str], lang: str) -> np.ndarray:
    """koe's default embedder for ``lang``, cached on disk between bench runs (same texts, same model)."""
    CACHE.mkdir(exist_ok=True)
    key = hashlib.sha256(("\x1f".join(texts) + lang).encode()).hexdigest()[:16]
    path = CACHE / f"{lang}-{key}.npy"
    if not path.exists():
        np.save(path, embed(texts, lang))
    return np.load(path)


def _clusters(vectors: np.ndarray, lang: str, cluster_cfg) -> np.ndarray:
    from nlp.cluster import cluster_labels
    from nlp.config import EmbedConfig
    from nlp.embed import get_embedder

    center = get_embedder(EmbedConfig().by_language[lang]).common_direction
    labels = cluster_labels(vectors, cluster_cfg, center=center)
    return np.where(labels < 0, "outlier", np.char.add(f"{lang}-", labels.astype(str))).astype(object)


def _config(stages: dict, cluster: dict | None = None):
    from nlp.config import PipelineConfig

    return PipelineConfig.model_validate({"sources": [{"name": "bench", "kind": "social", "path": "unused.csv"}],
                                          "stages": stages, **({"cluster": cluster} if cluster else {})})


def predictions(cfg, items: pd.DataFrame, vectors: dict, clusters: np.ndarray, settings: dict) -> dict:
    """Stage per item for the three methods (calibrated.v2 with ``settings`` over the config)."""
    from nlp.phrases import stage_similarities
    from nlp.stages import assign_stages

    before_cfg = cfg.model_copy(update={"stages": cfg.stages.model_copy(update={"method": "similarity.v1"})})
    before = assign_stages(items, stage_similarities(before_cfg, items, vectors), pd.Series(clusters),
                           before_cfg.stages)
    return {"koe_before": before["stage"].to_numpy(), "nearest_prototype": _nearest_prototype(cfg, items, vectors),
            "koe_after": after(cfg, items, vectors, clusters, settings)}


_SIMS: dict = {}


def after(cfg, items: pd.DataFrame, vectors: dict, clusters: np.ndarray, settings: dict) -> np.ndarray:
    """calibrated.v2 (what the flow's stage_items does), its similarities kept per (data, centroid_weight)."""
    from nlp.phrases import stage_similarities
    from nlp.stages import calibrated_stages, keyword_hits

    stages_cfg = cfg.stages.model_copy(update=settings)
    run_cfg = cfg.model_copy(update={"stages": stages_cfg})
    key = (id(items), stages_cfg.centroid_weight, stages_cfg.top_k)
    if key not in _SIMS:
        _SIMS[key] = (stage_similarities(run_cfg, items, vectors), keyword_hits(items["text"], cfg.stages.stages))
    sims, hits = _SIMS[key]
    return calibrated_stages(items, sims, hits, pd.Series(clusters), stages_cfg)["stage"].to_numpy()


def _nearest_prototype(cfg, items: pd.DataFrame, vectors: dict) -> np.ndarray:
    """The baseline: per stage one vector, the mean of its description and examples (its name when it has
    neither) in the item's language, and each item takes the most similar one."""
    from nlp.phrases import phrase_vectors
    from nlp.analysis import embedding_space, space_spec

    space = embedding_space(items["lang"], cfg.embed).to_numpy()
    keys = np.array([s.key for s in cfg.stages.stages], dtype=object)
    out = np.empty(len(items), dtype=object)
    for name, vecs in vectors.items():
        lang = "ja" if name == "ja" else "en"
        protos = []
        for stage in cfg.stages.stages:
            desc = stage.description_ja if lang == "ja" else stage.description
            texts = [t for t in [desc, *(stage.examples_ja if lang == "ja" else stage.examples_en)] if t] or \
                [stage.name_ja if lang == "ja" else stage.name_en]
            v = phrase_vectors(space_spec(name, cfg.embed), tuple(texts), tuple([lang] * len(texts))).mean(axis=0)
            protos.append(v / (np.linalg.norm(v) or 1.0))
        out[space == name] = keys[(vecs @ np.array(protos).T).argmax(axis=1)]
    return out


def scores(pred: np.ndarray, truth: np.ndarray, stage_keys: list[str]) -> dict:
    """Accuracy, unassigned share, per-stage predicted vs true share (and their ratio), confusion (true -> pred)."""
    pred, truth = np.asarray(pred, dtype=object), np.asarray(truth, dtype=object)
    shares = {}
    for key in stage_keys:
        true_share, pred_share = float((truth == key).mean()), float((pred == key).mean())
        shares[key] = {"true": round(true_share, 4), "predicted": round(pred_share, 4),
                       "ratio": round(pred_share / true_share, 2) if true_share else None}
    confusion = pd.crosstab(pd.Series(truth, name="true"), pd.Series(pred, name="pred"))
    ratios = [v["ratio"] for v in shares.values() if v["ratio"] is not None]
    return {"accuracy": round(float((pred == truth).mean()), 4), "n": int(len(truth)),
            "unassigned_share": round(float((pred == "unassigned").mean()), 4),
            "max_share_ratio": max(ratios) if ratios else None, "share": shares,
            "confusion": {t: {p: int(n) for p, n in row.items() if n} for t, row in confusion.iterrows()}}


def tune(evaluate, even: np.ndarray) -> tuple[dict, list]:
    """The GRID setting with the best accuracy on the even ids (``evaluate(settings) -> (pred, truth)``)."""
    tried = []
    for values in itertools.product(*GRID.values()):
        settings = dict(zip(GRID, values))
        pred, truth = evaluate(settings)
        tried.append((round(float((pred[even] == truth[even]).mean()), 4), settings))
    tried.sort(key=lambda t: -t[0])
    return tried[0][1], tried[:5]


def _report(preds_default: dict, preds_tuned: dict, truth: np.ndarray, keys: list[str], odd: np.ndarray) -> dict:
    out = {name: {"all": scores(p, truth, keys), "odd_ids": scores(p[odd], truth[odd], keys)}
           for name, p in preds_default.items() if name != "koe_after"}
    out["koe_after_defaults"] = {"all": scores(preds_default["koe_after"], truth, keys),
                                 "odd_ids": scores(preds_default["koe_after"][odd], truth[odd], keys)}
    out["koe_after_tuned"] = {"odd_ids": scores(preds_tuned["koe_after"][odd], truth[odd], keys)}
    return out


def airline() -> dict:
    from bench.quality import REASON_STAGE
    from nlp.normalize import normalize_text

    raw = yaml.safe_load((REPO / "configs" / "airline.yaml").read_text(encoding="utf-8"))
    cfg = _config(raw["stages"], raw.get("cluster"))
    tweets = pd.read_csv(DATA / "airline_tweets" / "tweets_united_american.csv", dtype={"tweet_id": str})
    texts = [normalize_text(t) for t in tweets["text"].astype(str)]
    items = pd.DataFrame({"item_id": tweets["tweet_id"], "text": texts, "lang": "en", "source_kind": "social",
                          "channel": pd.array([None] * len(texts), dtype="string")})
    vectors = {"en": _vectors(texts, "en")}
    clusters = _clusters(vectors["en"], "en", cfg.cluster)
    # evaluated: negative tweets whose reason maps to a stage; the night's items are all the tweets
    scored = ((tweets["airline_sentiment"] == "negative") & tweets["negativereason"].isin(list(REASON_STAGE))).to_numpy()
    truth = tweets.loc[scored, "negativereason"].map(REASON_STAGE).to_numpy(dtype=object)
    even = (tweets.loc[scored, "tweet_id"].str[-1].astype(int) % 2 == 0).to_numpy()

    def evaluate(settings):
        return after(cfg, items, vectors, clusters, settings)[scored], truth

    best, top = tune(evaluate, even)
    keys = [s.key for s in cfg.stages.stages]
    default = {k: v[scored] for k, v in predictions(cfg, items, vectors, clusters, {}).items()}
    tuned = {k: v[scored] for k, v in predictions(cfg, items, vectors, clusters, best).items()}
    out = {"config": "configs/airline.yaml", "n_items": int(len(items)), "n_evaluated": int(scored.sum()),
           "outlier_share": round(float((clusters == "outlier").mean()), 4),
           "tuned_on": "even tweet ids", "defaults": DEFAULTS_NOTE, "reported_on": "odd tweet ids (and all, for the untuned methods)",
           "tuned_settings": best, "tuning_top5_even_accuracy": top,
           "methods": _report(default, tuned, truth, keys, ~even)}
    _print("airline", out)
    return out


def bilingual() -> dict:
    from nlp.normalize import normalize_text

    raw = yaml.safe_load((REPO / "bench" / "data" / "stages_food_delivery.yaml").read_text(encoding="utf-8"))
    cfg = _config(raw)
    frame = pd.read_csv(DATA / "bilingual_cx" / "dev.tsv", sep="\t", dtype=str, quoting=3)
    texts = [normalize_text(t) for t in frame["text"]]
    items = pd.DataFrame({"item_id": frame["id"], "text": texts, "lang": frame["lang"], "source_kind": "social",
                          "channel": pd.array([None] * len(texts), dtype="string")})
    vectors, clusters = {}, np.empty(len(items), dtype=object)
    for lang in ("en", "ja"):
        mask = (items["lang"] == lang).to_numpy()
        vectors[lang] = _vectors([t for t, m in zip(texts, mask) if m], lang)
        clusters[mask] = _clusters(vectors[lang], lang, cfg.cluster)
    truth = frame["stage"].to_numpy(dtype=object)
    even = (frame["id"].str[-2:].astype(int) % 2 == 0).to_numpy()
    langs = items["lang"].to_numpy()

    def evaluate(settings):
        return after(cfg, items, vectors, clusters, settings), truth

    # chosen on the even rows of both languages together, by the worse language's accuracy
    tried = []
    for values in itertools.product(*GRID.values()):
        settings = dict(zip(GRID, values))
        pred, _ = evaluate(settings)
        worst = min(float((pred[even & (langs == lg)] == truth[even & (langs == lg)]).mean()) for lg in ("en", "ja"))
        tried.append((round(worst, 4), settings))
    tried.sort(key=lambda t: -t[0])
    best = tried[0][1]
    keys = [s.key for s in cfg.stages.stages]
    default = predictions(cfg, items, vectors, clusters, {})
    tuned = predictions(cfg, items, vectors, clusters, best)
    out = {"config": "bench/data/stages_food_delivery.yaml", "n_items": int(len(items)),
           "tuned_on": "even row numbers (both languages, by the worse language's accuracy)", "defaults": DEFAULTS_NOTE,
           "reported_on": "odd row numbers (and all, for the untuned methods)", "tuned_settings": best,
           "tuning_top5_even_worst_language_accuracy": tried[:5], "by_language": {}}
    for lang in ("ja", "en"):
        m = langs == lang
        out["by_language"][lang] = _report({k: v[m] for k, v in default.items()}, {k: v[m] for k, v in tuned.items()},
                                           truth[m], keys, ~even[m])
        out["by_language"][lang]["outlier_share"] = round(float((clusters[m] == "outlier").mean()), 4)
    _print("bilingual", out)
    return out


def _print(name: str, out: dict) -> None:
    def brief(block):
        return {m: {part: (r["accuracy"], r["max_share_ratio"], r["unassigned_share"]) for part, r in v.items()
                    if isinstance(r, dict)} for m, v in block.items() if isinstance(v, dict)}

    print(name, "tuned:", out["tuned_settings"], flush=True)
    if "methods" in out:
        print(brief(out["methods"]), flush=True)
    for lang, block in out.get("by_language", {}).items():
        print(lang, brief(block), flush=True)


def main(argv: list[str]) -> None:
    for section in argv or ["airline", "bilingual"]:
        start = time.time()
        result = {"airline": airline, "bilingual": bilingual}[section]()
        result["seconds"] = round(time.time() - start, 1)
        update_results("stages", section, result)


if __name__ == "__main__":
    main(sys.argv[1:])
