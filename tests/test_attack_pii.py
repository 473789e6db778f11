"""Issue 20's PII attacks: private strings that got through redaction, the new classes (My Number, addresses, IPs,
names in 様/さん/殿 form) and their switches, in items and in the quarantine. The nlp functions are called directly
(hypothesis where a class is open-ended); payloads, report files and a whole run: tests/test_attack_payloads.py."""

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.config import ConfigError, PiiConfig, load_config
from nlp.normalize import normalize_text
from nlp.pii import redact_pii
from tests.attack_common import quarantined_text
from tests.pii_checker import decode_text


def _ingested(text: str, cfg: PiiConfig | None = None) -> str:
    """What the store keeps of a ticket's text."""
    return redact_pii(normalize_text(text), cfg, handles=True)


# ---- PII that got through -------------------------------------------------------------------------------------

LEAKS = [  # (text, what must not survive, the placeholder that replaces it)
    ("電話は090ー1234ー5678です", "1234ー5678", "[PHONE]"),  # katakana long vowel
    ("電話は090−1234−5678です", "1234−5678", "[PHONE]"),  # minus sign
    ("店舗 03–5555–0123 まで", "5555–0123", "[PHONE]"),  # en dash
    ("店舗 03‐5555‐0123 まで", "5555‐0123", "[PHONE]"),  # hyphen
    ("店舗０３－５５５５－０１２３まで", "5555-0123", "[PHONE]"),  # full-width
    ("代表（03）5555-0123", "5555-0123", "[PHONE]"),  # area code in full-width parentheses
    ("代表03(5555)0123", "5555", "[PHONE]"),
    ("店舗0355550123に", "0355550123", "[PHONE]"),  # 10 digits unseparated
    ("携帯０９０１２３４５６７８に", "09012345678", "[PHONE]"),
    ("+81 (0)3 1234 5678 へ", "1234 5678", "[PHONE]"),
    ("連絡は山田太郎@例え.jpへ", "山田太郎", "[EMAIL]"),  # non-ASCII local part and domain
    ("write to josé@exämple.com", "josé", "[EMAIL]"),
    ("宛先 taro.yamada@\nexample.com です", "taro.yamada", "[EMAIL]"),  # split across a line break
    ("宛先 taro.yamada\n@example.com です", "taro.yamada", "[EMAIL]"),
    ("宛先 taro.yamada@exam\nple.com です", "taro.yamada", "[EMAIL]"),
    ("宛先 taro.ya\u200bmada@exa\u200dmple.com", "mada", "[EMAIL]"),  # zero-width characters inside
    ("宛先 hanako&#64;example.org", "hanako", "[EMAIL]"),
    ("宛先 hanako＠example.org", "hanako", "[EMAIL]"),
    ("お問い合わせはtaro&#64;example.comまで", "taro@", "お問い合わせは[EMAIL]まで"),  # the Japanese around stays
    ("カード4111.1111.1111.1111で", "1111.1111", "[CARD]"),  # dots
    ("カード4111ー1111ー1111ー1111で", "1111ー1111", "[CARD]"),
    ("https://admin:hunter2pw@portal.example.com/login", "hunter2pw", "[URL]"),  # URL credentials
    ("admin:hunter2pw@portal.example.com", "hunter2pw", "[URL]"),
    ("リセット shop.example.com/reset?token=s3cr3tt0ken", "s3cr3tt0ken", "[URL]"),  # no scheme
    ("お問い合わせは@taro_99まで", "taro_99", "お問い合わせは[HANDLE]まで"),  # a handle straight after kana
    ("〒１５０－０００１ 東京都", "150-0001", "[POSTCODE]"),
    ("マイナンバーは123456789018です", "123456789018", "[MYNUMBER]"),  # the check digit is right
    ("マイナンバー 1234 5678 9018", "5678 9018", "[MYNUMBER]"),
    ("住所は東京都渋谷区神宮前1-2-3です", "神宮前1-2-3", "住所は[ADDRESS]です"),
    ("大阪府大阪市北区梅田１丁目２番３号", "梅田1丁目", "[ADDRESS]"),
    ("神奈川県横浜市中区山下町1番地の2", "山下町1番地", "[ADDRESS]"),
    ("IPは192.168.10.25です", "192.168.10.25", "[IP]"),
    ("from 2001:db8::8a2e:370:7334", "8a2e:370", "[IP]"),
    ("田中様からの問い合わせ", "田中", "[NAME]様からの"),
    ("田中 太郎様へ", "太郎", "[NAME]様"),
    ("佐々木さんが対応", "佐々木", "[NAME]さん"),
    ("スミスさんへ", "スミス", "[NAME]さん"),
    ("山本殿", "山本", "[NAME]殿"),
]


@pytest.mark.parametrize("text, secret, placeholder", LEAKS)
def test_pii_that_got_through_is_redacted_in_items_and_in_the_quarantine(text, secret, placeholder, tmp_path):
    out = _ingested(text)
    assert secret not in out and placeholder in out, out
    kept = quarantined_text(tmp_path, text)  # read as the checker reads: decoded, NFKC, no zero-width characters
    assert secret not in decode_text(kept) and placeholder in kept, kept


NOT_PII = [  # guards against the new patterns' false positives (they held before them too)
    "2026-11-01に注文", "2026/11/01 10:30 に届く予定", "12:30:45 に不在票", "注文番号12345", "注文番号 ORD-2026-000123",
    "価格は¥1,980でした", "¥12,800 (税込)", "アプリ ver 1.2.3.4 で落ちる", "iOS 17.2.1", "v2.0.1", "std::vector",
    "お客様各位", "皆様", "ご担当者様", "担当者様", "神様", "仕様が変わった", "同様の不具合", "様子を見る", "店員さん",
    "皆さん", "お父さん", "配達員さん", "お世話様です", "東京都渋谷区の店舗", "See https://example.com/faq",
    "商品KM-1234を購入", "123456789012", "3,980円 ×2",
]


