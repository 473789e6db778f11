"""Embedders: a small protocol, a registry of backends by name, and ``embed_texts``.

A backend is one module in this package; its heavy imports stay inside it. Config names a backend
(e.g. ``st.v1``) and a model per language; a behaviour change gets a new registered name."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import lru_cache
from typing import Protocol

import numpy as np

from nlp.config import EmbedderSpec
from nlp.tokenize import Tokens


class Embedder(Protocol):
    model_key: str  # cache key: backend name + model + anything that changes the vectors
    common_direction: bool  # vectors share a direction that clustering should remove (averaged word vectors)

    def embed(self, texts: list[str], tokens: list[Tokens]) -> np.ndarray:
        """(n, d) float32, L2-normalised rows (zero rows for texts with nothing to embed)."""
        ...


EMBEDDERS: dict[str, Callable[..., Embedder]] = {}  # name -> factory(model, device, runtime)
_BACKEND_MODULES = {"st.v1": "nlp.embed.sentence_transformers", "spacy_vectors.v1": "nlp.embed.spacy_vectors",
                    "spacy_vectors.v2": "nlp.embed.spacy_vectors", "use.v1": "nlp.embed.use"}


def register(name: str) -> Callable:
    def deco(factory: Callable[..., Embedder]) -> Callable[..., Embedder]:
        EMBEDDERS[name] = factory
        return factory

    return deco


@lru_cache(maxsize=8)
def get_embedder(spec: EmbedderSpec) -> Embedder:
    """The embedder for ``spec``, loaded once per process."""
    if spec.backend not in EMBEDDERS and spec.backend in _BACKEND_MODULES:
        importlib.import_module(_BACKEND_MODULES[spec.backend])
    if spec.backend not in EMBEDDERS:
        known = sorted(set(EMBEDDERS) | set(_BACKEND_MODULES))
        raise ValueError(f"unknown embedding backend {spec.backend!r}; registered: {known}")
    return EMBEDDERS[spec.backend](spec.model, spec.device, spec.runtime)


def embed_texts(texts: list[str], tokens: list[Tokens], embedder: Embedder, batch_size: int = 64,
                chunk_batches: int = 32) -> np.ndarray:
    """Embed in chunks of ``chunk_batches * batch_size`` texts taken in order of length, so each model batch
    holds texts of similar length (little padding, as one big ``encode`` call would); returns (n, d) float32
    rows in input order."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    order = np.argsort([len(t) for t in texts], kind="stable")
    chunk = batch_size * chunk_batches
    parts = [embedder.embed([texts[i] for i in order[start:start + chunk]],
                            [tokens[i] for i in order[start:start + chunk]]) for start in range(0, len(texts), chunk)]
    out = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
    out[order] = np.vstack(parts)
    return out


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1.0, norms)).astype(np.float32)
