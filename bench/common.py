"""Helpers shared by the benchmarks: where the data is, koe's embedders, metrics, peak RSS, result files."""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
from pathlib import Path

import numpy as np

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = Path(os.environ.get("KOE_BENCH_DATA", REPO.parent / "shared" / "data"))
RESULTS = REPO / "bench" / "results"


def embed(texts: list[str], lang: str) -> np.ndarray:
    """koe's default embedder for ``lang`` (config defaults), tokenizing once."""
    from nlp.config import EmbedConfig
    from nlp.embed import embed_texts, get_embedder
    from nlp.tokenize import tokenize_texts

    spec = EmbedConfig().by_language[lang]
    return embed_texts(texts, tokenize_texts(texts, [lang] * len(texts)), get_embedder(spec), chunk_size=8192)


def cluster_scores(truth: list, labels: np.ndarray) -> dict:
    """NMI/ARI on clustered items, NMI with outliers as their own class, cluster count, outlier share."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    truth, labels = np.asarray(truth), np.asarray(labels)
    kept = labels >= 0
    return {
        "nmi": round(float(normalized_mutual_info_score(truth[kept], labels[kept])), 4) if kept.any() else 0.0,
        "ari": round(float(adjusted_rand_score(truth[kept], labels[kept])), 4) if kept.any() else 0.0,
        "nmi_outliers_as_class": round(float(normalized_mutual_info_score(truth, labels)), 4),
        "n_clusters": int(len(set(labels[kept].tolist()))),
        "outlier_share": round(float((~kept).mean()), 4),
        "n": int(len(labels)),
    }


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def machine() -> dict:
    import importlib.metadata as md

    versions = {}
    for name in ("koe", "torch", "sentence-transformers", "spacy", "ja-ginza", "hdbscan", "umap-learn", "bertopic"):
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = None
    return {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "versions": versions}


def update_results(name: str, section: str, value) -> None:
    """Merge one section into bench/results/<name>.json (so sections can be re-run one at a time)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    data[section] = value
    data["_machine"] = machine()
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
