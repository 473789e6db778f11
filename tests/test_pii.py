import pytest

from nlp.pii import redact_pii

CASES = [
    ("連絡先は taro.yamada@example.co.jp です", "taro.yamada@example.co.jp", "[EMAIL]"),
    ("電話番号は090-1234-5678です", "090-1234-5678", "[PHONE]"),
    ("携帯09012345678に折り返して", "09012345678", "[PHONE]"),
    ("店舗 03-5555-0123 まで", "03-5555-0123", "[PHONE]"),
    ("代表 (03)5555-0123", "5555-0123", "[PHONE]"),
    ("フリーダイヤル0120-123-456", "0120-123-456", "[PHONE]"),
    ("call me on +1 415-555-0199 please", "415-555-0199", "[PHONE]"),
    ("ring +81 90 1234 5678", "1234 5678", "[PHONE]"),
    ("(415) 555-1234 is my number", "555-1234", "[PHONE]"),
    ("カード番号4111 1111 1111 1111で決済", "4111 1111 1111 1111", "[CARD]"),
    ("card 5500-0000-0000-0004", "5500-0000-0000-0004", "[CARD]"),
    ("〒150-0001 東京都", "150-0001", "[POSTCODE]"),
    ("reset https://shop.example.com/reset?token=abc123def", "token=abc123def", "[URL]"),
]


@pytest.mark.parametrize("text, secret, placeholder", CASES)
def test_pii_is_replaced_by_a_readable_placeholder(text, secret, placeholder):
    out = redact_pii(text)
    assert secret not in out
    assert placeholder in out


def test_handles_only_when_asked():
    text = "@taro_99 さんの件です"
    assert redact_pii(text) == text
    assert "@taro_99" not in redact_pii(text, handles=True)


@pytest.mark.parametrize("text", [
    "2026年11月の注文番号は12345です",  # short numbers are not phones
    "価格は3,980円でした",
    "See https://example.com for details",  # a bare site address is not personal
    "商品KM-1234を購入",
])
def test_ordinary_text_is_left_alone(text):
    assert redact_pii(text) == text
