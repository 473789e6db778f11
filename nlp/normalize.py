"""Text normalisation: NFKC, HTML stripped, wave-dash/long-vowel variants unified, whitespace collapsed."""

from __future__ import annotations

import html
import re
import unicodedata

_TAG = re.compile(r"<[^>]{0,500}>")
_BLOCK_TAG = re.compile(r"<\s*(br|/p|/div|/li|p|div|li)\b[^>]{0,200}>", re.IGNORECASE)
_SCRIPT = re.compile(r"<\s*(script|style)\b.*?<\s*/\s*\1\s*>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_NEWLINES = re.compile(r"\s*\n\s*")
# 〜 (U+301C) and ～ (U+FF5E, NFKC -> ~) are the same wave dash to a reader
_WAVES = str.maketrans({"\u301c": "~", "\u2053": "~", "\u223c": "~"})
# long-vowel look-alikes after katakana become ー
_LONG_VOWEL = re.compile(r"(?<=[\u30a0-\u30ff])[\u2010-\u2015\u2212\uff70-]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalize_text(text: str) -> str:
    """Return ``text`` NFKC-normalised with markup removed and whitespace collapsed (newlines become spaces)."""
    if not text:
        return ""
    out = _SCRIPT.sub(" ", text)
    out = _BLOCK_TAG.sub("\n", out)
    out = _TAG.sub(" ", out)
    out = html.unescape(out)
    out = unicodedata.normalize("NFKC", out)
    out = out.translate(_WAVES)
    out = _LONG_VOWEL.sub("ー", out)
    out = _CONTROL.sub(" ", out)
    out = _NEWLINES.sub(" ", out)
    out = _SPACES.sub(" ", out)
    return out.strip()
