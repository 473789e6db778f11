"""Journey-stage assignment as the flow does it (flows.tasks.stage_items), with the real embedders, in Japanese
and English: descriptions and keywords are evidence, no stage absorbs items by default, items that fit nothing
are unassigned, and an issue's items vote."""

import numpy as np
import pandas as pd
import pytest

from flows.tasks import stage_items
from nlp.config import PipelineConfig
from nlp.embed import embed_texts, get_embedder
from nlp.normalize import normalize_text
from nlp.stages import UNASSIGNED, keyword_hits
from nlp.tokenize import tokenize_texts

DELIVERY = {"key": "delivery", "name_ja": "配送", "name_en": "Delivery",
            "examples_ja": ["商品が届かない", "配送が遅い", "荷物が破損していた"],
            "examples_en": ["my parcel has not arrived", "delivery is late", "the package arrived damaged"]}
PAYMENT = {"key": "payment", "name_ja": "支払い", "name_en": "Payment",
           "examples_ja": ["クレジットカードの決済が失敗する", "二重に請求された", "支払いができない"],
           "examples_en": ["my card payment failed", "I was charged twice", "cannot pay at checkout"]}
# a stage with nothing but its description: the mobile app
APP = {"key": "usage", "name_ja": "利用", "name_en": "Usage",
       "description": "The mobile app itself: it crashes, freezes, will not open or will not let people log in.",
       "description_ja": "スマホのアプリそのもの。アプリが落ちる、固まる、起動しない、ログインできない。"}
# a stage whose examples would fit any complaint
GENERIC = {"key": "general", "name_ja": "その他", "name_en": "General",
           "examples_ja": ["不満です", "最悪の体験", "問題があります", "困っています", "ひどい"],
           "examples_en": ["I am not happy", "terrible experience", "I have a problem", "this is bad", "awful"]}

TEXTS = {
    "ja": {"delivery": ["注文した荷物がまだ届きません", "配達予定日を3日過ぎても来ない", "届いた箱がつぶれていて中身が壊れていた",
                        "配送がとにかく遅い", "荷物の到着が一週間も遅れた"],
           "payment": ["カード決済でエラーになって買えない", "同じ注文で2回請求されています", "支払い画面で決済が通らない",
                       "クレジットカードが使えず購入できない"],
           "usage": ["アプリを開くとすぐに落ちる", "アプリが固まって何もできない", "アプリにログインできなくなった",
                     "最新版にしてからアプリが起動しない"],
           "none": ["今日は天気が良くて散歩が気持ちいい", "週末に家族と映画を見に行きました", "猫がソファで昼寝している"]},
    "en": {"delivery": ["my order still has not arrived", "the parcel is three days past the delivery date",
                        "the box came crushed and the item inside was broken", "shipping is so slow",
                        "my package arrived a week late"],
           "payment": ["checkout gives an error when I pay by card", "I was billed twice for the same order",
                       "the payment page keeps rejecting my card", "cannot complete the purchase, card declined"],
           "usage": ["the app crashes as soon as I open it", "the app freezes and nothing works",
                     "I can no longer log in to the app", "since the latest version the app will not start"],
           "none": ["what a lovely sunset at the beach tonight", "we watched a movie with the family at the weekend",
                    "my cat is napping on the sofa"]},
}


def _config(stages: list[dict], **stage_settings) -> PipelineConfig:
    return PipelineConfig.model_validate({"sources": [{"name": "t", "kind": "review", "path": "unused.csv"}],
                                          "stages": {"stages": stages, **stage_settings}})


