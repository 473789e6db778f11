"""PII redaction: each class of private string (``PiiConfig``: emails, phone numbers, card numbers, My Number, token
URLs and URL credentials, postal codes, street addresses, IP addresses, names in 様/さん/殿 form, @handles) is
replaced by a readable placeholder before any text is stored. Expects text as ``normalize.decode_text`` leaves it
(entities decoded, NFKC, no zero-width characters): the dash and digit variants below are those NFKC keeps."""

from __future__ import annotations

import ipaddress
import re

from nlp.config import PiiConfig

PLACEHOLDERS = ("[EMAIL]", "[PHONE]", "[CARD]", "[MYNUMBER]", "[URL]", "[POSTCODE]", "[ADDRESS]", "[IP]",
                "[NAME]", "[HANDLE]")

_DASH = "\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\ufe63\uff0d"  # - ‐ ‑ ‒ – — ― − ー
_SEP = f"[\\s.{_DASH}\u30fb/]"  # between digit groups: a space, a dot, a dash look-alike, ・ or /
_CJK = "\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff66-\uff9f"  # kana and kanji
_JA = re.compile(f"[{_CJK}]")

# the local part and the domain may be non-ASCII (山田@例え.jp, josé@exämple.com); a space may follow or precede
# the @ only where a line break split the address (normalize joins those)
_EMAIL = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_URL_CHARS = f"[^\\s<>\"'）)\\]{_CJK}\u3000-\u303f\uff01-\uff0f]"
_URL = re.compile(f"(?:https?|ftp)://{_URL_CHARS}+", re.IGNORECASE)
# a site without a scheme followed by a path (shop.example.com/reset?token=...): kept unless it carries a token
_BARE_URL = re.compile(f"(?<![\\w/@.\\-])(?:www\\.)?(?:[A-Za-z0-9\\-]+\\.)+[A-Za-z]{{2,}}(?::\\d+)?/{_URL_CHARS}*")
_CREDENTIALS = re.compile(r"(?<![\w/])[\w.%+\-]+:[^\s@/:]+@(?:[\w\-]+\.)+[A-Za-z]{2,}\S*")  # user:password@host
# 12-19 digits, maybe grouped, and no more digits on either side (a card, a My Number)
_DIGIT_RUN = re.compile(f"(?<![\\d.])(?<!\\d{_SEP})\\d(?:{_SEP}?\\d){{11,18}}(?!{_SEP}?\\d)")
_PHONE_PATTERNS = (
    # +81 90-1234-5678, +81 (0)3 1234 5678, +1 415 555 0199
    re.compile(f"(?<![\\d+])\\+\\d{{1,3}}{_SEP}?(?:\\(0\\){_SEP}?)?\\(?\\d{{1,4}}\\)?(?:{_SEP}?\\d{{2,4}}){{2,3}}"
               f"(?!\\d)"),
    # 03-1234-5678, 090ー1234ー5678, (03)1234-5678, 03(1234)5678, 0120-123-456: 10 or 11 digits in all
    re.compile(f"(?<![\\d+])(?:\\(\\s?0\\d{{1,4}}\\s?\\)\\s?|0\\d{{1,4}}(?:{_SEP}{{1,2}}|\\s?\\(\\s?))\\d{{1,4}}"
               f"(?:{_SEP}{{1,2}}|\\s?\\)\\s?)\\d{{3,4}}(?!\\d)"),
    re.compile(r"(?<![\d+])0(?:[1-9]\d{8}|[2-9]0\d{8})(?!\d)"),  # 0312345678, 09012345678
    re.compile(f"(?<![\\w+])\\(?\\d{{3}}\\)?{_SEP}\\d{{3}}{_SEP}\\d{{4}}(?!\\d)"),  # (415) 555-1234
)
_POSTCODE = re.compile(f"〒\\s?\\d{{3}}[{_DASH}]?\\d{{4}}|(?<![\\d{_DASH}])\\d{{3}}[{_DASH}]\\d{{4}}(?![\\d{_DASH}])")
_PREFECTURES = ("北海道|東京都|京都府|大阪府|(?:青森|岩手|宮城|秋田|山形|福島|茨城|栃木|群馬|埼玉|千葉|神奈川|新潟|富山|"
                "石川|福井|山梨|長野|岐阜|静岡|愛知|三重|滋賀|兵庫|奈良|和歌山|鳥取|島根|岡山|広島|山口|徳島|香川|"
                "愛媛|高知|福岡|佐賀|長崎|熊本|大分|宮崎|鹿児島|沖縄)県")
