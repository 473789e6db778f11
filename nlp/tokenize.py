"""Tokenize each text once (Sudachi via GiNZA for Japanese, spaCy lookup lemmas for English) and keep what
later steps need: lemmas with coarse POS (sentiment), content lemmas (embedding, keyphrases) and phrases."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from spacy.lang.en.stop_words import STOP_WORDS as EN_STOP

# words too common in feedback to name an issue
JA_STOP = frozenset("""
する ある いる なる できる 出来る れる られる せる させる ない いう 言う 思う 感じる 見る 行く 来る くる くれる もらう
いただく 頂く 下さる くださる おる 致す いたす こと もの 物 事 よう ため 為 これ それ あれ どれ ここ そこ 今回 今日
さん 様 方 ところ とき 時 感じ 気 場合 前 後 中 上 下 私 僕 自分 みんな 皆 全部 本当 本当に 少し ちょっと かなり とても
すごい 凄い 良い いい よい 悪い 多い 少ない 度 回 件 点 的 等 など ほう 方法 何 なん 一 二 三 ね よ わ 頃 毎回 もう まだ
""".split())
EN_STOP_EXTRA = frozenset("""get got use used would could also really just one even still thing things lot way
please thank thanks hi hello amp im ive dont cant wont didnt doesnt""".split())
_PLACEHOLDER = re.compile(r"^\[?[A-Z]+\]?$")
# spaCy's English lemmas come from a lookup table without parts of speech: it turns nouns into another word
# ("number" -> "numb" as if a comparative, "crew" -> "crow" as if a past tense, "taxes" -> "taxis") and nouns of
# service into a verb that reads as another noun ("booking" -> "book", "shipping" -> "ship", "boarding" ->
# "board"). These keep their own form (their plurals become it), so keyphrases and labels say what people wrote.
_EN_OWN_LEMMA = """number crew ground booking rebooking shipping tracking boarding billing pricing packaging
parking seating setting rating listing landing catering lodging banking wording clothing evening ceiling wedding
meeting""".split()
_EN_LEMMA_FIXES = {**{w: w for w in _EN_OWN_LEMMA}, **{f"{w}s": w for w in _EN_OWN_LEMMA},
                   "taxes": "tax", "goods": "goods", "data": "data", "media": "media", "clothes": "clothes"}
_JA_CONTENT = ("名詞-普通名詞", "名詞-固有名詞", "動詞-一般", "形容詞-一般", "形状詞-一般")
_JA_NEGATORS = frozenset({"ない", "ず", "ぬ", "無い", "なし", "ねえ"})
_JA_PREDICATE = ("動詞", "形容詞", "形状詞", "名詞-普通名詞-サ変可能")
_JA_AUX_CHAIN = ("助動詞", "動詞-非自立可能", "形容詞-非自立可能", "接尾辞", "助詞-接続助詞")


@dataclass(frozen=True)
class Tokens:
    """One text after tokenization. ``negated[i]`` is True when lemma i is negated by what follows."""

    lang: str
    lemmas: list[str]
    negated: list[bool]
    content: list[str]  # content-word lemmas, stop words removed: embedding and keyphrase units
    phrases: list[str] = field(default_factory=list)  # compounds / predicate phrases: keyphrase candidates


@lru_cache(maxsize=4)
def load_tokenizer(lang: str):
    """The spaCy pipeline used to tokenize ``lang`` (loaded once per process)."""
    import spacy

    if lang == "ja":
        # only Sudachi's tokenizer is needed: its tags carry the POS, GiNZA's vocab carries the vectors
        return spacy.load("ja_ginza", exclude=["tok2vec", "parser", "ner", "morphologue", "compound_splitter",
                                               "bunsetu_recognizer", "attribute_ruler", "morphologizer"])
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


MAX_TOKENIZE_CHARS = 10_000  # Sudachi refuses inputs over ~49 KB; the stored text stays whole


def tokenize_texts(texts: list[str], langs: list[str], batch_size: int = 256) -> list[Tokens]:
    """Tokens for each text, in order; Japanese texts go through Sudachi, everything else through English.
    Only the first MAX_TOKENIZE_CHARS characters of a very long text are tokenized."""
    out: list[Tokens | None] = [None] * len(texts)
    for lang in ("ja", "en"):
        idx = [i for i, lg in enumerate(langs) if (lg == "ja") == (lang == "ja")]
        if not idx:
            continue
        nlp = load_tokenizer(lang)
        parse = _ja_tokens if lang == "ja" else _en_tokens
        for i, doc in zip(idx, nlp.pipe((texts[i][:MAX_TOKENIZE_CHARS] for i in idx), batch_size=batch_size)):
            out[i] = parse(doc)
    return out  # type: ignore[return-value]


def _ja_tokens(doc) -> Tokens:
    lemmas, negated, content, phrases = [], [], [], []
    toks = list(doc)
    noun_run: list[str] = []
    for i, tok in enumerate(toks):
        lemma, tag = tok.lemma_, tok.tag_
        neg = tag.startswith(_JA_PREDICATE) and _ja_negated(toks, i)
        lemmas.append(lemma)
        negated.append(neg)
        is_content = tag.startswith(_JA_CONTENT) and lemma not in JA_STOP and not _PLACEHOLDER.match(lemma)
        is_content = is_content and not lemma.isdigit() and len(lemma) > 1 or (is_content and _is_kanji(lemma))
        if is_content:
            content.append(lemma)
        if tag.startswith(("名詞-普通名詞", "名詞-固有名詞", "接尾辞-名詞的")) and not _PLACEHOLDER.match(lemma):
            noun_run.append(tok.text)
        else:
            if len(noun_run) >= 2:
                phrases.append("".join(noun_run))
            noun_run = []
        # noun + が/を/は/に + verb/adjective: 配送が遅い, アプリが落ちる
        if tag.startswith(("動詞-一般", "形容詞-一般")) and i >= 2 and toks[i - 1].tag_.startswith("助詞-") \
                and toks[i - 1].text in ("が", "を", "は", "に", "も") and toks[i - 2].tag_.startswith("名詞") \
                and toks[i - 2].lemma_ not in JA_STOP:
            predicate = _negative_form(tok) if neg else lemma  # 届かない, not 届く
            phrases.append(f"{toks[i - 2].text}{toks[i - 1].text}{predicate}")
    if len(noun_run) >= 2:
        phrases.append("".join(noun_run))
    return Tokens("ja", lemmas, negated, content, phrases)


_A_ROW = dict(zip("うくぐすつぬぶむる", "わかがさたなばまら"))


def _negative_form(tok) -> str:
    """The plain negative of a verb or adjective lemma (届く→届かない, 使える→使えない, 遅い→遅くない), so that
    届きません and 届かなかった count as one phrase."""
    lemma = tok.lemma_
    inflection = ",".join(tok.morph.get("Inflection"))
    if tok.tag_.startswith("形容詞") and lemma.endswith("い"):
        return lemma[:-1] + "くない"
    if inflection.startswith("五段") and lemma[-1:] in _A_ROW:
        return lemma[:-1] + _A_ROW[lemma[-1]] + "ない"
    if inflection.startswith(("上一段", "下一段")) and lemma.endswith("る"):
        return lemma[:-1] + "ない"
    if lemma.endswith("する"):
        return lemma[:-2] + "しない"
    return lemma + "ない"


def _ja_negated(toks: list, i: int) -> bool:
    """A predicate is negated when the auxiliaries that follow it (ませ ん, なかっ た) hold a negator."""
    for tok in toks[i + 1 : i + 5]:
        if tok.lemma_ in _JA_NEGATORS or tok.norm_ in _JA_NEGATORS:
            return True
        if not tok.tag_.startswith(_JA_AUX_CHAIN):
            return False
    return False


def _en_tokens(doc) -> Tokens:
    lemmas, negated, content = [], [], []
    negate_until = -1
    for i, tok in enumerate(doc):
        lemma = _en_lemma(tok)
        if lemma in ("not", "no", "never", "n't", "nothing", "cannot") or lemma.endswith("n't"):
            negate_until = i + 3
        lemmas.append(lemma)
        negated.append(i <= negate_until and lemma not in ("not", "no", "never"))
        if tok.is_alpha and len(lemma) >= 2 and lemma not in EN_STOP and lemma not in EN_STOP_EXTRA \
                and not _PLACEHOLDER.match(tok.text):
            content.append(lemma)
    words = [_en_lemma(t) if t.is_alpha and not _PLACEHOLDER.match(t.text) else "|" for t in doc]
    phrases = [f"{a} {b}" for a, b in zip(words, words[1:])
               if a in content and b in content and a != b]
    return Tokens("en", lemmas, negated, content, phrases)


def _en_lemma(tok) -> str:
    return _EN_LEMMA_FIXES.get(tok.text.lower(), tok.lemma_.lower())


def _is_kanji(text: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in text)
