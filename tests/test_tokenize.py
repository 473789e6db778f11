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


# common customer-service nouns: each is its own lemma, and its plural comes back to it (spaCy's lookup table
# made "number" "numb", "crew" "crow", "booking" "book", "shipping" "ship", "taxes" "taxis")
CS_WORDS = """number order customer account address agent app bag baggage booking rebooking cancellation card charge
checkout complaint delay delivery discount email error fee flight issue item luggage message package parcel
password payment phone price problem product purchase receipt refund reply request reservation review seat service
shipping subscription support ticket tracking update website crew boarding ground billing pricing packaging parking
seating rating coupon courier""".split()
INVARIANT = {"baggage", "luggage", "shipping", "support", "tracking", "boarding", "billing", "pricing", "packaging",
             "parking", "seating", "checkout", "delivery", "address"}


def _plural(word: str) -> str:
    if word.endswith("y") and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + ("es" if word.endswith(("s", "x", "ch")) else "s")


def test_common_customer_service_words_round_trip():
    assert len(CS_WORDS) >= 50
    singular = tokenize_texts(CS_WORDS, ["en"] * len(CS_WORDS))
    assert {w: t.lemmas[0] for w, t in zip(CS_WORDS, singular) if t.lemmas != [w]} == {}
    plurals = [w for w in CS_WORDS if w not in INVARIANT]
    plural = tokenize_texts([_plural(p) for p in plurals], ["en"] * len(plurals))
    assert {w: t.lemmas[0] for w, t in zip(plurals, plural) if t.lemmas != [w]} == {}


def test_a_sentence_keeps_the_nouns_people_wrote():
    tok = _one("The crew lost my booking number and the taxes on the shipping were wrong", "en")
    assert {"crew", "booking", "number", "tax", "shipping"} <= set(tok.content)
    assert "booking number" in tok.phrases and not {"numb", "crow", "taxis"} & set(tok.lemmas)
