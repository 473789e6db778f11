"""spaCy word-vector backend (``spacy_vectors.v1``): the mean of a pipeline's static vectors over a text's
content-word lemmas (nouns, verbs, adjectives). For Japanese with ``ja_ginza``, where MiniLM sees [UNK]."""

from __future__ import annotations

import numpy as np

from nlp.embed import l2_normalize, register
from nlp.tokenize import Tokens, load_tokenizer


class SpacyVectorsEmbedder:
    def __init__(self, model: str):
        import spacy

        self.model = model
        self.model_key = f"spacy_vectors.v1:{model}"
        self.common_direction = True
        # reuse the tokenizer's pipeline when it is the same model, so the vectors load once
        self._nlp = load_tokenizer("ja") if model == "ja_ginza" else spacy.load(model, exclude=["parser", "ner"])
        self._vectors = self._nlp.vocab.vectors
        if self._vectors.shape[0] == 0:
            raise ValueError(f"spaCy pipeline {model!r} has no word vectors; pick one that does (e.g. ja_ginza)")

    def _vector(self, words: list[str]) -> np.ndarray:
        rows = [self._vectors[self._nlp.vocab.strings[w]] for w in words
                if self._nlp.vocab.strings[w] in self._vectors] if words else []
        if not rows:
            return np.zeros(self._vectors.shape[1], dtype=np.float32)
        return np.mean(np.asarray(rows, dtype=np.float32), axis=0)

    def embed(self, texts: list[str], tokens: list[Tokens]) -> np.ndarray:
        out = np.zeros((len(texts), self._vectors.shape[1]), dtype=np.float32)
        for i, tok in enumerate(tokens):
            vec = self._vector(tok.content)
            if not vec.any():  # no content word has a vector: fall back to every lemma
                vec = self._vector(tok.lemmas)
            out[i] = vec
        return l2_normalize(out)


@register("spacy_vectors.v1")
def make(model: str, device: str = "cpu") -> SpacyVectorsEmbedder:  # word vectors: the CPU is enough
    return SpacyVectorsEmbedder(model)
