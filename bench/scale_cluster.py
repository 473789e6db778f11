"""Clustering at scale: a full UMAP + HDBSCAN fit against a fit on a seeded sample with the rest predicted
(``cluster.fit_sample``, nlp/cluster.py), on real and on synthetic embeddings.

    python -m bench.scale_cluster [section ...] [--reuse]    # sections: banking77 synthetic

- banking77: the 10,003 banking77 train texts, MiniLM (koe's English embedder). Full fit (seed 42, and seed 43
  as the run-to-run noise floor) and fit_sample 2000 / 5000: NMI/ARI against the 77 intents, outlier share,
  wall time, and agreement with the seed-42 full fit.
- synthetic: bench/synth.py's mixed set (seed 42, the texts of ``write_feedback``; 50k = the first 50k of the
  100k items), embedded with koe's default embedders (language = the synthetic language, not detection),
  clustered per language space as the flow does (Japanese mean-centred: cluster.center auto); 200k = the 100k
  plus a noisy copy of each (see synthetic_vectors: for timing and memory, its clusters are artificial). At
  each size: full fit (seed 42; seed 43 too on the real 50k/100k), fit_sample 20000 and 50000 where a space's
  distinct rows exceed it, each in a fresh subprocess (peak RSS per run): seconds per step, and agreement with
  the seed-42 full fit (NMI/ARI with outliers as a class, NMI on the items both cluster, and on the full fit's
  big clusters: the share of their items the other run clusters, and the NMI there); growth of CPU seconds
  from one size to the next.

Embeddings are cached in bench/work/scale_cluster/ (git-ignored). Timings are taken after a warm-up fit (numba
compilation excluded). Writes bench/results/scale_cluster.json (sections merge)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.cluster_timing import agreement, timed_labels, warm_up
from bench.common import DATA, REPO, cluster_scores, embed, peak_rss_mb, update_results

WORK = REPO / "bench" / "work" / "scale_cluster"
SAMPLED = (20_000, 50_000)
# "big" issues: full-fit clusters of at least this many items (5 x min_cluster_size: the smallest cluster a
# 20,000 sample of a 100,000-item space holds with min_cluster_size members)
BIG = 50
EMBEDDED = 100_000  # synthetic items embedded; larger sizes add noisy copies (see synthetic_vectors)
SIZES = (50_000, 100_000, 200_000)
NOISE = 0.05  # a copy's noise, relative to the vector's norm
REUSE = False  # --reuse: keep the per-run results already in WORK (to finish an interrupted run)


# ---------------------------------------------------------------- banking77

def cached_vectors(name: str, texts: list[str], lang: str) -> np.ndarray:
    """embed(texts, lang), cached in WORK/<name>-<backend>-<model>.npy (keyed on the embedder, the texts' count
    and first/last text)."""
    from nlp.config import EmbedConfig

    spec = EmbedConfig().by_language[lang]
    path = WORK / f"{name}-{spec.backend}-{spec.model}.npy"
    key = path.with_suffix(".key.json")
    stamp = json.dumps([spec.backend, spec.model, len(texts), texts[0], texts[-1]], ensure_ascii=False)
    if path.exists() and key.exists() and key.read_text(encoding="utf-8") == stamp:
        return np.load(path)
    WORK.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    vectors = embed(texts, lang)
    print(f"embedded {len(texts)} {lang} texts with {spec.backend} in {time.perf_counter() - start:.0f} s", flush=True)
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


# ---------------------------------------------------------------- synthetic, 50k to 200k

def synthetic_vectors(n: int) -> dict:
    """{lang: vectors of the first n synthetic items of that language, in item order}, plus "center": the
    languages koe mean-centres (embedder.common_direction). Items past EMBEDDED repeat the embedded ones in
    order, each with seeded gaussian noise of NOISE x its norm (cosine ~0.999 to the original)."""
    meta = json.loads((WORK / f"synth-{EMBEDDED}.json").read_text(encoding="utf-8"))
    langs = np.asarray(meta["langs"])
    rng = np.random.default_rng(7)
    out = {"center": meta["center"]}
    for lang in ("ja", "en"):
        vecs, parts = np.load(WORK / meta["vectors"][lang]), []
        for start in range(0, n, EMBEDDED):
            part = vecs[: int((langs[: min(n - start, EMBEDDED)] == lang).sum())]
            if start:
                noise = rng.normal(size=part.shape).astype(part.dtype) / np.sqrt(part.shape[1])
                part = part + NOISE * np.linalg.norm(part, axis=1, keepdims=True) * noise
            parts.append(part)
        out[lang] = np.concatenate(parts)
    return out


def build_synthetic() -> dict:
    """bench/synth.py's EMBEDDED items embedded per language with koe's default embedders (cached_vectors),
    and WORK/synth-<n>.json for the child processes: each item's language, the vector files, the centred
    languages. Returns the counts and the embedders."""
    from bench.synth import END, WEEKS, load_pools, make_items
    from nlp.config import EmbedConfig
    from nlp.embed import get_embedder

    items = make_items(EMBEDDED, load_pools(), np.random.default_rng(42), 0, END - pd.Timedelta(weeks=WEEKS), END)
    specs = EmbedConfig().by_language
    files = {}
    for lang in ("ja", "en"):
        cached_vectors(f"synth-{EMBEDDED}-{lang}", items.loc[items["lang"] == lang, "text"].tolist(), lang)
        files[lang] = f"synth-{EMBEDDED}-{lang}-{specs[lang].backend}-{specs[lang].model}.npy"
    center = [lang for lang in ("ja", "en") if get_embedder(specs[lang]).common_direction]
    meta = {"langs": items["lang"].tolist(), "vectors": files, "center": center}
    (WORK / f"synth-{EMBEDDED}.json").write_text(json.dumps(meta), encoding="utf-8")
    return {"n": EMBEDDED, "n_ja": int((items["lang"] == "ja").sum()), "n_en": int((items["lang"] == "en").sum()),
            "distinct_texts": int(items["text"].nunique()), "centred": center,
            "embedders": {lang: f"{specs[lang].backend}/{specs[lang].model}" for lang in ("ja", "en")}}


def _peak_mb() -> float:
    """This process's peak RSS (MiB): VmHWM, which starts afresh at exec, where ru_maxrss (bench.common) keeps
    the peak of the parent that forked it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return peak_rss_mb()


