"""An issue of a shared (bilingual) space is described in the report's language: its label from its members in
that language, their verbatims first, then the other language's, marked with their language."""

import pandas as pd
import pytest

from nlp.config import LabelConfig
from nlp.label import describe_clusters
from nlp.tokenize import tokenize_texts

DELIVERY_JA = ["配達が遅すぎる。2時間待った", "注文した料理がなかなか届かない", "配達が遅い、もう冷めてた",
               "届くのが遅すぎて夕飯に間に合わない"]
DELIVERY_EN = ["delivery was two hours late", "my order arrived very late again", "late delivery, food was cold",
               "the courier was late and the delivery took forever"]
LOGIN_JA = ["ログインできない。SMSの認証コードが来ない", "認証コードが届かずログインできません",
            "アプリにログインできない", "SMSコードが来なくてログインできない"]
LOGIN_EN = ["cannot log in, the SMS code never arrives", "login fails, no verification code",
            "I can't log in to the app", "the SMS login code never comes"]
TEXTS = DELIVERY_JA + DELIVERY_EN + LOGIN_JA + LOGIN_EN
LANGS = ["ja"] * 4 + ["en"] * 4 + ["ja"] * 4 + ["en"] * 4


@pytest.fixture(scope="module")
def described():
    tokens = tokenize_texts(TEXTS, LANGS)
    assigned = pd.DataFrame({"item_id": [f"i{k:02d}" for k in range(len(TEXTS))], "space": "en+ja",
                             "cluster_id": ["en+ja-000"] * 8 + ["en+ja-001"] * 8,
                             "centrality": [0.9, 0.8, 0.7, 0.6] * 4})
    return {language: describe_clusters(assigned, pd.Series(TEXTS), tokens, LabelConfig(), pd.Series(LANGS),
                                         language).set_index("cluster_id") for language in ("en", "ja")}


def test_a_bilingual_issue_is_labelled_in_the_reports_language(described):
    en, ja = described["en"], described["ja"]
    assert "late" in en.at["en+ja-000", "label"] and "・" not in en.at["en+ja-000", "label"]
    assert any(w in ja.at["en+ja-000", "label"] for w in ("遅", "届", "配達"))
    assert "・" in ja.at["en+ja-001", "label"] and "ログイン" in ja.at["en+ja-001", "label"]
    assert not any(c.isascii() and c.isalpha() for c in ja.at["en+ja-000", "label"])


def test_its_verbatims_show_the_reports_language_first_then_the_other_marked(described):
    en = described["en"].at["en+ja-000", "verbatims"]
    assert en[:3] == DELIVERY_EN[:3]  # the most central first
    assert en[3:] == [f"(ja) {t}" for t in DELIVERY_JA[:2]]
    ja = described["ja"].at["en+ja-001", "verbatims"]
    assert ja[:3] == LOGIN_JA[:3] and ja[3:] == [f"(en) {t}" for t in LOGIN_EN[:2]]


def test_an_issue_of_one_language_is_described_as_before():
    texts = DELIVERY_JA
    tokens = tokenize_texts(texts, ["ja"] * 4)
    assigned = pd.DataFrame({"item_id": list("abcd"), "space": "ja", "cluster_id": "ja-000",
                             "centrality": [0.9, 0.8, 0.7, 0.6]})
    plain = describe_clusters(assigned, pd.Series(texts), tokens, LabelConfig())
    in_en = describe_clusters(assigned, pd.Series(texts), tokens, LabelConfig(), pd.Series(["ja"] * 4), "en")
    pd.testing.assert_frame_equal(plain, in_en)
    assert plain.at[0, "verbatims"] == texts[:3]
