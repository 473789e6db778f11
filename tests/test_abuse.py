"""Abusive messages: threats and insults at staff are flagged; criticism of a product or service is not."""

import pytest

from nlp.abuse import abuse_kind
from nlp.normalize import normalize_text


@pytest.mark.parametrize("text, kind", [
    ("ネットに晒してやるからな", "threat"),
    ("責任者を出せ。土下座しろ", "threat"),
    ("I know where you work", "threat"),
    ("担当者はバカなのか", "insult"),
    ("お前らは給料泥棒か", "insult"),
    ("Your agents are idiots", "insult"),
    ("この値段はバカ高い", None),  # slang for "very expensive"
    ("箱の中にゴミが入っていた", None),
    ("消費者センターに相談します", None),  # a legitimate escalation
    ("This app is stupid", None),  # aimed at the product
    ("The agent was rude and unhelpful", None),  # criticism, not abuse
    ("I will contact a lawyer about the refund", None),
])
def test_abuse_kind(text, kind):
    assert abuse_kind(normalize_text(text)) == kind


def test_abuse_is_counted_per_stage_for_tickets_only():
    import pandas as pd

    from nlp.abuse import abuse_by_stage

    scored = pd.DataFrame({"item_id": list("abcde"), "stage": ["support"] * 3 + ["delivery"] * 2,
                           "source_kind": ["ticket", "ticket", "review", "ticket", "ticket"],
                           "abuse": ["threat", None, "insult", "insult", None]})
    out = abuse_by_stage(scored).set_index("stage")
    assert out.loc["support", ["tickets", "abusive", "threats", "insults"]].tolist() == [2, 1, 1, 0]
    assert out.loc["delivery", "share"] == 0.5

    assert abuse_by_stage(scored[scored["source_kind"] == "review"]).empty  # no tickets at all: an empty table
