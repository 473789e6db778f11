"""Social listening: brand and competitor mentions with their sentiment and top issues."""

import pandas as pd

from nlp.config import Brand, ListeningConfig
from nlp.listening import brand_mentions, mention_mask

TEXTS = ["ショピラの方が安い", "Shopira is cheaper", "Shopiraland is a theme park", "KoeMartは配送が遅い",
         "@KoeMart my order is late", "コエマートのポイント最高", "関係ない投稿"]


def test_mentions_match_every_spelling_and_whole_latin_words():
    brand = Brand(name="Shopira", variants=["ショピラ"])
    assert mention_mask(pd.Series(TEXTS), brand).tolist() == [True, True, False, False, False, False, False]


def test_brand_mentions_with_sentiment_and_top_issues():
    scored = pd.DataFrame({"text": TEXTS, "sentiment": [0.2, 0.4, 0.0, -0.8, -0.6, 0.9, 0.0],
                           "issue_id": ["c2", "c2", "outlier", "c1", "c1", "c3", "outlier"],
                           "source_kind": ["social"] * 6 + ["review"]})
    cfg = ListeningConfig(brands=[Brand(name="KoeMart", variants=["コエマート"])],
                          competitors=[Brand(name="Shopira", variants=["ショピラ"])], top_issues=1)
    out = brand_mentions(scored, cfg, negative_below=-0.2).set_index("name")
    assert out.loc["KoeMart", "mentions"] == 3 and out.loc["KoeMart", "role"] == "brand"
    assert out.loc["KoeMart", "negative_share"] == round(2 / 3, 4)
    assert out.loc["KoeMart", "top_issues"] == [{"issue_id": "c1", "count": 2}]
    assert out.loc["Shopira", "mean_sentiment"] == 0.3 and out.loc["Shopira", "share"] == round(2 / 7, 4)