def child(n: int, fit_sample: int | None, seed: int, out: Path) -> None:
    """One clustering of the first n synthetic items, per language space, in this (fresh) process: writes
    labels (npz) and a JSON of seconds per step and language, RSS after loading and peak RSS."""
    spaces = synthetic_vectors(n)
    center = set(spaces.pop("center"))
    loaded_mb = _peak_mb()
    warm = warm_up(spaces["en"], center=False)
    result = {"n": n, "fit_sample": fit_sample, "seed": seed, "warm_up_s": warm, "rss_after_load_mb": loaded_mb}
    labels = {}
    for lang, vecs in spaces.items():
        labels[lang], seconds = timed_labels(vecs, lang in center, fit_sample, seed)
        kept = labels[lang] >= 0
        result[lang] = {"items": len(vecs), "distinct": len(np.unique(vecs, axis=0)), "seconds": seconds,
                        "n_clusters": int(len(set(labels[lang][kept]))),
                        "outlier_share": round(float((~kept).mean()), 4)}
        print(n, fit_sample, seed, lang, result[lang], flush=True)
    for key, step in (("total_s", "total"), ("total_cpu_s", "cpu")):
        result[key] = round(sum(result[lang]["seconds"][step] for lang in spaces), 2)
    result["peak_rss_mb"] = _peak_mb()
    result["load_avg_1m_at_end"] = round(os.getloadavg()[0], 2)  # > ~2 on 2 cores: other work shared the CPU
    np.savez(out.with_suffix(".npz"), **labels)
    out.write_text(json.dumps(result), encoding="utf-8")


