import numpy as np
import pandas as pd
import pytest

from nlp.config import SentimentConfig
from nlp.schema import conform
from nlp.sentiment import score_sentiment, text_sentiment
from nlp.tokenize import tokenize_texts

# hand-written, with the sign a CX reader would give
LABELLED = [
    ("配送が遅くて最悪です", "ja", -1), ("商品が届かない!!", "ja", -1), ("アプリにログインできません😡", "ja", -1),
    ("オペレーターの態度が横柄で不愉快", "ja", -1), ("電話が全然つながらない", "ja", -1), ("梱包が雑で商品に傷がついていた", "ja", -1),
    ("丁寧に対応していただき、ありがとうございました", "ja", 1), ("使いやすくて満足しています", "ja", 1),
    ("デザインが素敵で気に入りました", "ja", 1), ("返信が早くて安心しました", "ja", 1),
    ("The agent was rude and unhelpful", "en", -1), ("My parcel never arrived, terrible", "en", -1),
    ("Great service, thanks!", "en", 1), ("Love the design, will buy again", "en", 1),
]


@pytest.mark.parametrize("text, lang, sign", LABELLED)
def test_text_sentiment_sign(text, lang, sign):
    tok = tokenize_texts([text], [lang])[0]
    assert np.sign(text_sentiment(text, tok)) == sign


def test_neutral_japanese_is_zero():
    tok = tokenize_texts(["明日の10時に届く予定です"], ["ja"])[0]
    assert text_sentiment("明日の10時に届く予定です", tok) == 0.0


def test_rating_is_blended_with_text():
    items = conform(pd.DataFrame({"item_id": ["a", "b", "c", "d"], "text": ["普通です", "普通です", "普通です", ""],
                                  "rating": [1, None, None, None], "nps": [None, None, 10, 0]}))
    toks = tokenize_texts(items["text"].tolist(), ["ja", "ja", "ja", "ja"])
    out = score_sentiment(items, toks, SentimentConfig(rating_weight=0.6))
    # 1 star -> -1 (x 0.6); no score; NPS 10 -> +1 (x 0.6); NPS 0 without a comment -> -1, the score alone
    assert out["sentiment"].tolist() == [pytest.approx(-0.6), 0.0, pytest.approx(0.6), -1.0]
    assert out["sentiment"].between(-1, 1).all()


@pytest.mark.parametrize("text, sign", [
    ("清潔感がありません", -1),  # a praised thing that is missing
    ("また利用したいと思います", 1),  # the wish to come back
    ("部屋に冷蔵庫が欲しかったです", -1),  # a wish for more
    ("悪くないです", 1),
    ("問題なく使えました", 1), ("笑顔もなし", -1),  # a complaint word said to be absent, a praised one absent
    ("又利用します", 1), ("これからも利用したいです", 1),  # coming back, without たい or with another "again"
    ("また行きたいとは思いません", -1), ("もう行かない", -1), ("二度と利用しません", -1),  # never again
    ("改善を期待します", -1), ("本当に残念でなりません", -1),  # a request to improve; ～でならない intensifies
    ("駐車場がわかりにくかった", -1),  # verb + にくい
])
def test_japanese_constructions(text, sign):
    tok = tokenize_texts([text], ["ja"])[0]
    assert np.sign(text_sentiment(text, tok)) == sign


@pytest.mark.parametrize("text, sign", [
    ("@united thanks for losing my bag", -1),  # praise beside a complaint: sarcasm
    ("@united please DM me, I need help changing a flight", 0),  # polite, not positive
    ("@united any first class upgrades available tomorrow? thanks", 0),  # a question is a request
    ("@united thanks for the great crew today!", 1),
    ("@united still waiting on hold after 2 hours", -1),  # complaint cues VADER has no words for
])
def test_english_customer_messages(text, sign):
    tok = tokenize_texts([text], ["en"])[0]
    assert np.sign(text_sentiment(text, tok)) == sign


def test_brand_mentions_carry_no_sentiment():
    text = "@united e-ticket 0162, refund request 1686, case id 8465"
    tok = tokenize_texts([text], ["en"])[0]
    assert text_sentiment(text, tok) <= 0.0
