"""Issue names a person would write (配送が遅い, 商品が届かない, "order never arrived"): the claim, a noun phrase and
its predicate, that most of an issue's central items make and few items of other issues make. Keyphrases stay
as the issue's detail; an issue with no shared claim keeps its keyphrase label.

Claims are read (nlp.claims) from the central items of each issue only, so naming costs little beside the night."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from nlp.claims import Claim, text_claims
from nlp.config import EmbedderSpec, LabelConfig


def name_issues(samples: dict[str, list[str]], langs: dict[str, str], language: str | None,
                encode: Callable[[list[str]], np.ndarray], cfg: LabelConfig) -> dict[str, str]:
    """cluster_id -> its name. ``samples`` holds each cluster's most central texts (first = most central), all in
    the cluster's naming language ``langs[cluster_id]``; ``encode`` maps texts to unit vectors of one multilingual
    space. A claim's score is its cosine to its cluster's centroid minus cfg.name_distinct times its best cosine
    to another cluster's (a name says what sets the issue apart); the best claim names the cluster, each name once.

    A cluster whose language is not the report's ``language`` is named by the closest claim written in
    ``language`` by the run's other clusters or, with cfg.name_list, in koe's list of common issue names
    (common_names), with its own name after it ("can't cancel subscription (解約できない)"), when that claim
    reaches cfg.name_min_similarity; otherwise by its own name alone. A cluster
    without any claim is absent from the result (it keeps its keyphrase label)."""
    if language is None:
        return _Naming.of(samples, langs, encode, cfg).names
    return names_in_languages(samples, langs, (language,), encode, cfg)[language]


def names_in_languages(samples: dict[str, list[str]], langs: dict[str, str], languages: tuple[str, ...],
                       encode: Callable[[list[str]], np.ndarray], cfg: LabelConfig) -> dict[str, dict[str, str]]:
    """language -> name_issues(..., language, ...) for each of ``languages``, the claims read and embedded once."""
    naming = _Naming.of(samples, langs, encode, cfg)
    return {language: naming.in_language(language, encode, cfg) for language in languages}


@dataclass
class _Naming:
    """What naming in any language starts from: the clusters with a sample, their centroids, their candidate
    claims (tone marked), the claims' vectors and each cluster's own name."""

    ids: list[str]
    langs: dict[str, str]
    centroids: np.ndarray
    candidates: dict[str, list[_Candidate]]
    vectors: dict[str, np.ndarray]
    tone: dict[str, float]
    names: dict[str, str]

    @classmethod
    def of(cls, samples: dict[str, list[str]], langs: dict[str, str], encode: Callable[[list[str]], np.ndarray],
           cfg: LabelConfig) -> _Naming:
        ids = [cid for cid in sorted(samples) if samples[cid]]
        if not ids:
            return cls([], langs, np.zeros((0, 0)), {}, {}, {}, {})
        centroids = np.vstack([encode(samples[cid]).mean(axis=0) for cid in ids])
        centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
        candidates = {cid: _candidates(text_claims(samples[cid], langs[cid])) for cid in ids}
        pool = sorted({c.text for cid in ids for c in candidates[cid]})
        if not pool:
            return cls([], langs, np.zeros((0, 0)), {}, {}, {}, {})
        vectors = dict(zip(pool, encode(pool)))
        tone = {cid: float(np.mean(_polarity(samples[cid], langs[cid]))) for cid in ids}
        for cid in ids:
            polarity = _polarity([c.text for c in candidates[cid]], langs[cid])
            candidates[cid] = [replace(c, against=bool(p * tone[cid] < 0 and abs(tone[cid]) > 0.1))
                               for c, p in zip(candidates[cid], polarity)]
        names = _unique({cid: _ranked(candidates[cid], vectors, centroids, k, cfg) for k, cid in enumerate(ids)})
        return cls(ids, langs, centroids, candidates, vectors, tone, names)

    def in_language(self, language: str, encode: Callable[[list[str]], np.ndarray],
                    cfg: LabelConfig) -> dict[str, str]:
        """The names in a report written in ``language`` (name_issues)."""
        ids, langs, centroids, vectors, tone = self.ids, self.langs, self.centroids, self.vectors, self.tone
        names = dict(self.names)
        if not ids:
            return names
        # a claim of another cluster (its support there says nothing about this one) or a common issue name
        written_in = [replace(c, support=0.0, against=False) for cid in ids if langs[cid] == language
                      for c in self.candidates[cid]]
        if cfg.name_list:
            known = {c.text for c in written_in}
            written_in += [_Candidate(t, False, 0.0) for t in common_names(language, tuple(cfg.name_domains))
                           if t not in known]
        written_tone = _polarity([c.text for c in written_in], language)
        missing = sorted({c.text for c in written_in} - set(vectors))
        if missing:
            vectors.update(zip(missing, encode(missing)))
        # ... and it sets the cluster apart from the clusters of its own language only: the report's language may
        # hold the same issue (two spaces), whose closeness is no ambiguity
        foreign = [k for k, cid in enumerate(ids) if langs[cid] != language]
        for k in foreign:
            cid = ids[k]
            if not written_in or cid not in names:
                continue
            toned = [replace(c, against=bool(p * tone[cid] < 0 and abs(tone[cid]) > 0.1))
                     for c, p in zip(written_in, written_tone)]
            best = _ranked(toned, vectors, centroids[foreign], foreign.index(k), cfg)[0][1]
            if float(vectors[best] @ centroids[k]) >= cfg.name_min_similarity:
                names[cid] = f"{best} ({names[cid]})"
        return names


@dataclass(frozen=True)
class _Candidate:
    text: str
    noun: bool
    support: float  # share of the cluster's sample texts that make the claim
    against: bool = False  # its tone is the opposite of its cluster's (配達が速い in a cluster of complaints)


@lru_cache(maxsize=8)
def common_names(language: str, domains: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """koe's list of common issue names in ``language`` (nlp/data/issue_names.tsv: one concept per row, en and ja
    written side by side, each tagged with the domain it belongs to: general, airline, banking), of ``domains``
    only (None: every row); empty for another language."""
    table = Path(__file__).parent / "data" / "issue_names.tsv"
    rows = [line.split("\t") for line in table.read_text(encoding="utf-8").splitlines()]
    header, body = rows[0], rows[1:]
    if language not in header:
        return ()
    domain = header.index("domain")
    return tuple(r[header.index(language)] for r in body if domains is None or r[domain] in domains)


def _polarity(texts: list[str], lang: str) -> list[float]:
    """The rules' polarity of each text (nlp.sentiment.text_sentiment), in [-1, 1]."""
    from nlp.sentiment import text_sentiment
    from nlp.tokenize import tokenize_texts

    return [text_sentiment(t, tok) for t, tok in zip(texts, tokenize_texts(texts, [lang] * len(texts)))]


