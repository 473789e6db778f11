"""Sentiment per item in [-1, 1]: VADER for English, a lexicon with negation for Japanese (the rules), blended
with a small trained head on sentence vectors when one is given (nlp/sentiment_head.py) and with the star rating
or CSAT when the item has one."""

from __future__ import annotations

import math
import re
from functools import lru_cache

import numpy as np
import pandas as pd

from nlp.config import SentimentConfig
from nlp.ja_lexicon import (ABSENT, AGAIN, AGAIN_TEXT, EMOTICONS, EN_COMPLAINT, EN_INTENT, EN_NEGATED_COMPLAINT,
                            EN_POLITE, EN_REPEATED, EN_SARCASM_OPENERS, LEXICON, NEGATED_COMPLAINT,
                            NEGATED_EXISTENCE, NEVER_AGAIN, PHRASES, SARCASM_PRAISE, UNMET, VISIT)
from nlp.sentiment_head import SentimentHead, blended_scores
from nlp.tokenize import Tokens


_MENTION = re.compile(r"@\w+")
_POLITE = re.compile(r"\b(?:" + "|".join(EN_POLITE) + r")\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def text_sentiment(text: str, tokens: Tokens) -> float:
    """Polarity of the text alone, in [-1, 1]."""
    if tokens.lang != "ja":
        return _english(text, tokens)
    total, hits = 0.0, 0
    lemmas, negs = tokens.lemmas, tokens.negated
    for value in _ja_values(text, lemmas, negs):
        if value:
            total, hits = total + value, hits + 1
    for phrase, value in PHRASES.items():
        if phrase in text:
            total, hits = total + value, hits + 1
    if any(w in lemmas for w in VISIT):  # coming back, or never again
        if any(w in lemmas for w in AGAIN) or any(w in text for w in AGAIN_TEXT):
            total, hits = total + (-0.7 if any(negs) else 0.7), hits + 1
        elif any(w in lemmas for w in NEVER_AGAIN) and any(negs):
            total, hits = total - 0.7, hits + 1
    for emoticon, value in EMOTICONS.items():
        count = text.count(emoticon)
        total, hits = total + value * count, hits + count
    if text.count("!") >= 2 and total < 0:  # 「最悪!!」 is angrier than 「最悪」
        total -= 0.3
    return 0.0 if hits == 0 else float(total / math.sqrt(total * total + 2.0))


def _ja_values(text: str, lemmas: list[str], negated: list[bool]) -> list[float]:
    """Each lemma's polarity, in context: praise opening a text that complains is sarcasm (「さすが、3日遅れ」:
    dropped), praise that was only expected is unmet (「美味しいと思っていたのに」: a complaint)."""
    values = [_lemma_value(lemmas, negated, i) for i in range(len(lemmas))]
    unmet = any(u in text for u in UNMET)
    if unmet:
        return [-0.6 * v if v > 0 else v for v in values]
    if any(v < 0 for v in values):
        return [0.0 if v > 0 and i < 3 and lemmas[i] in SARCASM_PRAISE else v for i, v in enumerate(values)]
    return values


def _lemma_value(lemmas: list[str], negated: list[bool], i: int) -> float:
    """The lexicon's polarity of the lemma at i, flipped when it is negated or said to be absent."""
    if negated[i] and lemmas[i] in NEGATED_COMPLAINT:
        return NEGATED_COMPLAINT[lemmas[i]]
    value = LEXICON.get(lemmas[i], 0.0)
    return -0.6 * value if negated[i] or _missing(lemmas, negated, i) else value


def _missing(lemmas: list[str], negated: list[bool], i: int) -> bool:
    """「清潔感がない」「清潔感がありません」「問題なし」「笑顔もなし」: the word at i is said to be absent."""
    if i + 1 < len(lemmas) and lemmas[i + 1] in ABSENT:
        return True
    if i + 2 >= len(lemmas) or lemmas[i + 1] not in NEGATED_EXISTENCE:
        return False
    return lemmas[i + 2] in ABSENT or (lemmas[i + 2] == "ある" and negated[i + 2])


def _english(text: str, tokens: Tokens) -> float:
    """VADER's compound score plus customer-feedback cues it misses, kept in [-1, 1]. @mentions are dropped
    first: VADER reads "@united" as the word "united" (+1.8)."""
    score = float(_vader().polarity_scores(_POLITE.sub(" ", _MENTION.sub(" ", text)))["compound"])
    cues = sum(EN_NEGATED_COMPLAINT.get(lemma, 0.0) if negated else EN_COMPLAINT.get(lemma, 0.0)
               for lemma, negated in zip(tokens.lemmas, tokens.negated))
    if cues < 0 and score > 0:  # praise beside a complaint is politeness or sarcasm: "thanks for losing my bag"
        score = 0.0
    elif score > 0 and _sarcastic_opener(text.lower()):  # "oh perfect, logged out again"
        score = -0.5
    elif score > 0 and "?" in text:  # a question is a request, however politely put: "any upgrades? thanks"
        score = 0.0
    return float(np.clip(score + cues, -1.0, 1.0)) if cues else score


def _sarcastic_opener(lower: str) -> bool:
    words = re.findall(r"[a-z']+", _MENTION.sub(" ", lower))[:3]
    return (any(w in EN_SARCASM_OPENERS for w in words) and any(r in lower for r in EN_REPEATED)
            and not any(w in lower for w in EN_INTENT))


def answer_sentiment(items: pd.DataFrame) -> np.ndarray:
    """The customer's own score as a polarity in [-1, 1] (NaN when none): star rating or CSAT 1-5, else NPS 0-10,
    else CES 1-7 (higher = easier), each mapped linearly around its midpoint."""
    def scaled(col: str, mid: float, half: float) -> pd.Series:
        return ((items[col].astype("Float64") - mid) / half).astype("Float64")

    score = scaled("rating", 3, 2).fillna(scaled("csat", 3, 2)).fillna(scaled("nps", 5, 5)).fillna(scaled("ces", 4, 3))
    return score.astype(float).to_numpy(na_value=np.nan)


def score_sentiment(items: pd.DataFrame, tokens: list[Tokens], cfg: SentimentConfig,
                    head: SentimentHead | None = None, vectors: np.ndarray | None = None) -> pd.DataFrame:
    """item_id, rule_sentiment (the rules alone), text_sentiment (the head's blend with the rules when ``head``
    and the items' ``vectors`` in its space are given, else the rules), rating_sentiment (the customer's own
    score, NaN when none) and sentiment (the blend; the score alone for a survey answer without a comment)."""
    rule_scores = np.array([text_sentiment(t, tok) for t, tok in zip(items["text"], tokens)], dtype=float)
    text_scores = rule_scores if head is None or vectors is None else \
        blended_scores(head.predict_proba(vectors, rule_scores), rule_scores, cfg)
    return pd.DataFrame({
        "item_id": items["item_id"].to_numpy(),
        "rule_sentiment": rule_scores.round(4),
        "text_sentiment": np.asarray(text_scores, dtype=float).round(4),
        "rating_sentiment": answer_sentiment(items),
        "sentiment": rated_sentiment(items, text_scores, cfg),
    })


def rated_sentiment(items: pd.DataFrame, text_scores: np.ndarray, cfg: SentimentConfig) -> np.ndarray:
    """The text's score blended with the customer's own (``cfg.rating_weight`` of it) where there is one; the
    customer's score alone for an answer without a comment."""
    rating_scores = answer_sentiment(items)
    text_scores = np.asarray(text_scores, dtype=float)
    blended = np.where(np.isnan(rating_scores), text_scores,
                       cfg.rating_weight * np.nan_to_num(rating_scores) + (1 - cfg.rating_weight) * text_scores)
    blended = np.where(items["text"].fillna("").str.len().to_numpy() == 0, rating_scores, blended)
    return np.clip(blended, -1, 1).round(4)
