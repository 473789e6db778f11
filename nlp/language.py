"""Language tagging by script: Japanese kana/kanji vs Latin letters. Fast, deterministic, no model."""

from __future__ import annotations

import re

_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_LATIN = re.compile(r"[A-Za-z]")
_PLACEHOLDER = re.compile(r"\[[A-Z]+\]|https?://\S+|@\w+")


def detect_language(text: str) -> str:
    """'ja' when kana or enough kanji, 'en' when Latin letters dominate, else 'other'."""
    body = _PLACEHOLDER.sub(" ", text or "")
    kana = len(_KANA.findall(body))
    han = len(_HAN.findall(body))
    latin = len(_LATIN.findall(body))
    if kana >= 1 and kana + han >= 2:
        return "ja"
    if han >= 2 and han >= latin / 4:
        return "ja"  # kanji-only text (e.g. 配送遅延) reads as Japanese for our users
    if latin >= 3:
        return "en"
    return "other"