def run_child(n: int, fit_sample: int | None, seed: int = 42) -> tuple[dict, dict]:
    """``child`` in a fresh interpreter -> its result and its labels by language (with REUSE set, a result
    already in WORK is taken as it is)."""
    out = WORK / f"run-{n}-{fit_sample or 'full'}-{seed}.json"
    cmd = [sys.executable, "-m", "bench.scale_cluster", "--child", str(n), str(fit_sample or 0), str(seed), str(out)]
    if not (REUSE and out.exists() and out.with_suffix(".npz").exists()):
        subprocess.run(cmd, cwd=REPO, check=True)
    labels = np.load(out.with_suffix(".npz"))
    return json.loads(out.read_text(encoding="utf-8")), {lang: labels[lang] for lang in labels.files}


def size_runs(n: int) -> dict:
    """At n items: the full fit (seed 42), a second full fit (seed 43: how much two full fits differ anyway;
    real items only) and fit_sample = each of SAMPLED that some space's distinct rows exceed; each compared
    with the seed-42 full fit."""
    full, full_labels = run_child(n, None)
    out = {"full": full}
    runs = {"full_seed43": (None, 43)} if n <= EMBEDDED else {}
    runs |= {f"sampled_{s}": (s, 42) for s in SAMPLED if max(full[lang]["distinct"] for lang in full_labels) > s}
    for name, (fit_sample, seed) in runs.items():
        result, labels = run_child(n, fit_sample, seed)
        both = {lang: agreement(full_labels[lang], labels[lang]) | big_clusters(full_labels[lang], labels[lang])
                for lang in full_labels}
        both["all"] = agreement(*(_qualified(lbs) for lbs in (full_labels, labels)))
        out[name] = {**result, "vs_full": both, "speedup": round(full["total_s"] / result["total_s"], 2),
                     "speedup_cpu": round(full["total_cpu_s"] / result["total_cpu_s"], 2)}
        print(n, name, "vs full", both, flush=True)
    return out


def big_clusters(full: np.ndarray, other: np.ndarray, min_size: int = BIG) -> dict:
    """On the items of the full fit's clusters of at least ``min_size`` items: the share ``other`` puts in a
    cluster, and the NMI of the two assignments on those it does."""
    from sklearn.metrics import normalized_mutual_info_score

    ids, sizes = np.unique(full[full >= 0], return_counts=True)
    big = np.isin(full, ids[sizes >= min_size])
    kept = big & (other >= 0)
    return {f"big_{min_size}_items_share": round(float(big.mean()), 4),
            f"big_{min_size}_clustered_share": round(float(kept.sum() / max(big.sum(), 1)), 4),
            f"big_{min_size}_nmi": round(float(normalized_mutual_info_score(full[kept], other[kept])), 4)}


def synthetic() -> dict:
    """size_runs at each of SIZES, and how each kind of run's time grows from one size to the next."""
    out = {"data": build_synthetic(), "fit_samples": list(SAMPLED), "big_cluster_min_items": BIG}
    for n in SIZES:
        out[str(n)] = size_runs(n)
    for small, large in zip(SIZES, SIZES[1:]):
        a, b = out[str(small)], out[str(large)]
        out[f"growth_{small}_to_{large}"] = {"items": round(large / small, 2)} | {
            name: round(b[name]["total_cpu_s"] / a[name]["total_cpu_s"], 2) for name in set(a) & set(b)}
    return out


def _qualified(labels: dict) -> np.ndarray:
    """One label per item over all languages (clusters of different languages never share a label; outliers
    are one class, -1)."""
    parts, offset = [], 0
    for lang in sorted(labels):
        parts.append(np.where(labels[lang] >= 0, labels[lang] + offset, -1))
        offset += max(int(labels[lang].max(initial=-1)) + 1, 0)
    return np.concatenate(parts)


SECTIONS = {"banking77": banking77, "synthetic": synthetic}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_cluster", description=__doc__.split("\n")[0])
    parser.add_argument("sections", nargs="*", help=f"any of {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--reuse", action="store_true", help="keep per-run results already in bench/work")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    global REUSE
    REUSE = args.reuse
    if args.child:
        n, fit_sample, seed, out = args.child
        child(int(n), int(fit_sample) or None, int(seed), Path(out))
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
