"""Naming clusters: c-TF-IDF keyphrases over lemmas and phrases, plus the verbatims closest to the centroid."""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from typing import Callable

import numpy as np
import pandas as pd

from nlp.cluster import OUTLIER
from nlp.config import LabelConfig
from nlp.config.outputs import REPORT_LANGUAGES
from nlp.names import name_issues, names_in_languages
from nlp.pii import redact_pii
from nlp.tokenize import Tokens

_PHRASE_BOOST = 1.5  # a compound or predicate phrase names an issue better than its words alone


def cluster_keyphrases(cluster_ids: list[str], tokens: list[Tokens], n: int) -> dict[str, list[str]]:
    """Top ``n`` keyphrases per cluster by class-based TF-IDF (BERTopic's c-TF-IDF), within each language."""
    counts: dict[str, Counter] = {}
    for cid, tok in zip(cluster_ids, tokens):
        if cid == OUTLIER:
            continue
        bag = counts.setdefault(cid, Counter())
        bag.update(set(tok.content))
        bag.update({p: _PHRASE_BOOST for p in set(tok.phrases)})
    if not counts:
        return {}
    total = Counter()
    for bag in counts.values():
        total.update(bag)
    avg = sum(sum(b.values()) for b in counts.values()) / len(counts)
    out = {}
    for cid, bag in counts.items():
        size = sum(bag.values()) or 1
        scored = sorted(((tf / size) * math.log(1 + avg / total[t]), t) for t, tf in bag.items() if tf >= 1)
        out[cid] = _dedupe([t for _, t in reversed(scored)], n)
    return out


def _dedupe(terms: list[str], n: int) -> list[str]:
    """Drop a term already contained in (or containing) a better-ranked one: 配送 after 配送が遅い."""
    kept: list[str] = []
    for term in terms:
        if any(term in k or k in term for k in kept):
            continue
        kept.append(term)
        if len(kept) == n:
            break
    return kept


def cluster_centroids(assigned: pd.DataFrame, vectors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """cluster_id -> unit centroid; ``assigned`` rows of each space align with vectors[space] rows."""
    out = {}
    for space, vecs in vectors.items():
        sub = assigned[assigned["space"] == space].reset_index(drop=True)
        for cid, group in sub.groupby("cluster_id", sort=True):
            if cid == OUTLIER:
                continue
            centroid = vecs[group.index.to_numpy()].mean(axis=0)
            out[cid] = (centroid / max(float(np.linalg.norm(centroid)), 1e-12)).astype(np.float32)
    return out


def centrality(assigned: pd.DataFrame, vectors: dict[str, np.ndarray]) -> pd.Series:
    """Cosine of each item to its cluster's centroid (NaN for outliers), aligned with ``assigned``.

    ``assigned`` has space and cluster_id; its rows of each space align with the rows of vectors[space]."""
    centroids = cluster_centroids(assigned, vectors)
    out = np.full(len(assigned), np.nan)
    for lang, vecs in vectors.items():
        rows = np.flatnonzero((assigned["space"] == lang).to_numpy())
        clusters = assigned["cluster_id"].to_numpy()[rows]
        member = clusters != OUTLIER
        if member.any():
            own = np.vstack([centroids[c] for c in clusters[member]])
            out[rows[member]] = np.round(np.einsum("ij,ij->i", vecs[member], own), 6)
    return pd.Series(out, index=assigned.index, dtype=float)


def is_keyword_label(label: str, keyphrases: list[str]) -> bool:
    """Whether ``label`` is only its first keyphrases joined (「届く・遅い・配送」, "hold / minute"), not a name."""
    return any(label == sep.join(keyphrases[:n]) for sep in ("・", " / ") for n in range(1, len(keyphrases) + 1))


def gist(text: str) -> str:
    """What two near-duplicate verbatims share: the letters and digits of the NFKC text, case-folded (the same
    sentence with and without a kaomoji, an emoji or other punctuation has one gist)."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


def representative_verbatims(texts: list[str], scores: np.ndarray, n: int) -> list[str]:
    """The ``n`` texts with the highest centrality, one per gist (no near-duplicates), with @handles and any PII
    redacted."""
    seen, out = set(), []
    for i in np.argsort(-np.asarray(scores, dtype=float), kind="stable"):
        text = redact_pii(texts[i], handles=True)
        if gist(text) not in seen:
            seen.add(gist(text))
            out.append(text)
        if len(out) == n:
            break
    return out


def describe_clusters(assigned: pd.DataFrame, texts: pd.Series, tokens: list[Tokens], cfg: LabelConfig,
                      langs: pd.Series | None = None, language: str | None = None,
                      encode: Callable[[list[str]], np.ndarray] | None = None) -> pd.DataFrame:
    """One row per cluster: cluster_id, space, size, label, keyphrases, verbatims, names.

    The label is the issue's name (nlp/names.py: the claim of its most central items in the label's language
    that sets it apart, 配送が遅い / "order never arrived") when cfg.names is on and ``encode`` (texts -> unit
    vectors of cfg.name_embedder) is given; otherwise, and for an issue without a claim, its first
    cfg.max_label_terms keyphrases.

    ``assigned`` (space, cluster_id, centrality) rows align with ``texts``, ``tokens`` and ``langs`` (each item's
    own language; ``space`` of ``assigned`` is its embedding space). An issue that holds items of several
    languages (a shared space) is described in the report's ``language``: its keyphrases and label come from its
    members in that language (from all of them when it has none), its first cfg.n_verbatims verbatims are theirs,
    and up to cfg.other_language_verbatims verbatims of each other language follow, marked "(en)", "(ja)".

    ``names``: the issue's name in each other report language (REPORT_LANGUAGES), for a report re-rendered in
    it (an English re-render of a Japanese run names its issues in English); empty without names."""
    langs = pd.Series(assigned["space"].to_numpy() if langs is None else np.asarray(langs, dtype=object),
                      index=assigned.index).astype(str)
    frame = assigned.assign(text=texts.to_numpy(), item_lang=langs.to_numpy())
    clustered = frame["cluster_id"] != OUTLIER
    keyphrases = _keyphrases_in_language(frame, clustered, tokens, language, cfg)
    rows, samples, sample_langs = [], {}, {}
    for cid, group in frame[clustered].groupby("cluster_id", sort=True):
        row, samples[cid], sample_langs[cid] = _describe_cluster(cid, group, keyphrases.get(cid, []), language, cfg)
        rows.append(row)
    if cfg.names and encode is not None:
        _name_rows(rows, samples, sample_langs, language, encode, cfg)
    columns = ["cluster_id", "space", "size", "label", "keyphrases", "verbatims", "names"]
    return pd.DataFrame(rows, columns=columns)


def _keyphrases_in_language(frame: pd.DataFrame, clustered: pd.Series, tokens: list[Tokens], language: str | None,
                            cfg: LabelConfig) -> dict[str, list[str]]:
    """Each cluster's keyphrases from its members in the report's ``language``, from all of them when it has
    none."""
    has_report_lang = set(frame.loc[clustered & (frame["item_lang"] == language), "cluster_id"])
    own = (frame["item_lang"] == language) | ~frame["cluster_id"].isin(has_report_lang)
    return cluster_keyphrases(frame["cluster_id"].where(own, OUTLIER).tolist(), tokens, cfg.n_keyphrases)


def _describe_cluster(cid: str, group: pd.DataFrame, terms: list[str], language: str | None,
                      cfg: LabelConfig) -> tuple[dict, list[str], str]:
    """One cluster's row (its keyphrase label, no names yet), the redacted texts of its cfg.name_sample most
    central items in the label's language (what names it) and that language."""
    space = group["space"].iloc[0]
    in_lang = group["item_lang"] == language
    label_lang = language if in_lang.any() else group["item_lang"].mode().iloc[0]
    sep = "・" if (space.split("+") == ["ja"] or label_lang == "ja") else " / "
    row = {"cluster_id": cid, "space": space, "size": len(group),
           "label": sep.join(terms[: cfg.max_label_terms]) or cid, "keyphrases": terms,
           "verbatims": _verbatims(group, language, cfg), "names": {}}
    central = group[group["item_lang"] == label_lang].sort_values("centrality", ascending=False, kind="stable")
    return row, [redact_pii(t, handles=True) for t in central["text"].head(cfg.name_sample)], label_lang


