import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from nlp.cluster import OUTLIER, cluster_embeddings, cluster_labels, fit_sample_rows, reduce_dimensions
from nlp.config import ClusterConfig, LabelConfig
from nlp.embed import embed_texts
from nlp.label import centrality, cluster_keyphrases, describe_clusters
from nlp.tokenize import tokenize_texts

# three planted Japanese themes, eight paraphrases each
THEMES = {
    "delivery": ["配送が遅い", "商品が届かない", "荷物がまだ届きません", "配達が予定より遅れた", "お届け予定日を過ぎても届かない",
                 "配送遅延がひどい", "発送から一週間たっても届かない", "配送状況が更新されず届かない"],
    "login": ["アプリにログインできない", "ログインするとエラーになる", "アップデート後ログインできません", "ログイン画面から進めない",
              "パスワードが合っているのにログインできない", "ログインエラーが続く", "アプリのログインが失敗する", "再インストールしてもログインできない"],
    "rude": ["オペレーターの態度が悪い", "サポートの対応が失礼", "電話窓口の担当者が横柄", "担当者の言い方がひどい",
             "サポート担当の態度が不愉快", "問い合わせ窓口の対応が冷たい", "オペレーターが失礼な態度だった", "窓口の担当者の態度が最悪"],
}
TEXTS = [t for ts in THEMES.values() for t in ts]
TRUTH = [k for k, ts in THEMES.items() for _ in ts]
CFG = ClusterConfig(min_cluster_size=4, min_samples=2, min_items=10, n_neighbors=8)


def _vectors(ja_embedder):
    return embed_texts(TEXTS, tokenize_texts(TEXTS, ["ja"] * len(TEXTS)), ja_embedder)


def test_planted_japanese_themes_are_recovered(ja_embedder):
    labels = cluster_labels(_vectors(ja_embedder), CFG)
    clustered = labels >= 0
    assert clustered.mean() >= 0.75
    assert adjusted_rand_score(np.array(TRUTH)[clustered], labels[clustered]) >= 0.8


def test_same_input_same_clusters_and_ids(ja_embedder):
    vecs = _vectors(ja_embedder)
    ids = pd.Series([f"i{n:02d}" for n in range(len(TEXTS))])
    langs = pd.Series(["ja"] * len(TEXTS))
    a = cluster_embeddings(ids, langs, {"ja": vecs}, CFG)
    b = cluster_embeddings(ids, langs, {"ja": vecs.copy()}, CFG)
    pd.testing.assert_frame_equal(a, b)
    assert a["cluster_id"].str.match(r"^(ja-\d{3}|outlier)$").all()


def test_too_few_items_are_all_outliers():
    labels = cluster_labels(np.eye(5, dtype=np.float32), CFG)
    assert (labels == -1).all()


def test_keyphrases_name_the_theme(ja_embedder):
    vecs = _vectors(ja_embedder)
    ids = pd.Series([f"i{n:02d}" for n in range(len(TEXTS))])
    assigned = pd.DataFrame({"item_id": ids, "space": "ja", "cluster_id": [f"ja-{k}" for k in TRUTH]})
    tokens = tokenize_texts(TEXTS, ["ja"] * len(TEXTS))
    assigned["centrality"] = centrality(assigned, {"ja": vecs})
    assert assigned["centrality"].between(-1, 1.0001).all()
    clusters = describe_clusters(assigned, pd.Series(TEXTS), tokens, LabelConfig())
    labels = dict(zip(clusters["cluster_id"], clusters["label"]))
    assert "ログイン" in labels["ja-login"]
    assert any(w in labels["ja-delivery"] for w in ("届", "配送", "配達"))
    assert any(w in labels["ja-rude"] for w in ("態度", "失礼", "担当者", "対応"))
    assert all(len(v) == 3 for v in clusters["verbatims"])


def test_keyphrases_skip_outliers_and_prefer_phrases():
    toks = tokenize_texts(["商品が届かない", "商品が届かない!", "関係ない話"], ["ja"] * 3)
    out = cluster_keyphrases(["ja-000", "ja-000", OUTLIER], toks, 3)
    assert list(out) == ["ja-000"] and out["ja-000"][0] == "商品が届かない"


# four well-separated gaussian blobs in 16 dimensions, 80 points each, seeded
_RNG = np.random.default_rng(7)
BLOB_TRUTH = np.repeat(np.arange(4), 80)
BLOBS = (_RNG.normal(size=(4, 16)) * 8)[BLOB_TRUTH] + _RNG.normal(size=(320, 16))
BLOB_CFG = ClusterConfig(min_cluster_size=10, min_samples=5, fit_sample=None)


@pytest.mark.parametrize("reducer", ["umap", "pca", "none"])
def test_fit_on_a_sample_then_predict_gives_the_full_fit_partition(reducer):
    full = cluster_labels(BLOBS, BLOB_CFG.model_copy(update={"reducer": reducer}))
    sampled_cfg = BLOB_CFG.model_copy(update={"reducer": reducer, "fit_sample": 100})
    sampled = cluster_labels(BLOBS, sampled_cfg)
    assert adjusted_rand_score(BLOB_TRUTH, full) == 1.0
    assert adjusted_rand_score(full, sampled) >= 0.95
    assert np.array_equal(sampled, cluster_labels(BLOBS.copy(), sampled_cfg))


def test_sampled_fit_labels_duplicates_alike_and_is_seeded():
    cfg = BLOB_CFG.model_copy(update={"fit_sample": 100})
    vecs = np.vstack([BLOBS, BLOBS[::7]])
    labels = cluster_labels(vecs, cfg)
    assert np.array_equal(labels[320:], labels[:320:7])
    rows = fit_sample_rows(320, cfg)
    assert len(set(rows)) == 100 and np.array_equal(rows, fit_sample_rows(320, cfg))
    assert not np.array_equal(rows, fit_sample_rows(320, cfg.model_copy(update={"seed": 7})))


def test_a_sample_without_clusters_leaves_everything_an_outlier():
    cfg = BLOB_CFG.model_copy(update={"reducer": "pca", "fit_sample": 30, "min_cluster_size": 40})
    assert (cluster_labels(BLOBS, cfg) == -1).all()


@pytest.mark.parametrize("fit_sample", [None, 320, 10_000])
def test_no_sampling_up_to_fit_sample_keeps_the_full_fit(fit_sample):
    import hdbscan

    cfg = BLOB_CFG.model_copy(update={"fit_sample": fit_sample})
    expected = hdbscan.HDBSCAN(min_cluster_size=10, min_samples=5).fit_predict(reduce_dimensions(BLOBS, cfg))
    assert np.array_equal(cluster_labels(BLOBS, cfg), expected)


def test_umaps_compiled_functions_are_cached_on_disk():
    """A new process (each nightly run, each Dask worker) reads UMAP's compiled code instead of compiling it
    again (~12 s on 2 cores): every numba function of its modules caches, not only the one umap marks."""
    from numba.core.caching import NullCache
    from numba.core.registry import CPUDispatcher

    from nlp.cluster import _umap

    umap = _umap()
    functions = [f for f in vars(umap.umap_).values() if isinstance(f, CPUDispatcher)]
    assert len(functions) > 5
    assert not any(isinstance(f._cache, NullCache) for f in functions)
    assert not isinstance(umap.umap_.smooth_knn_dist._cache, NullCache)  # one umap itself leaves uncached
