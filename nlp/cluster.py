"""Clustering: reduce (UMAP by default) then HDBSCAN, per language space. Outliers are label -1."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nlp.config import ClusterConfig

OUTLIER = "outlier"


def reduce_dimensions(vectors: np.ndarray, cfg: ClusterConfig) -> np.ndarray:
    """UMAP / PCA / nothing, as configured; seeded, so the same input gives the same output."""
    n = len(vectors)
    if cfg.reducer == "none" or n <= cfg.n_components + 2:
        return vectors
    if cfg.reducer == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=cfg.n_components, random_state=cfg.seed).fit_transform(vectors)
    import umap

    reducer = umap.UMAP(n_neighbors=min(cfg.n_neighbors, n - 1), n_components=cfg.n_components, metric="cosine",
                        min_dist=0.0, random_state=cfg.seed, n_jobs=1, init="spectral" if n > 50 else "random")
    return reducer.fit_transform(vectors)


def cluster_labels(vectors: np.ndarray, cfg: ClusterConfig, center: bool = False) -> np.ndarray:
    """HDBSCAN labels for ``vectors`` (-1 = outlier); all outliers when there are fewer than cfg.min_items.
    ``center`` subtracts the mean vector first (for spaces with a common direction)."""
    if len(vectors) < cfg.min_items:
        return np.full(len(vectors), -1, dtype=int)
    import hdbscan

    # identical texts are one point: UMAP is not reproducible on exact duplicates (ties in its graph)
    unique, first, inverse = _unique_rows(vectors)
    if len(unique) < cfg.min_items:
        return np.full(len(vectors), -1, dtype=int)
    if center:
        unique = unique - unique.mean(axis=0)
        unique /= np.maximum(np.linalg.norm(unique, axis=1, keepdims=True), 1e-12)
    reduced = reduce_dimensions(unique, cfg)
    model = hdbscan.HDBSCAN(min_cluster_size=cfg.min_cluster_size, min_samples=cfg.min_samples,
                            cluster_selection_method="eom", core_dist_n_jobs=1)
    return model.fit_predict(np.asarray(reduced, dtype=np.float64))[inverse]


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
                       cfg: ClusterConfig, centered: frozenset[str] = frozenset()) -> pd.DataFrame:
    """item_id, lang, cluster_id: each language clustered in its own space; ids ``<lang>-<nnn>`` numbered by
    size (largest first, ties by smallest member id) so the same input gives the same ids. Spaces named in
    ``centered`` are mean-centred before reduction."""
    frames = []
    for lang, vecs in sorted(vectors.items()):
        mask = (langs == lang).to_numpy()
        ids = item_ids[mask].to_numpy()
        labels = cluster_labels(vecs, cfg, center=lang in centered)
        order = sorted({lb for lb in labels if lb >= 0},
                       key=lambda lb: (-int((labels == lb).sum()), min(ids[labels == lb])))
        names = {lb: f"{lang}-{k:03d}" for k, lb in enumerate(order)}
        frames.append(pd.DataFrame({"item_id": ids, "lang": lang,
                                    "cluster_id": [names.get(lb, OUTLIER) for lb in labels]}))
    if not frames:
        return pd.DataFrame(columns=["item_id", "lang", "cluster_id"])
    return pd.concat(frames, ignore_index=True)
