"""Embedders: a small protocol, the registry of backends by name, and ``embed_texts``.

A backend is one module in this package: it registers its names with ``register`` (a factory, the typed
options it takes, a model it ships and the languages it reads) and keeps its heavy imports inside the factory.
The registry finds the modules itself (every module here not named ``_x``), so adding a backend is adding a
module. Config names a backend (e.g. ``st.v2``) and a model per language; a behaviour change gets a new name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from nlp.config import EmbedderOptions, EmbedderSpec
from nlp.registry import import_modules

if TYPE_CHECKING:
    from nlp.tokenize import Tokens


class Embedder(Protocol):
    model_key: str  # cache key: names the vectors (backend + model + anything that changes them)
    common_direction: bool  # vectors share a direction that clustering should remove (averaged word vectors)

    def embed(self, texts: list[str], tokens: list[Tokens]) -> np.ndarray:
        """(n, d) float32, L2-normalised rows (zero rows for texts with nothing to embed)."""
        ...


@dataclass(frozen=True)
class Backend:
    """A registered backend: its factory (model, options) -> Embedder, the pydantic model of its options, the
    module that declares it, and a model koe's dependencies ship for it with the languages it reads (what the
    contract tests embed with)."""

    name: str
    factory: Callable[[str, Any], Embedder]
    options: type[EmbedderOptions]
    module: str
    shipped_model: str
    languages: tuple[str, ...]


_REGISTRY: dict[str, Backend] = {}


def register(name: str, options: type[EmbedderOptions] = EmbedderOptions, *, shipped_model: str,
             languages: tuple[str, ...]) -> Callable:
    """Register ``factory(model, options)`` as backend ``name`` (a decorator, used by the modules of this package)."""
    def deco(factory: Callable[[str, Any], Embedder]) -> Callable[[str, Any], Embedder]:
        _REGISTRY[name] = Backend(name, factory, options, factory.__module__, shipped_model, tuple(languages))
        return factory

    return deco


@lru_cache(maxsize=1)
def _discover() -> tuple[str, ...]:
    """Import every backend module of this package once (cheap: their heavy imports wait for a factory call);
    their full names."""
    return import_modules(__name__, __path__)


def backend_modules() -> tuple[str, ...]:
    """The backend modules of this package, by full name."""
    return _discover()


def backends() -> dict[str, Backend]:
    """Every registered backend by name."""
    _discover()
    return dict(_REGISTRY)


def backend(name: str) -> Backend:
    """The backend registered as ``name``; a ValueError naming the registered ones for any other."""
    found = backends().get(name)
    if found is None:
        raise ValueError(f"unknown embedding backend {name!r}; registered: {sorted(_REGISTRY)}")
    return found


def backend_options(name: str) -> type[EmbedderOptions]:
    """The options model of backend ``name`` (EmbedderSpec validates a spec's options with it)."""
    return backend(name).options


@lru_cache(maxsize=8)
def get_embedder(spec: EmbedderSpec) -> Embedder:
    """The embedder for ``spec``, loaded once per process."""
    return backend(spec.backend).factory(spec.model, spec.options)


def embed_texts(texts: list[str], tokens: list[Tokens], embedder: Embedder, chunk_size: int = 2048) -> np.ndarray:
    """Embed in chunks of ``chunk_size`` texts taken in order of length, so each model batch (the backend's
    batch_size) holds texts of similar length (little padding, as one big ``encode`` call would); returns (n, d)
    float32 rows in input order."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    order = np.argsort([len(t) for t in texts], kind="stable")
    parts = [embedder.embed([texts[i] for i in order[start:start + chunk_size]],
                            [tokens[i] for i in order[start:start + chunk_size]])
             for start in range(0, len(texts), chunk_size)]
    out = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
    out[order] = np.vstack(parts)
    return out


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1.0, norms)).astype(np.float32)