# 都道府県 + 市区町村 (+ 町名) + 番地 (1-2-3, 1丁目2番3号, 1番地の2); a prefecture and city alone are not private
_ADDRESS = re.compile(f"(?:{_PREFECTURES})\\s?(?:[{_CJK}]{{1,8}}?[市区町村郡]){{1,3}}[{_CJK}]{{0,10}}?\\s?"
                      f"\\d{{1,5}}(?:\\s?(?:丁目|番地|番|号|の|[{_DASH}])\\s?\\d{{0,5}}){{1,4}}")
_IPV4 = re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
                   r"(?!\.?\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_VERSION = re.compile(r"(?:\b[vV]|ver\.?|version|バージョン|[vV]er\.?)\s?$", re.IGNORECASE)
_KANJI = "(?:(?![様殿])[\u4e00-\u9fff\u3005])"  # 様 and 殿 are the honorific, never part of the name
_NAME = re.compile(f"(?:{_KANJI}{{2,4}}(?:\\s{_KANJI}{{1,4}})?|[\u30a1-\u30fa][\u30a1-\u30fa\u30fc]{{1,9}}"
                   f"|(?<![A-Za-z])[A-Z][a-z]{{1,15}}(?:\\s[A-Z][a-z]{{1,15}})?)\\s?"
                   f"(?=様(?![々子式相態])|さま|さん(?![ぽまごかざしせ])|殿)")
# words before 様/さん/殿 that are not a person's name (お客様, 皆様, 担当者様, 神様, 仕様, 同様, 店員さん, ...):
# one kanji never counts as a name; these, and any word ending in a role suffix, neither
_NOT_NAMES = frozenset((
    "担当", "旦那", "世話", "馳走", "苦労", "家族", "近所", "親御", "子供", "窓口", "受付", "先生", "大家", "皆々",
    "殿様", "王子", "女将", "大将", "息子", "皆様方", "各位", "御社", "貴社", "弊社", "当社", "会社", "お店", "店舗",
    "警察", "奥方", "神仏", "仏様", "閻魔", "天皇", "皇后", "陛下", "社長", "部長", "課長", "店長", "所長", "院長",
    "本日", "毎度", "今回", "前回", "皆", "客", "ご利用", "利用", "配達", "配送", "宅配", "運送", "業務",
    "ドライバー", "スタッフ", "オペレーター", "サポート", "クライアント", "ユーザー", "メンバー", "ゲスト", "オーナー",
    "マネージャー", "シェフ", "パート", "バイト", "アルバイト", "カスタマー", "セールス", "ママ", "パパ", "ガイド",
    "ホスト", "レジ", "センター", "ショップ", "サービス", "コールセンター", "カスタマーサポート", "Mr", "Mrs", "Ms",
    "Dear",
))
_ROLE_SUFFIX = ("者", "員", "長", "屋", "手", "師", "士", "係", "人", "民", "客", "方", "主", "様", "達", "側", "社", "店",
                "ドライバー", "スタッフ", "センター", "サポート")
_HANDLE = re.compile(r"(?<![A-Za-z0-9_@.\-])@[A-Za-z0-9_]{2,30}(?![A-Za-z0-9_@])")
_DEFAULT = PiiConfig()


def redact_pii(text: str, cfg: PiiConfig | None = None, *, handles: bool = False) -> str:
    """Return ``text`` with every class ``cfg`` switches on (default: all) replaced by its placeholder;
    ``handles=True`` also replaces @handles (for tickets and quotes; social posts keep brand mentions like
    @united readable)."""
    if not text:
        return text
    cfg = cfg or _DEFAULT
    out = _redact_once(text, cfg, handles)
    for _ in range(3):  # a placeholder can open what its text closed (+81...+81...): redact until nothing changes
        if out == text:
            break
        text, out = out, _redact_once(out, cfg, handles)
    return out