def _name_rows(rows: list[dict], samples: dict[str, list[str]], sample_langs: dict[str, str], language: str | None,
               encode: Callable[[list[str]], np.ndarray], cfg: LabelConfig) -> None:
    """Label each row (in place) by its issue's name where it has one; with a report ``language``, also fill
    its ``names`` in each other report language."""
    if language is None:
        names = name_issues(samples, sample_langs, None, encode, cfg)
        for row in rows:
            row["label"] = names.get(row["cluster_id"], row["label"])
        return
    others = tuple(lg for lg in REPORT_LANGUAGES if lg != language)
    by_language = names_in_languages(samples, sample_langs, (language, *others), encode, cfg)
    for row in rows:
        row["label"] = by_language[language].get(row["cluster_id"], row["label"])
        row["names"] = {lg: by_language[lg][row["cluster_id"]] for lg in others
                        if row["cluster_id"] in by_language[lg]}


def _verbatims(group: pd.DataFrame, language: str | None, cfg: LabelConfig) -> list[str]:
    """A cluster's verbatims: of one language, the most central; of several, cfg.n_verbatims of the report's
    language (of the cluster's main language when it has none), then cfg.other_language_verbatims of each other
    language, most central first; those not in the report's language are marked with their language."""
    counts = group["item_lang"].value_counts()
    if len(counts) < 2:
        return representative_verbatims(group["text"].tolist(), group["centrality"].to_numpy(), cfg.n_verbatims)
    main = language if language in counts.index else sorted(counts[counts == counts.max()].index)[0]
    out = []
    for lang in [main] + sorted(set(counts.index) - {main}):
        members = group[group["item_lang"] == lang]
        n = cfg.n_verbatims if lang == main else cfg.other_language_verbatims
        picked = representative_verbatims(members["text"].tolist(), members["centrality"].to_numpy(), n)
        out += picked if lang == language else [f"({lang}) {v}" for v in picked]
    return out


def in_language(clusters: pd.DataFrame, language: str) -> pd.Series:
    """Each cluster's label in ``language``: its name there (the ``names`` of describe_clusters) when it has
    one, else its label (a cluster named in ``language`` already, or without a name there)."""
    return pd.Series([names.get(language, label) for names, label in zip(clusters["names"], clusters["label"])],
                     index=clusters.index, dtype=object)



def labels_in_language(clusters: pd.DataFrame, labels: dict[str, str], language: str
                       ) -> tuple[pd.DataFrame, dict[str, str]]:
    """A run's issues (``clusters``: issue_id, label, names, ...) and labels (issue id -> label) for a report in
    ``language``: each issue by its name there (in_language) where it has one, the others as they were."""
    named = in_language(clusters, language)
    changed = named != clusters["label"]
    return clusters.assign(label=named), {**labels, **dict(zip(clusters.loc[changed, "issue_id"], named[changed]))}
