"""The nightly flow's tokenize and embed tasks: partitions mapped over the runner (flows/runner.py), vectors
cached in the store by text and model."""

from __future__ import annotations

import numpy as np
import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.runner import Args, iter_partitions, map_partitions, partitions
from nlp.analysis import embedding_space, embedding_spaces, space_spec
from nlp.config import PipelineConfig
from nlp.embed import embed_texts, get_embedder
from nlp.store import Store
from nlp.tokenize import Tokens, tokenize_texts


def tokenize_items(cfg: PipelineConfig, items: pd.DataFrame, scope: np.ndarray, runner=None) -> list[Tokens | None]:
    """Tokens of the items in scope (None for the others), each text tokenized once for every later step;
    partitions of cfg.partition_size mapped over the runner (flows/runner.py)."""
    idx = np.flatnonzero(scope)
    texts, langs = items["text"].iloc[idx].tolist(), items["lang"].iloc[idx].tolist()
    parts = partitions(len(idx), cfg.partition_size)
    done = map_partitions(runner, tokenize_partition,
                          [{"texts": texts[p.start:p.stop], "langs": langs[p.start:p.stop]} for p in parts])
    tokens: list[Tokens | None] = [None] * len(items)
    for i, tok in zip(idx, (t for part in done for t in part)):
        tokens[i] = tok
    return tokens


@task(cache_policy=NO_CACHE)
def tokenize_partition(args: Args) -> list[Tokens]:
    """Tokens of args.texts (languages args.langs)."""
    return tokenize_texts(args.kwargs["texts"], args.kwargs["langs"])


@task(cache_policy=NO_CACHE)
def embed_partition(args: Args) -> np.ndarray:
    """Vectors of args.texts (with their args.tokens) from the embedder args.spec."""
    kw = args.kwargs
    return embed_texts(kw["texts"], kw["tokens"], get_embedder(kw["spec"]), kw["chunk_size"])


def embed_items(cfg: PipelineConfig, items: pd.DataFrame, tokens: list[Tokens],
                runner=None) -> tuple[dict[str, np.ndarray], int]:
    """Vectors per embedding space (rows in item order within the space) and how many were newly embedded;
    vectors already in the store for the same text and model are reused, new ones are embedded in partitions
    of cfg.partition_size (mapped over the runner) and saved by this process."""
    logger, store = get_run_logger(), Store(cfg.store.path)
    space = embedding_space(items["lang"], cfg.embed)
    vectors, fresh = {}, 0
    for lang in sorted(space.unique()):
        idx = np.flatnonzero((space == lang).to_numpy())
        spec = space_spec(lang, cfg.embed)
        model_key = get_embedder(spec).model_key
        hashes = items["content_hash"].iloc[idx].tolist()
        cached = store.cache.embeddings(hashes, model_key)
        # one row per distinct new text, so a text's vector never depends on which batch it fell in
        first_of = {h: i for i, h in reversed(list(zip(idx, hashes))) if h not in cached}
        todo = sorted(first_of.values())
        logger.info("embed %s: %d texts, %d distinct new, embedding with %s", lang, len(idx), len(todo), model_key)
        texts, new_hashes = items["text"].iloc[todo].tolist(), items["content_hash"].iloc[todo].tolist()
        parts = partitions(len(todo), cfg.partition_size)
        calls = [{"texts": texts[p.start:p.stop], "tokens": [tokens[todo[k]] for k in p], "spec": spec,
                  "chunk_size": cfg.embed.chunk_size} for p in parts]
        # each partition's vectors are saved as soon as they are there: a run that dies mid-embedding leaves
        # them in the cache, and the next run embeds only the rest (in the same partitions: the saved ones are
        # always a prefix of todo)
        for part, new in zip(parts, iter_partitions(runner, embed_partition, calls)):
            store.cache.save_embeddings(new_hashes[part.start:part.stop], new, model_key)
            cached.update(zip(new_hashes[part.start:part.stop], new))
            fresh += len(part)
            if len(parts) > 1:
                done = part.stop / len(todo)
                logger.info("embed %s: [%-20s] %3.0f%%, %d of %d new texts embedded", lang, "#" * round(20 * done),
                            100 * done, part.stop, len(todo))
        vectors[lang] = np.vstack([cached[h] for h in hashes]).astype(np.float32)
    return vectors, fresh


def model_keys(cfg: PipelineConfig) -> dict[str, str]:
    """Space name -> the model key (cache key) of its embedder: what issue centroids and radii are keyed by."""
    return {space: get_embedder(space_spec(space, cfg.embed)).model_key for space in embedding_spaces(cfg.embed)}