def _candidates(claims: list[list[Claim]]) -> list[_Candidate]:
    """One candidate per claim key of a cluster's sample texts, written as most of them wrote it."""
    written: dict[str, dict[str, int]] = {}
    nouns = {}
    for text in claims:
        for c in text:
            forms = written.setdefault(c.key, {})
            forms[c.text] = forms.get(c.text, 0) + 1
            nouns[c.key] = c.noun
    n = max(len(claims), 1)
    return [_Candidate(min(forms.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0], nouns[key],
                       sum(forms.values()) / n) for key, forms in sorted(written.items())]


def _ranked(candidates: list[_Candidate], vectors: dict[str, np.ndarray], centroids: np.ndarray, k: int,
            cfg: LabelConfig) -> list[tuple[float, str]]:
    """(score, text) of a cluster's candidates, best first: cosine to centroid k, minus cfg.name_distinct times
    the best cosine to another centroid, plus cfg.name_support times the share of texts making it, minus
    cfg.name_noun_penalty for a noun phrase without predicate and cfg.name_tone_penalty for a claim whose tone
    is the opposite of its cluster's."""
    if not candidates:
        return []
    sims = np.vstack([vectors[c.text] for c in candidates]) @ centroids.T
    other = np.delete(sims, k, axis=1).max(axis=1) if len(centroids) > 1 else np.zeros(len(candidates))
    score = (sims[:, k] - cfg.name_distinct * other + cfg.name_support * np.array([c.support for c in candidates])
             - cfg.name_noun_penalty * np.array([c.noun for c in candidates], dtype=float)
             - cfg.name_tone_penalty * np.array([c.against for c in candidates], dtype=float))
    return sorted(((float(s), c.text) for s, c in zip(score, candidates)), key=lambda st: (-st[0], st[1]))


def _unique(ranked: dict[str, list[tuple[float, str]]]) -> dict[str, str]:
    """cluster_id -> its best claim, each name once: where two clusters chose the same claim, the one it fits less
    takes its next claim."""
    taken: dict[str, str] = {}
    for cid in sorted((c for c in ranked if ranked[c]), key=lambda c: (-ranked[c][0][0], c)):
        for _, text in ranked[cid]:
            if text not in taken:
                taken[text] = cid
                break
    return {cid: text for text, cid in taken.items()}


def sentence_encoder(spec: EmbedderSpec) -> Callable[[list[str]], np.ndarray]:
    """texts -> unit vectors of the embedder ``spec`` (each text tokenized in its detected language, for the
    backends that read tokens)."""
    from nlp.embed import embed_texts, get_embedder, l2_normalize
    from nlp.language import detect_language
    from nlp.tokenize import tokenize_texts

    embedder = get_embedder(spec)

    def encode(texts: list[str]) -> np.ndarray:
        tokens = tokenize_texts(texts, [detect_language(t) for t in texts])
        return l2_normalize(embed_texts(texts, tokens, embedder))

    return encode
