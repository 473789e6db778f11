"""Phrases the config writes (journey stages' prototypes and examples, the taxonomy's pinned-issue examples),
embedded in each embedding space with the items' own embedder, and the items' closeness to them: the stage
similarities nlp.stages assigns from, and the items a pinned issue takes (nlp.taxonomy.pin_items)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from nlp.analysis import embedding_space, embedding_spaces, space_spec
from nlp.config import EmbedderSpec, PipelineConfig
from nlp.embed import embed_texts, get_embedder
from nlp.normalize import normalize_text
from nlp.stages import prototype_similarity, stage_examples, stage_prototypes, stage_similarity
from nlp.taxonomy import Taxonomy, pin_items, pinned_examples
from nlp.tokenize import tokenize_texts


def stage_similarities(cfg: PipelineConfig, items: pd.DataFrame, vectors: dict[str, np.ndarray]) -> np.ndarray:
    """(n_items, n_stages) similarity of each item to each stage in its own space (cfg.stages.method's way)."""
    space = embedding_space(items["lang"], cfg.embed)
    stages, v2 = cfg.stages.stages, cfg.stages.method == "calibrated.v2"
    sims = np.zeros((len(items), len(stages)), dtype=np.float32)
    spaces = embedding_spaces(cfg.embed)
    for name, vecs in vectors.items():
        spec = space_spec(name, cfg.embed)
        texts, owner, langs = (stage_prototypes if v2 else stage_examples)(stages, spaces[name])
        example_vecs = phrase_vectors(spec, tuple(texts), tuple(langs))
        mask = (space == name).to_numpy()
        sims[mask] = prototype_similarity(vecs, example_vecs, owner, len(stages), cfg.stages,
                                          center=get_embedder(spec).common_direction) if v2 else \
            stage_similarity(vecs, example_vecs, owner, len(stages), cfg.stages.top_k)
    return sims


@lru_cache(maxsize=32)
def phrase_vectors(spec: EmbedderSpec, texts: tuple[str, ...], langs: tuple[str, ...],
                   normalize: bool = True) -> np.ndarray:
    """The vectors of a config's phrases with the items' embedder (``normalize``: normalised like the items'
    texts); kept for the process (the same config embeds them once, whatever the number of runs), read-only."""
    written = [normalize_text(t) for t in texts] if normalize else list(texts)
    vecs = embed_texts(written, tokenize_texts(written, list(langs)), get_embedder(spec))
    vecs.setflags(write=False)
    return vecs


def pin_items_by_space(cfg: PipelineConfig, taxonomy: Taxonomy, items: pd.DataFrame, assigned: pd.DataFrame,
                       vectors: dict[str, np.ndarray]) -> pd.DataFrame:
    """``assigned`` with the items nearest a pinned issue's examples in their own space moved into it
    (nlp.taxonomy.pin_items); the examples as written (not normalised), as pinned issues always took them."""
    space = embedding_space(items["lang"], cfg.embed).to_numpy()
    out = assigned.reset_index(drop=True)
    for name, vecs in vectors.items():
        texts, owners, langs = [], [], []
        for lang in embedding_spaces(cfg.embed)[name]:
            t, o = pinned_examples(taxonomy, lang)
            texts, owners, langs = texts + t, owners + o, langs + [lang] * len(t)
        mask = space == name
        if not texts or not mask.any():
            continue
        examples = phrase_vectors(space_spec(name, cfg.embed), tuple(texts), tuple(langs), normalize=False)
        out.loc[mask, ["issue_id", "centrality"]] = pin_items(
            out.loc[mask, ["issue_id", "centrality"]], vecs, examples, owners,
            cfg.taxonomy.pin_min_similarity).to_numpy()
    return out
