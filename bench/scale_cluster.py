"""Clustering at scale: a full UMAP + HDBSCAN fit against a fit on a seeded sample with the rest predicted
(``cluster.fit_sample``, nlp/cluster.py), on real and on synthetic embeddings.

    python -m bench.scale_cluster [section ...]    # sections: banking77 synthetic

- banking77: the 10,003 banking77 train texts, MiniLM (koe's English embedder). Full fit (seed 42, and seed 43
  as the run-to-run noise floor) and fit_sample 2000 / 5000: NMI/ARI against the 77 intents, outlier share,
  wall time, and agreement with the seed-42 full fit.
- synthetic: bench/synth.py's mixed set (seed 42, the texts of ``write_feedback``; 50k = the first 50k of the
  100k items), embedded with koe's default embedders (language = the synthetic language, not detection),
  clustered per language space as the flow does (Japanese mean-centred: cluster.center auto). Full fit and
  fit_sample 20000 at 50k and 100k, each in a fresh subprocess (peak RSS per run), time per step, and NMI
  between the full and the sampled assignments.

Embeddings are cached in bench/work/scale_cluster/ (git-ignored). Timings are taken after a warm-up fit (numba
compilation excluded). Writes bench/results/scale_cluster.json (sections merge)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import DATA, REPO, cluster_scores, embed, peak_rss_mb, update_results

WORK = REPO / "bench" / "work" / "scale_cluster"
SAMPLED = 20_000
SIZES = (50_000, 100_000)
STEPS = ("umap_fit", "umap_transform", "hdbscan_fit", "approximate_predict")


# ---------------------------------------------------------------- measuring one clustering

@contextmanager
def step_timer():
    """Seconds spent in UMAP fit / transform, HDBSCAN fit and approximate_predict while inside, by wrapping
    the library calls (nlp/cluster.py stays free of timing code)."""
    import hdbscan
    import umap

    spent = dict.fromkeys(STEPS, 0.0)
    patched = [(umap.UMAP, "fit", "umap_fit"), (umap.UMAP, "transform", "umap_transform"),
               (hdbscan.HDBSCAN, "fit", "hdbscan_fit"), (hdbscan, "approximate_predict", "approximate_predict")]
    originals = [getattr(owner, name) for owner, name, _ in patched]
    for (owner, name, step), original in zip(patched, originals):
        setattr(owner, name, _timed(original, step, spent))
    try:
        yield spent
    finally:
        for (owner, name, _), original in zip(patched, originals):
            setattr(owner, name, original)


def _timed(fn, step: str, spent: dict):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[step] += time.perf_counter() - start
    return wrapper


def timed_labels(vectors: np.ndarray, center: bool, fit_sample: int | None, seed: int = 42) -> tuple[np.ndarray, dict]:
    """koe's cluster_labels with config defaults but ``fit_sample`` and ``seed`` -> labels, seconds per step."""
    from nlp.cluster import cluster_labels
    from nlp.config import ClusterConfig

    cfg = ClusterConfig(fit_sample=fit_sample, seed=seed)
    with step_timer() as spent:
        start = time.perf_counter()
        labels = cluster_labels(vectors, cfg, center=center)
        total = time.perf_counter() - start
    seconds = {k: round(v, 2) for k, v in spent.items()}
    seconds["other"] = round(total - sum(spent.values()), 2)  # dedup, centring, sampling
    return labels, {"total": round(total, 2), **seconds}


def warm_up(vectors: np.ndarray, center: bool) -> float:
    """One small sampled fit (NN-descent fit and query, UMAP transform, HDBSCAN predict), so numba compiles
    before the timed runs; returns its seconds."""
    start = time.perf_counter()
    timed_labels(vectors[:4600], center, fit_sample=4200)
    return round(time.perf_counter() - start, 1)


