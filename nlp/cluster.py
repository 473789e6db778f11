"""Clustering: reduce (UMAP by default) then HDBSCAN, per language space. Outliers are label -1.

Above ``cfg.fit_sample`` distinct rows, the reducer and HDBSCAN are fit on a seeded sample of that many rows
and the others are placed with ``reducer.transform`` + ``hdbscan.approximate_predict``: the fit costs the same
at any size and the placing grows linearly with the items. The price: a cluster needs about min_cluster_size x
rows / fit_sample members to be found, so more of the small ones become outliers (bench/scale_cluster.py)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from nlp.config import ClusterConfig

OUTLIER = "outlier"


def reduce_dimensions(vectors: np.ndarray, cfg: ClusterConfig) -> np.ndarray:
    """UMAP / PCA / nothing, as configured; seeded, so the same input gives the same output."""
    reducer = _reducer(len(vectors), cfg)
    return vectors if reducer is None else reducer.fit_transform(vectors)


def _reducer(n: int, cfg: ClusterConfig, new_rows: int = 0):
    """An unfitted, seeded reducer for ``n`` rows, or None where the vectors are clustered as they are.
    ``new_rows``: how many rows it will place after the fit (its ``transform``)."""
    if cfg.reducer == "none" or n <= cfg.n_components + 2:
        return None
    if cfg.reducer == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=cfg.n_components, random_state=cfg.seed)
    umap = _umap()
    # UMAP's exact transform (fits under 4,096 rows) calls the metric from Python once per (new, fitted) pair,
    # ~1.6 us each (26 s for 8,000 rows onto 2,000): past a million pairs, search a nearest-neighbour index
    index = n * new_rows > 1_000_000
    return umap.UMAP(n_neighbors=min(cfg.n_neighbors, n - 1), n_components=cfg.n_components, metric="cosine",
                     min_dist=0.0, random_state=cfg.seed, n_jobs=1, n_epochs=cfg.n_epochs,
                     init="spectral" if n > 50 else "random", force_approximation_algorithm=index)


@functools.cache
def _umap():
    """The umap module, its compiled functions cached on disk. UMAP compiles its numba functions in every new
    process (~12 s on 2 cores, each nightly run and each Dask worker) but asks numba to cache only one of them;
    caching the others makes a process's first fit take what the later ones take, with the same output (the
    cache holds the code numba would compile; numba keys it by the function's source and the CPU, in
    ``__pycache__`` beside umap's files, or a user cache directory where those are read-only)."""
    import umap
    import umap.distances
    import umap.layouts
    import umap.spectral
    import umap.umap_
    import umap.utils
    from numba.core.caching import NullCache
    from numba.core.registry import CPUDispatcher

    for module in (umap.umap_, umap.distances, umap.layouts, umap.spectral, umap.utils):
        for function in vars(module).values():
            if isinstance(function, CPUDispatcher) and isinstance(function._cache, NullCache):
                function.enable_caching()
    return umap


def _hdbscan(cfg: ClusterConfig, prediction_data: bool = False):
    import hdbscan

    return hdbscan.HDBSCAN(min_cluster_size=cfg.min_cluster_size, min_samples=cfg.min_samples,
                           cluster_selection_method="eom", core_dist_n_jobs=1, prediction_data=prediction_data)


def cluster_labels(vectors: np.ndarray, cfg: ClusterConfig, center: bool = False,
                   groups: np.ndarray | None = None) -> np.ndarray:
    """HDBSCAN labels for ``vectors`` (-1 = outlier); all outliers when there are fewer than cfg.min_items.
    ``center`` subtracts the mean vector first (for spaces with a common direction), or with ``groups`` (one
    label per row, e.g. the item's language) each group's own mean. Above cfg.fit_sample distinct rows, fit on a
    seeded sample and predict the rest (see the module docstring)."""
    if len(vectors) < cfg.min_items:
        return np.full(len(vectors), -1, dtype=int)
    # identical texts are one point: UMAP is not reproducible on exact duplicates (ties in its graph)
    unique, first, inverse = _unique_rows(vectors)
    if len(unique) < cfg.min_items:
        return np.full(len(vectors), -1, dtype=int)
    if center:
        unique = np.array(unique, dtype=np.float32)
        kinds = np.zeros(len(unique), dtype=int) if groups is None else \
            pd.factorize(np.asarray(groups, dtype=object)[first])[0]
        for kind in np.unique(kinds):
            unique[kinds == kind] -= unique[kinds == kind].mean(axis=0)
        unique /= np.maximum(np.linalg.norm(unique, axis=1, keepdims=True), 1e-12)
    if cfg.fit_sample is not None and len(unique) > cfg.fit_sample:
        return _sample_fit_predict(unique, cfg)[inverse]
    reduced = reduce_dimensions(unique, cfg)
    return _hdbscan(cfg).fit_predict(np.asarray(reduced, dtype=np.float64))[inverse]


