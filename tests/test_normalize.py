import pytest

from nlp.language import detect_language
from nlp.normalize import normalize_text


@pytest.mark.parametrize("raw, expected", [
    ("ＡＢＣ１２３", "ABC123"),  # full-width → half-width
    ("ｶﾀｶﾅ", "カタカナ"),  # half-width kana → full-width
    ("届くのは３日後〜５日後", "届くのは3日後~5日後"),  # wave dash unified
    ("<p>配送が<b>遅い</b></p><br>改善して", "配送が 遅い 改善して"),
    ("a &amp; b &lt;3", "a & b <3"),
    ("  多い   空白\n\n改行\t タブ  ", "多い 空白 改行 タブ"),
    ("<script>alert(1)</script>本文", "本文"),
    ("コーヒ－", "コーヒー"),  # long-vowel look-alike after katakana
    ("", ""),
])
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


def test_normalize_keeps_emoji_and_kaomoji():
    assert normalize_text("最悪😡 (´;ω;`)").startswith("最悪😡")


@pytest.mark.parametrize("text, lang", [
    ("配送が遅い", "ja"),
    ("配送遅延", "ja"),
    ("My parcel is late", "en"),
    ("The KM-ケトル is great", "ja"),
    ("123 456", "other"),
    ("[EMAIL] [PHONE]", "other"),
    ("😡😡", "other"),
])
def test_detect_language(text, lang):
    assert detect_language(text) == lang
