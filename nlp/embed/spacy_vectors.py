"""spaCy word-vector backends: a text's vector from a pipeline's static vectors over its content-word lemmas
(nouns, verbs, adjectives). For Japanese with ``ja_ginza``, where MiniLM sees [UNK].

- ``spacy_vectors.v1``: the plain mean.
- ``spacy_vectors.v2``: a SIF-weighted mean (Arora et al. 2017: weight a / (a + p(w))), with p(w) from the
  word's row in the vector table under Zipf's law (the tables are built most-frequent-first; a pruned word
  shares the row of its nearest kept word), so the vector never depends on the corpus being embedded.
  Its figures against v1 are in bench/results/quality.json and the README (bench/quality.py).

Neither takes options: a text's vector is looked up from its tokens (no model batch, the CPU)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from nlp.config import EmbedderOptions
from nlp.embed import l2_normalize, register

if TYPE_CHECKING:
    from nlp.tokenize import Tokens


_SIF_A = 1e-3


class SpacyVectorsEmbedder:
    def __init__(self, model: str, sif: bool = False):
        import spacy

        from nlp.tokenize import load_tokenizer

        self.model = model
        self.sif = sif
        self.model_key = f"spacy_vectors.{'v2' if sif else 'v1'}:{model}"
        self.common_direction = True
        # reuse the tokenizer's pipeline when it is the same model, so the vectors load once
        self._nlp = load_tokenizer("ja") if model == "ja_ginza" else spacy.load(model, exclude=["parser", "ner"])
        self._vectors = self._nlp.vocab.vectors
        if self._vectors.shape[0] == 0:
            raise ValueError(f"spaCy pipeline {model!r} has no word vectors; pick one that does (e.g. ja_ginza)")

    def _vector(self, words: list[str]) -> np.ndarray:
        keys = [self._nlp.vocab.strings[w] for w in words]
        keys = [k for k in keys if k in self._vectors]
        if not keys:
            return np.zeros(self._vectors.shape[1], dtype=np.float32)
        rows = np.asarray([self._vectors[k] for k in keys], dtype=np.float32)
        weights = self._sif_weights(keys) if self.sif else np.ones(len(keys), dtype=np.float32)
        return (rows * weights[:, None]).sum(axis=0) / weights.sum()

    def _sif_weights(self, keys: list[int]) -> np.ndarray:
        n = self._vectors.shape[0]
        rank = np.asarray([self._vectors.key2row.get(k, n) for k in keys], dtype=np.float64) + 1
        p = 1.0 / (rank * (np.log(n) + 0.5772))  # Zipf: p(rank r) = 1 / (r * H_n)
        return (_SIF_A / (_SIF_A + p)).astype(np.float32)

    def embed(self, texts: list[str], tokens: list[Tokens]) -> np.ndarray:
        out = np.zeros((len(texts), self._vectors.shape[1]), dtype=np.float32)
        for i, tok in enumerate(tokens):
            vec = self._vector(tok.content)
            if not vec.any():  # no content word has a vector: fall back to every lemma
                vec = self._vector(tok.lemmas)
            out[i] = vec
        return l2_normalize(out)


_SHIPPED = {"shipped_model": "ja_ginza", "languages": ("ja",)}


@register("spacy_vectors.v1", **_SHIPPED)
def make(model: str, options: EmbedderOptions) -> SpacyVectorsEmbedder:
    return SpacyVectorsEmbedder(model)


@register("spacy_vectors.v2", **_SHIPPED)
def make_sif(model: str, options: EmbedderOptions) -> SpacyVectorsEmbedder:
    return SpacyVectorsEmbedder(model, sif=True)