def fit_sample_rows(n: int, cfg: ClusterConfig) -> np.ndarray:
    """The cfg.fit_sample row indices (sorted) that the models are fit on: seeded, so always the same rows."""
    return np.sort(np.random.default_rng(cfg.seed).choice(n, size=cfg.fit_sample, replace=False))


def _sample_fit_predict(vectors: np.ndarray, cfg: ClusterConfig) -> np.ndarray:
    """Labels for every row: reducer and HDBSCAN fit on the sample rows, the other rows transformed with the
    fitted reducer and given the cluster ``approximate_predict`` finds for them (-1 where it finds none)."""
    import hdbscan

    fit = fit_sample_rows(len(vectors), cfg)
    rest = np.setdiff1d(np.arange(len(vectors)), fit)
    reducer = _reducer(len(fit), cfg, new_rows=len(rest))
    reduced = vectors[fit] if reducer is None else reducer.fit_transform(vectors[fit])
    model = _hdbscan(cfg, prediction_data=True).fit(np.asarray(reduced, dtype=np.float64))
    labels = np.full(len(vectors), -1, dtype=int)
    labels[fit] = model.labels_
    if model.labels_.max() < 0:  # no cluster in the sample: nothing to predict into
        return labels
    if reducer is not None:
        reducer.n_epochs = None  # placing rows: UMAP's own 30 epochs (a set n_epochs would give n_epochs / 3)
    placed = vectors[rest] if reducer is None else reducer.transform(vectors[rest])
    labels[rest] = hdbscan.approximate_predict(model, np.asarray(placed, dtype=np.float64))[0]
    return labels


def _unique_rows(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows in order of first appearance, their indices, and each row's index into them."""
    seen: dict[bytes, int] = {}
    first: list[int] = []
    inverse = np.empty(len(vectors), dtype=int)
    for i, row in enumerate(vectors):
        key = row.tobytes()
        if key not in seen:
            seen[key] = len(first)
            first.append(i)
        inverse[i] = seen[key]
    first_idx = np.asarray(first, dtype=int)
    return vectors[first_idx], first_idx, inverse


def cluster_embeddings(item_ids: pd.Series, langs: pd.Series, vectors: dict[str, np.ndarray],
                       cfg: ClusterConfig, centered: frozenset[str] = frozenset(),
                       groups: pd.Series | None = None) -> pd.DataFrame:
    """item_id, space, cluster_id: each embedding space (``langs``: each item's) clustered on its own; ids ``<lang>-<nnn>`` numbered by
    size (largest first, ties by smallest member id) so the same input gives the same ids. Spaces named in
    ``centered`` are mean-centred before reduction (per group of ``groups``, aligned with ``item_ids``, if given:
    each item language's own mean)."""
    frames = []
    for lang, vecs in sorted(vectors.items()):
        mask = (langs == lang).to_numpy()
        ids = item_ids[mask].to_numpy()
        labels = cluster_labels(vecs, cfg, center=lang in centered,
                                groups=None if groups is None else groups[mask].to_numpy())
        order = sorted({lb for lb in labels if lb >= 0},
                       key=lambda lb: (-int((labels == lb).sum()), min(ids[labels == lb])))
        names = {lb: f"{lang}-{k:03d}" for k, lb in enumerate(order)}
        frames.append(pd.DataFrame({"item_id": ids, "space": lang,
                                    "cluster_id": [names.get(lb, OUTLIER) for lb in labels]}))
    if not frames:
        return pd.DataFrame(columns=["item_id", "space", "cluster_id"])
    return pd.concat(frames, ignore_index=True)