def _redact_once(text: str, cfg: PiiConfig, handles: bool) -> str:
    out = text
    if cfg.url:
        out = _CREDENTIALS.sub("[URL]", out)
        out = _URL.sub(_url_repl, out)
        out = _BARE_URL.sub(_url_repl, out)
    if cfg.email:
        out = _EMAIL.sub(_email_repl, out)
    if cfg.ip:
        out = _IPV4.sub(_ipv4_repl, out)
        out = _IPV6.sub(_ipv6_repl, out)
    if cfg.card or cfg.mynumber:
        out = _DIGIT_RUN.sub(lambda m: _digits_repl(m, cfg), out)
    if cfg.address:
        out = _ADDRESS.sub("[ADDRESS]", out)
    if cfg.phone:
        for pattern in _PHONE_PATTERNS:
            out = pattern.sub(_phone_repl, out)
    if cfg.postcode:
        out = _POSTCODE.sub("[POSTCODE]", out)
    if cfg.name:
        out = _NAME.sub(_name_repl, out)
    if handles and cfg.handle:
        out = _HANDLE.sub("[HANDLE]", out)
    return out


def _url_repl(match: re.Match[str]) -> str:
    url = match.group(0)
    # a bare site address is not personal; one with a query or a long opaque segment may carry a token
    if "?" in url or "#" in url or "@" in url or re.search(r"/[A-Za-z0-9_\-]{16,}", url):
        return "[URL]"
    return url


def _email_repl(match: re.Match[str]) -> str:
    # Japanese text written against an ASCII address (お問い合わせはtaro@example.comまで) is not part of it
    local, domain = match.group(0).split("@", 1)
    head = re.match(f"^(.*[{_CJK}])(?=[A-Za-z0-9._%+\\-]+$)", local)
    tail = re.search(f"(?<=[A-Za-z0-9])[{_CJK}][\\w\\-]*$", domain) if re.search(r"\.[A-Za-z]", domain) else None
    return (head.group(1) if head else "") + "[EMAIL]" + (tail.group(0) if tail else "")


def _ipv4_repl(match: re.Match[str]) -> str:
    before = match.string[max(0, match.start() - 12):match.start()]
    return match.group(0) if _VERSION.search(before) else "[IP]"


def _ipv6_repl(match: re.Match[str]) -> str:
    value = match.group(0)
    if ("::" not in value and value.count(":") != 7) or sum(c.isalnum() for c in value) < 2:
        return value  # 10:30:00 is a time
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return value
    return "[IP]"


def _digits_repl(match: re.Match[str], cfg: PiiConfig) -> str:
    value = match.group(0)
    digits = re.sub(r"\D", "", value)
    groups = re.split(_SEP, value)
    if cfg.card and 13 <= len(digits) <= 19 and (_luhn(digits) or [len(g) for g in groups] == [4, 4, 4, 4]):
        return "[CARD]"
    if cfg.mynumber and len(digits) == 12 and _my_number(digits):
        return "[MYNUMBER]"
    return value


def _luhn(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _my_number(digits: str) -> bool:
    """The check digit of a 12-digit individual number (個人番号), as the Ministry of Internal Affairs defines it."""
    body = [int(d) for d in reversed(digits[:11])]  # P1 is the digit next to the check digit
    total = sum(p * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(body, start=1))
    rest = total % 11
    return int(digits[11]) == (0 if rest <= 1 else 11 - rest)


def _phone_repl(match: re.Match[str]) -> str:
    value = match.group(0)
    digits = sum(c.isdigit() for c in value)
    if value.startswith(("0", "(")) and not 10 <= digits <= 11:
        return value  # not a Japanese number's length: a date, an order number
    return "[PHONE]"


def _name_repl(match: re.Match[str]) -> str:
    name = match.group(0).strip()
    if name in _NOT_NAMES or name.endswith(_ROLE_SUFFIX) or any(name.endswith(w) for w in _NOT_NAMES if len(w) > 1):
        return match.group(0)
    return "[NAME]"
