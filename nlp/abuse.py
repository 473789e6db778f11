"""Abusive customer messages (カスタマーハラスメント): threats and insults aimed at staff, in Japanese and English.

A rule set, not a model: every flag can be explained by the phrase that triggered it, and it is measured in
bench/quality.py (section "abuse") on a hand-labelled set with hard negatives ("バカ高い", "stupid app",
"I will contact a lawyer about the refund") and on airline tweets judged by hand. Criticism of a product or of
the service ("incompetent", "pathetic service") is not abuse; words that attack or threaten a person are."""

from __future__ import annotations

import re

import pandas as pd

# always abusive, whoever they target
_THREATS = [
    r"殺す", r"ぶっ殺", r"殺される?ぞ", r"死ね", r"しね[!！。]", r"家(まで|に)行", r"待ち伏せ", r"晒(す|して|してやる)",
    r"ネットに(書|晒|流)", r"拡散して(やる|やります)", r"覚えて(おけ|ろ|とけ)", r"土下座", r"責任者を出せ",
    r"訴えて(やる|やります)", r"ただで(は)?済むと思", r"夜道", r"火をつけ",
    r"\bkill (you|u)\b", r"\bi know where you\b", r"\byou('| wi)ll (regret|pay for)\b", r"\bwatch your back\b",
    r"\bi('| wi)ll (find|hunt) (you|u)\b", r"\bburn (it|this place|you) down\b",
]
_SLURS = [
    r"クズ", r"カス(が|め|ども|野郎)", r"ゴミ(みたいな|同然の)?(人間|野郎|社員|担当|店員|オペレーター|ども)", r"役立たず",
    r"給料泥棒", r"頭(が)?おかしい", r"ボケ", r"ふざけ(る|ん)な", r"なめ(てんの|とんの|るな|んな)", r"舐め(てんの|るな|んな)",
    r"\bf+u+c+k+ (you|u|off|your)\b", r"\bpiece of (shit|crap)\b", r"\bassholes?\b",
    r"\bshut up\b", r"\bmotherf", r"\bscumbags?\b",
]
# insults that are abuse only when aimed at a person (「この担当者はバカ」, not 「バカ高い」 or "stupid app")
_INSULTS = [r"バカ(?!高|みたいに|売れ|でか|丁寧)", r"馬鹿(?!高|丁寧)", r"アホ", r"無能", r"使えない(奴|やつ|人)",
            r"\bidiots?\b", r"\bstupid\b", r"\bmorons?\b", r"\buseless\b", r"\bclowns?\b", r"\bdumb\b",
            r"\bbitch(es)?\b"]
_PERSON = [r"お前", r"おまえ", r"あんた", r"てめえ", r"貴様", r"担当(者)?", r"オペレーター", r"スタッフ", r"店員", r"社員",
           r"窓口の(人|方|女|男)", r"対応した(人|奴|やつ)", r"\byou\b", r"\bu\b", r"\byour (agent|staff|rep|employee)s?\b",
           r"\b(agent|rep|representative|staff|employee|person on the phone)s?\b", r"\bpeople\b"]

_THREAT = re.compile("|".join(_THREATS), re.IGNORECASE)
_SLUR = re.compile("|".join(_SLURS), re.IGNORECASE)
_INSULT = re.compile("|".join(_INSULTS), re.IGNORECASE)
_TARGET = re.compile("|".join(_PERSON), re.IGNORECASE)


def abuse_kind(text: str) -> str | None:
    """"threat", "insult" or None for one (normalised) text."""
    if _THREAT.search(text):
        return "threat"
    if _SLUR.search(text) or (_INSULT.search(text) and _TARGET.search(text)):
        return "insult"
    return None


def abuse_kinds(texts: list[str]) -> list[str | None]:
    return [abuse_kind(t) for t in texts]


def abuse_by_stage(scored: pd.DataFrame) -> pd.DataFrame:
    """Per stage: tickets, abusive tickets (threats, insults) and their share. ``scored`` has stage,
    source_kind and abuse (abuse_kind per item)."""
    tickets = scored[scored["source_kind"] == "ticket"]
    columns = ["stage", "tickets", "abusive", "threats", "insults", "share"]
    if tickets.empty:  # e.g. only reviews and social mentions
        return pd.DataFrame(columns=columns)
    out = tickets.groupby("stage").agg(tickets=("item_id", "size"),
                                       threats=("abuse", lambda a: int((a == "threat").sum())),
                                       insults=("abuse", lambda a: int((a == "insult").sum()))).reset_index()
    out["abusive"] = out["threats"] + out["insults"]
    out["share"] = (out["abusive"] / out["tickets"]).round(4)
    return out[columns]
