"""Text normalisation, in this order: HTML entities decoded, NFKC, zero-width characters removed, real markup
stripped (a tag is ``<`` + an element name; ``<3``, ``<$10 ... >``, ``<(_ _)>`` and ``<無料>`` are text),
wave-dash/long-vowel variants unified, whitespace collapsed. Decoding comes first so that escaped markup
(``&lt;script&gt;``, ``＜img onerror＞``) is stripped like any other."""

from __future__ import annotations

import html
import re
import unicodedata

_TAG_NAME = r"[A-Za-z][A-Za-z0-9:\-]*"
_TAG = re.compile(f"<\\s*/?\\s*{_TAG_NAME}(?:\\s[^<>]{{0,500}})?/?\\s*>|<!--.*?(?:-->|$)|<![A-Za-z][^<>]{{0,200}}>",
                  re.DOTALL)
# an element that can run script, left unclosed at the end of a text (<img src=x onerror=alert(1)
_OPEN_TAG = re.compile(r"<\s*(?:script|img|iframe|svg|object|embed|link|style|a|body|input|video|audio|details|"
                       r"math|form|meta|base|frame|frameset|marquee|image)\b[^<>]*$", re.IGNORECASE)
_BLOCK_TAG = re.compile(r"<\s*(br|/p|/div|/li|p|div|li)\b[^<>]{0,200}>", re.IGNORECASE)
_SCRIPT = re.compile(r"<\s*(script|style)\b.*?<\s*/\s*\1\s*>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_NEWLINES = re.compile(r"\s*\n\s*")
# zero-width and invisible format characters (they split a word or an address without showing)
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")
# an email address split by a line break: at the @, or inside a domain that has no dot yet or ends in one
_EMAIL_BREAK = re.compile(r"(?<=[\w.+%\-])[ \t]*\n\s*(?=@[\w\-])|(?<=[\w.+%\-]@)[ \t]*\n\s*(?=[\w\-])|"
                          r"(?<=@)([\w\-]+(?:\.[\w\-]+)*\.)[ \t]*\n\s*(?=\w)|"
                          r"(?<=@)([\w\-]+)[ \t]*\n\s*(?=[\w\-]*\.[A-Za-z])")
_WAVES = str.maketrans({"\u301c": "~", "\u2053": "~", "\u223c": "~"})
# long-vowel look-alikes after katakana become ー
_LONG_VOWEL = re.compile(r"(?<=[\u30a0-\u30ff])[\u2010-\u2015\u2212\uff70-]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def decode_text(text: str) -> str:
    """``text`` with HTML entities decoded (repeatedly: ``&amp;lt;`` too), NFKC-normalised and without zero-width
    characters: the form PII is looked for in (the quarantine's raw rows are redacted in this form)."""
    out = text
    for _ in range(8):  # each pass shortens the text; stop when nothing changes
        decoded = _INVISIBLE.sub("", unicodedata.normalize("NFKC", html.unescape(out)))
        if decoded == out:
            break
        out = decoded
    return _EMAIL_BREAK.sub(lambda m: m.group(1) or m.group(2) or "", out) if "\n" in out and "@" in out else out


def normalize_text(text: str) -> str:
    """Return ``text`` decoded (``decode_text``), with markup removed and whitespace collapsed (newlines become
    spaces)."""
    if not text:
        return ""
    out = text
    for _ in range(8):  # removing one tag can make another (<<b>script>); repeat until nothing changes
        before = out
        out = decode_text(out)
        out = _SCRIPT.sub(" ", out)
        out = _BLOCK_TAG.sub("\n", out)
        out = _TAG.sub(" ", out)
        out = _OPEN_TAG.sub(" ", out)
        if out == before:
            break
    out = out.translate(_WAVES)
    out = _LONG_VOWEL.sub("ー", out)
    out = _CONTROL.sub(" ", out)
    out = _NEWLINES.sub(" ", out)
    out = _SPACES.sub(" ", out)
    return out.strip()
