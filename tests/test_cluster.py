import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from nlp.cluster import OUTLIER, cluster_embeddings, cluster_labels
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
    assigned = pd.DataFrame({"item_id": ids, "lang": "ja", "cluster_id": [f"ja-{k}" for k in TRUTH]})
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
