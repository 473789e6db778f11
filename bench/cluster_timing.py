"""Timing one clustering step by step (UMAP fit / transform, HDBSCAN fit, approximate_predict) and comparing two
assignments of the same items; used by bench/scale_cluster.py."""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np

STEPS = ("umap_fit", "umap_transform", "hdbscan_fit", "approximate_predict")


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
        start, cpu = time.perf_counter(), time.process_time()
        labels = cluster_labels(vectors, cfg, center=center)
        total, cpu = time.perf_counter() - start, time.process_time() - cpu
    seconds = {k: round(v, 2) for k, v in spent.items()}
    seconds["other"] = round(total - sum(spent.values()), 2)  # dedup, centring, sampling
    # cpu: this process's CPU seconds: less sensitive to other load than wall time; above it where BLAS threads
    # ran (UMAP's spectral initialisation of a large full fit)
    return labels, {"total": round(total, 2), "cpu": round(cpu, 2), **seconds}


def warm_up(vectors: np.ndarray, center: bool) -> float:
    """Two small sampled fits (NN-descent fit and query, UMAP transform, HDBSCAN predict), so numba compiles
    before the timed runs; returns their seconds."""
    start = time.perf_counter()
    timed_labels(vectors[:4600], center, fit_sample=4200)
    timed_labels(vectors[:600], center, fit_sample=400)
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