def _staged(cfg: PipelineConfig, lang: str, groups: list[str], clusters: dict[str, str] | None = None) -> pd.DataFrame:
    """stage_items on the texts of ``groups`` (truth column: the group), embedded as the flow embeds them;
    ``clusters``: group -> cluster id (others are outliers)."""
    rows = [(g, t) for g in groups for t in TEXTS[lang][g]]
    texts = [normalize_text(t) for _, t in rows]
    items = pd.DataFrame({"item_id": [f"i{n}" for n in range(len(rows))], "text": texts, "lang": lang,
                          "source_kind": "review", "channel": pd.array([None] * len(rows), dtype="string")})
    spec = cfg.embed.by_language[lang]
    vectors = {lang: embed_texts(texts, tokenize_texts(texts, [lang] * len(texts)), get_embedder(spec))}
    assigned = pd.DataFrame({"item_id": items["item_id"],
                             "issue_id": [(clusters or {}).get(g, "outlier") for g, _ in rows]})
    out = stage_items.fn(cfg, items, assigned, vectors)
    return out.assign(truth=[g for g, _ in rows], text=texts)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_stage_with_only_a_description_gets_its_items(lang):
    out = _staged(_config([DELIVERY, PAYMENT, APP]), lang, ["delivery", "payment", "usage"])
    app = out[out["truth"] == "usage"]
    assert (app["stage"] == "usage").all(), app[["text", "stage"]].to_string()
    assert (out["stage"] == out["truth"]).mean() >= 0.9


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_stage_with_generic_examples_does_not_absorb_items(lang):
    out = _staged(_config([DELIVERY, PAYMENT, APP, GENERIC]), lang, ["delivery", "payment", "usage"])
    assert (out["stage"] == "general").mean() <= 0.15, out[["text", "stage"]].to_string()
    assert (out["stage"] == out["truth"]).mean() >= 0.8


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_items_that_fit_no_stage_are_unassigned(lang):
    groups = ["delivery", "payment", "usage", "none"]
    default = _staged(_config([DELIVERY, PAYMENT, APP]), lang, groups)
    off_topic, fitting = default[default["truth"] == "none"], default[default["truth"] != "none"]
    # what fits no stage scores no more than a stage's background, far below every item that fits one
    assert off_topic["stage_fit"].max() < 0.05 < fitting["stage_fit"].min(), default.to_string()
    assert (off_topic["stage"] == UNASSIGNED).sum() >= 2 and (fitting["stage"] == fitting["truth"]).mean() >= 0.9
    strict = _staged(_config([DELIVERY, PAYMENT, APP], min_score=0.05), lang, groups)
    assert (strict.loc[strict["truth"] == "none", "stage"] == UNASSIGNED).all()
    assert (strict.loc[strict["truth"] != "none", "stage"] == fitting["truth"]).mean() >= 0.9


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_keywords_are_evidence(lang):
    # the usage stage has only keywords (its name does not say "app"); texts naming the app land there
    app = {"key": "usage", "name_ja": "利用", "name_en": "Usage", "keywords_ja": ["アプリ", "ログイン"],
           "keywords_en": ["app", "log in"]}
    out = _staged(_config([DELIVERY, PAYMENT, app]), lang, ["delivery", "payment", "usage"])
    assert (out.loc[out["truth"] == "usage", "stage"] == "usage").all(), out[["text", "stage"]].to_string()


def test_keyword_hits_match_whole_english_words_and_japanese_anywhere():
    stages = _config([{**DELIVERY, "keywords_en": ["bag", "on hold"], "keywords_ja": ["荷物"]}]).stages.stages
    texts = pd.Series(["my bags are gone", "a handbag?", "ON HOLD for an hour, bag lost", "荷物が来ない", "baggage"])
    assert keyword_hits(texts, stages)[:, 0].tolist() == [1, 0, 2, 1, 0]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_an_issue_vote_is_combined_with_each_items_own_evidence(lang):
    # all delivery and payment items in one issue whose members are mostly about delivery: with the vote fully
    # weighted every member follows the issue; at the default weight a clearly different item keeps its own stage
    groups = ["delivery", "payment"]
    one_issue = {"delivery": "c1", "payment": "c1"}
    alone = _staged(_config([DELIVERY, PAYMENT, APP]), lang, groups)
    pulled = _staged(_config([DELIVERY, PAYMENT, APP], issue_vote_weight=1.0), lang, groups, one_issue)
    default = _staged(_config([DELIVERY, PAYMENT, APP]), lang, groups, one_issue)
    assert (alone["stage"] == alone["truth"]).all()
    assert pulled["stage"].nunique() == 1 and pulled["stage"].iloc[0] == "delivery"
    assert (default["stage"] == default["truth"]).all()
    # the issue's vote moves every member's score toward the issue's stage
    assert (default.loc[default["truth"] == "payment", "stage_score"].to_numpy()
            < alone.loc[alone["truth"] == "payment", "stage_score"].to_numpy()).all()
