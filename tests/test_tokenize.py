import pytest

from nlp.tokenize import tokenize_texts


def _one(text, lang="ja"):
    return tokenize_texts([text], [lang])[0]


def test_japanese_content_lemmas_and_stop_words():
    tok = _one("配送が遅くて、商品がまだ届きませんでした。")
    assert {"配送", "遅い", "商品", "届く"} <= set(tok.content)
    assert "する" not in tok.content and "まだ" not in tok.content


@pytest.mark.parametrize("text, phrase", [
    ("商品が届きません", "商品が届かない"),
    ("電話がつながらなかった", "電話がつながらない"),
    ("配送が遅い", "配送が遅い"),
    ("カスタマーサポートの対応", "カスタマーサポート"),
    ("返品手続きが面倒", "返品手続き"),
])
def test_japanese_phrases(text, phrase):
    assert phrase in _one(text).phrases


def test_japanese_negation_marks_only_the_predicate():
    tok = _one("商品が届かない")
    negated = {lemma for lemma, neg in zip(tok.lemmas, tok.negated) if neg}
    assert negated == {"届く"}


def test_english_lemmas_negation_and_no_handles():
    tok = _one("@KoeMart The deliveries were not fast and the app keeps crashing", "en")
    assert "delivery" in tok.content and "crash" in tok.content
    assert not any(t.startswith("@") or t == "koemart" for t in tok.content)
    assert tok.negated[tok.lemmas.index("fast")]


def test_mixed_batch_keeps_order():
    toks = tokenize_texts(["配送が遅い", "late delivery", "ログインできない"], ["ja", "en", "ja"])
    assert [t.lang for t in toks] == ["ja", "en", "ja"]