@pytest.mark.parametrize("text", NOT_PII)
def test_dates_prices_times_versions_and_honorific_words_are_not_pii(text):
    assert _ingested(text) == normalize_text(text)


KINDS = {  # class -> a text it redacts, and what stays when it is switched off
    "email": ("taro@example.com", "taro@example.com"), "phone": ("090-1234-5678", "090-1234-5678"),
    "card": ("4111 1111 1111 1111", "4111 1111 1111 1111"), "mynumber": ("123456789018", "123456789018"),
    "url": ("https://x.example.com/r?token=abc", "token=abc"), "postcode": ("〒150-0001", "150-0001"),
    "address": ("東京都渋谷区神宮前1-2-3", "神宮前"), "ip": ("192.168.10.25", "192.168.10.25"),
    "name": ("田中様", "田中様"), "handle": ("@taro_99 の件", "@taro_99"),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_class_can_be_switched_off_in_config(kind, tmp_path):
    text, kept = KINDS[kind]
    assert kept not in _ingested(text)
    assert kept in _ingested(text, PiiConfig(**{kind: False}))
    path = tmp_path / "c.yaml"
    raw = {"sources": [], "stages": {"stages": [{"key": "a", "name_ja": "a", "name_en": "a"}]},
           "ingest": {"pii": {kind: False}}}
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert getattr(load_config(path).ingest.pii, kind) is False
    path.write_text(yaml.safe_dump({**raw, "ingest": {"pii": {"phones": False}}}), encoding="utf-8")
    with pytest.raises(ConfigError, match="ingest.pii.phones"):
        load_config(path)


# ---- open-ended shapes (hypothesis) ---------------------------------------------------------------------------

SEPS = st.sampled_from(["-", "ー", "−", "–", "‐", "—", "―", "－", " ", ".", "・", "　"])


def _digits(n):
    return st.text("0123456789", min_size=n, max_size=n)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([("090", 4, 4), ("080", 4, 4), ("070", 4, 4), ("050", 4, 4), ("03", 4, 4), ("06", 4, 4),
                        ("045", 3, 4), ("0466", 2, 4), ("0120", 3, 3), ("0800", 3, 4)]),
       st.data(), SEPS, SEPS, st.booleans())
def test_japanese_phones_with_any_separator_are_redacted(shape, data, sep1, sep2, parens):
    area, n1, n2 = shape
    local, line = data.draw(_digits(n1)), data.draw(_digits(n2))
    phone = f"({area}){local}{sep2}{line}" if parens else f"{area}{sep1}{local}{sep2}{line}"
    out = _ingested(f"折り返しは{phone}までお願いします")
    assert "[PHONE]" in out and line not in out and local not in out, (phone, out)


def _luhn_complete(body: str) -> str:
    for last in "0123456789":
        digits = body + last
        total = sum((int(d) * (2 if i % 2 else 1)) - (9 if int(d) * (2 if i % 2 else 1) > 9 else 0)
                    for i, d in enumerate(reversed(digits)))
        if total % 10 == 0:
            return digits
    raise AssertionError


@settings(max_examples=150, deadline=None)
@given(_digits(15), SEPS, st.booleans())
def test_card_numbers_with_any_separator_are_redacted(body, sep, luhn):
    digits = ("4" + body[1:]) if luhn else body
    number = _luhn_complete(digits[:15]) if luhn else digits[:15] + "7"
    card = sep.join(number[i:i + 4] for i in range(0, 16, 4))  # grouped 4-4-4-4: a card whatever the check
    out = _ingested(f"カード番号{card}で払いました")
    assert "[CARD]" in out and not any(g in out for g in (card[5:9], card[-4:])), (card, out)


LOCAL = st.text("abcdefghijklmnopqrstuvwxyzéüß山田太郎たろう", min_size=3, max_size=12).filter(lambda s: s[0] != ".")
DOMAIN = st.sampled_from(["example.com", "example.co.jp", "例え.jp", "exämple.de", "mail.example.org"])


@settings(max_examples=150, deadline=None)
@given(LOCAL, DOMAIN, st.sampled_from(["@", "＠", "&#64;", "&commat;", "\u200b@", "@\n", "\n@"]),
       st.integers(0, 2))
def test_emails_in_any_spelling_are_redacted(local, domain, at, zero_width_at):
    spelt = local[:zero_width_at] + "\u200b" + local[zero_width_at:] if zero_width_at else local
    out = _ingested(f"返信先は {spelt}{at}{domain} です")
    assert "[EMAIL]" in out and local not in out and "@" not in out, (spelt + at + domain, out)


@settings(max_examples=100, deadline=None)
@given(_digits(11), st.sampled_from(["", " ", "-"]))
def test_my_numbers_are_redacted_only_with_their_check_digit(body, sep):
    from nlp.pii import _my_number

    valid = next(body + d for d in "0123456789" if _my_number(body + d))
    wrong = body + str((int(valid[-1]) + 1) % 10)
    spell = lambda d: sep.join((d[:4], d[4:8], d[8:]))  # noqa: E731
    assert "[MYNUMBER]" in _ingested(f"番号 {spell(valid)} です")
    assert "[MYNUMBER]" not in _ingested(f"番号 {spell(wrong)} です")