def agreement(a: np.ndarray, b: np.ndarray) -> dict:
    """How alike two assignments of the same items are: NMI and ARI with outliers as one class, NMI on the
    items both put in a cluster, and that share."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    both = (a >= 0) & (b >= 0)
    return {"nmi": round(float(normalized_mutual_info_score(a, b)), 4),
            "ari": round(float(adjusted_rand_score(a, b)), 4),
            "nmi_clustered_in_both": round(float(normalized_mutual_info_score(a[both], b[both])), 4),
            "clustered_in_both_share": round(float(both.mean()), 4)}


# ---------------------------------------------------------------- banking77

def cached_vectors(name: str, texts: list[str], lang: str) -> np.ndarray:
    """embed(texts, lang), cached in WORK/<name>.npy (keyed on the texts' count and first/last text)."""
    path, key = WORK / f"{name}.npy", WORK / f"{name}.key.json"
    stamp = json.dumps([len(texts), texts[0], texts[-1]], ensure_ascii=False)
    if path.exists() and key.exists() and key.read_text(encoding="utf-8") == stamp:
        return np.load(path)
    WORK.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    vectors = embed(texts, lang)
    print(f"embedded {len(texts)} {lang} texts in {time.perf_counter() - start:.0f} s", flush=True)
    np.save(path, vectors)
    key.write_text(stamp, encoding="utf-8")
    return vectors


def banking77() -> dict:
    frame = pd.read_csv(DATA / "banking77" / "train.csv")
    truth = frame["category"].tolist()
    vectors = cached_vectors("banking77_train", frame["text"].tolist(), "en")
    out = {"n": len(truth), "warm_up_s": warm_up(vectors, center=False)}
    runs = {"full": (None, 42), "full_seed43": (None, 43), "sample_2000": (2000, 42), "sample_5000": (5000, 42)}
    labels = {}
    for name, (fit_sample, seed) in runs.items():
        labels[name], seconds = timed_labels(vectors, False, fit_sample, seed)
        out[name] = {"fit_sample": fit_sample, "seed": seed, **cluster_scores(truth, labels[name]),
                     "seconds": seconds, "load_avg_1m_at_end": round(os.getloadavg()[0], 2)}
        if name != "full":
            out[name]["vs_full"] = agreement(labels["full"], labels[name])
        print("banking77", name, out[name], flush=True)
    return out


# ---------------------------------------------------------------- synthetic, 50k and 100k

def synthetic_vectors(n: int) -> dict:
    """{lang: vectors of the first n synthetic items of that language, in item order}, plus "center": the
    languages koe mean-centres (embedder.common_direction). Built and cached by the parent."""
    data = np.load(WORK / f"synth-{max(SIZES)}.npz")
    meta = json.loads((WORK / f"synth-{max(SIZES)}.json").read_text(encoding="utf-8"))
    first = np.asarray(meta["langs"][:n])
    return {lang: data[lang][: int((first == lang).sum())] for lang in ("ja", "en")} | {"center": meta["center"]}


def build_synthetic() -> dict:
    """Embed bench/synth.py's 100k items once (cached): WORK/synth-100000.npz (ja, en) + .json (langs)."""
    from bench.synth import END, WEEKS, load_pools, make_items
    from nlp.config import EmbedConfig
    from nlp.embed import get_embedder

    n, meta_path = max(SIZES), WORK / f"synth-{max(SIZES)}.json"
    if meta_path.exists():
        return json.loads(meta_path.read_text(encoding="utf-8"))["stats"]
    start = END - pd.Timedelta(weeks=WEEKS)
    items = make_items(n, load_pools(), np.random.default_rng(42), 0, start, END)
    vectors, seconds = {}, {}
    for lang in ("ja", "en"):
        begin = time.perf_counter()
        vectors[lang] = embed(items.loc[items["lang"] == lang, "text"].tolist(), lang)
        seconds[lang] = round(time.perf_counter() - begin, 1)
        print(f"synthetic: embedded {len(vectors[lang])} {lang} texts in {seconds[lang]} s", flush=True)
    WORK.mkdir(parents=True, exist_ok=True)
    np.savez(WORK / f"synth-{n}.npz", **vectors)
    center = [lang for lang in ("ja", "en") if get_embedder(EmbedConfig().by_language[lang]).common_direction]
    stats = {"n": n, "n_ja": len(vectors["ja"]), "n_en": len(vectors["en"]),
             "distinct_texts": int(items["text"].nunique()), "embed_seconds": seconds}
    meta_path.write_text(json.dumps({"langs": items["lang"].tolist(), "center": center, "stats": stats}),
                         encoding="utf-8")
    return stats


def child(n: int, fit_sample: int | None, out: Path) -> None:
    """One clustering of the first n synthetic items, per language space, in this (fresh) process: writes
    labels (npz) and a JSON of seconds per step and language, RSS after loading and peak RSS."""
    spaces = synthetic_vectors(n)
    center = set(spaces.pop("center"))
    loaded_mb = peak_rss_mb()
    warm = warm_up(spaces["en"], center=False)
    result, labels = {"n": n, "fit_sample": fit_sample, "warm_up_s": warm, "rss_after_load_mb": loaded_mb}, {}
    for lang, vecs in spaces.items():
        labels[lang], seconds = timed_labels(vecs, lang in center, fit_sample)
        kept = labels[lang] >= 0
        result[lang] = {"items": len(vecs), "seconds": seconds, "n_clusters": int(len(set(labels[lang][kept]))),
                        "outlier_share": round(float((~kept).mean()), 4)}
        print(n, fit_sample, lang, result[lang], flush=True)
    result["total_s"] = round(sum(result[lang]["seconds"]["total"] for lang in spaces), 2)
    result["peak_rss_mb"] = peak_rss_mb()
    result["load_avg_1m_at_end"] = round(os.getloadavg()[0], 2)  # > ~2 on 2 cores: other work shared the CPU
    np.savez(out.with_suffix(".npz"), **labels)
    out.write_text(json.dumps(result), encoding="utf-8")


def run_child(n: int, fit_sample: int | None) -> tuple[dict, dict]:
    """``child`` in a fresh interpreter -> its result and its labels by language."""
    out = WORK / f"run-{n}-{fit_sample or 'full'}.json"
    cmd = [sys.executable, "-m", "bench.scale_cluster", "--child", str(n), str(fit_sample or 0), str(out)]
    subprocess.run(cmd, cwd=REPO, check=True)
    labels = np.load(out.with_suffix(".npz"))
    return json.loads(out.read_text(encoding="utf-8")), {lang: labels[lang] for lang in labels.files}


def synthetic() -> dict:
    """Full fit vs fit_sample=SAMPLED at each size: per-run figures, agreement per language and overall
    (labels qualified by language), and the growth of the sampled time from the smallest to the largest size."""
    out = {"data": build_synthetic(), "fit_sample": SAMPLED}
    for n in SIZES:
        full, full_labels = run_child(n, None)
        sampled, sampled_labels = run_child(n, SAMPLED)
        both = {lang: agreement(full_labels[lang], sampled_labels[lang]) for lang in full_labels}
        both["all"] = agreement(*(_qualified(labels) for labels in (full_labels, sampled_labels)))
        out[str(n)] = {"full": full, "sampled": sampled, "sampled_vs_full": both,
                       "speedup": round(full["total_s"] / sampled["total_s"], 2)}
        print(n, "sampled vs full", both, flush=True)
    small, large = (out[str(n)] for n in SIZES)
    out["sampled_time_ratio"] = round(large["sampled"]["total_s"] / small["sampled"]["total_s"], 2)
    out["full_time_ratio"] = round(large["full"]["total_s"] / small["full"]["total_s"], 2)
    out["size_ratio"] = round(max(SIZES) / min(SIZES), 2)
    return out


def _qualified(labels: dict) -> np.ndarray:
    """One label per item over all languages: cluster k of language l is ``l:k``; outliers are one class."""
    return np.concatenate([np.where(labels[lang] >= 0, np.char.add(f"{lang}:", labels[lang].astype(str)), "-1")
                           for lang in sorted(labels)])


SECTIONS = {"banking77": banking77, "synthetic": synthetic}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_cluster", description=__doc__.split("\n")[0])
    parser.add_argument("sections", nargs="*", help=f"any of {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        n, fit_sample, out = args.child
        child(int(n), int(fit_sample) or None, Path(out))
        return
    unknown = sorted(set(args.sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections {unknown}; expected any of {', '.join(SECTIONS)}")
    for section in args.sections or list(SECTIONS):
        start = time.perf_counter()
        result = SECTIONS[section]()
        result["_seconds"] = round(time.perf_counter() - start, 1)
        update_results("scale_cluster", section, result)


if __name__ == "__main__":
    main()
