"""PII redaction: emails, phone numbers (Japanese and international), card-like numbers, token URLs,
postal codes and @handles are replaced by readable placeholders before any text is stored."""

from __future__ import annotations

import re

PLACEHOLDERS = ("[EMAIL]", "[PHONE]", "[CARD]", "[URL]", "[POSTCODE]", "[HANDLE]")

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
# URLs carrying a query string or a long opaque path segment (tokens, session ids)
_URL = re.compile(r"https?://[^\s<>\"'）)]+")
# 13-19 digits, optionally grouped by spaces or hyphens (card-like)
_CARD = re.compile(r"(?<!\d)(?:\d[ \-]?){12,18}\d(?!\d)")
_PHONE_PATTERNS = (
    re.compile(r"(?<![\d+])\+\d{1,3}[\s\-.]?\(?\d{1,4}\)?(?:[\s\-.]?\d{2,4}){2,3}(?!\d)"),  # +81 90-1234-5678
    re.compile(r"(?<!\d)0\d{1,4}[\-\s.]\d{1,4}[\-\s.]\d{3,4}(?!\d)"),  # 03-1234-5678, 090-1234-5678
    re.compile(r"(?<!\d)\(0\d{1,4}\)\s?\d{1,4}[\-\s]\d{4}(?!\d)"),  # (03)1234-5678
    re.compile(r"(?<!\d)0[5789]0\d{8}(?!\d)"),  # 09012345678
    re.compile(r"(?<!\d)0120[\-\s]?\d{3}[\-\s]?\d{3}(?!\d)"),  # toll free
    re.compile(r"(?<![\d\w])\(?\d{3}\)?[\s\-.]\d{3}[\s\-.]\d{4}(?!\d)"),  # (415) 555-1234
)
_POSTCODE = re.compile(r"〒\s?\d{3}-?\d{4}|(?<!\d)\d{3}-\d{4}(?!\d)")
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{2,30}\b")


def redact_pii(text: str, *, handles: bool = False) -> str:
    """Return ``text`` with PII replaced by placeholders; ``handles=True`` also replaces @handles
    (for tickets and verbatims; social posts keep brand mentions like @united readable)."""
    if not text:
        return text
    out = _URL.sub(_url_repl, text)
    out = _EMAIL.sub("[EMAIL]", out)
    out = _CARD.sub(_card_repl, out)
    for pattern in _PHONE_PATTERNS:
        out = pattern.sub("[PHONE]", out)
    out = _POSTCODE.sub("[POSTCODE]", out)
    if handles:
        out = _HANDLE.sub("[HANDLE]", out)
    return out


def _url_repl(match: re.Match[str]) -> str:
    url = match.group(0)
    # a bare site address is not personal; one with a query or a long opaque segment may carry a token
    if "?" in url or "#" in url or re.search(r"/[A-Za-z0-9_\-]{16,}", url):
        return "[URL]"
    return url


def _card_repl(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[CARD]" if 13 <= len(digits) <= 19 else match.group(0)
