"""Is an issue a problem? A per-item "problem report" signal from cheap cues (Japanese and English), and per
issue: its main stage and stage breakdown, its problem share and its cohesion, and why it is held back from
the ranking (not a problem, incoherent) when it is."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from nlp.cluster import OUTLIER
from nlp.config import RankConfig

# words of a report that something went wrong (a lemma-free substring match on lower-cased text)
_COMPLAINT_EN = re.compile(
    r"\b(?:delay\w*|late(?:r|st)?|cancel+\w*|lost|los(?:e|ing)|missing|miss(?:ed)?|stuck|strand\w*|wait\w*|hold|hours?|"
    r"hrs?|broken|break|damage\w*|rude\w*|worst|terrible|awful|horrible|never|nobody|no one|no help|"
    r"can'?t|cannot|couldn'?t|won'?t|wouldn'?t|didn'?t|doesn'?t|isn'?t|wasn'?t|not|no|refund\w*|charg\w+|"
    r"fees?|fail\w*|error\w*|problems?|issues?|complain\w*|disappoint\w*|frustrat\w*|unacceptable|"
    r"ridiculous|suck\w*|wrong|denied|overbook\w*|dirty|worse|bad|poor\w*|pathetic|joke|still|again|"
    r"help|fix\w*|why|crash\w*|freez\w*|smell\w*|gross|filth\w*|mold|stain\w*|uncomfortable|cramped|unreal|"
    r"split|separat\w*|should|need to|unhelpful|ignor\w*|lie[ds]?|lying|useless|nightmare|mess)\b")
_COMPLAINT_JA = re.compile(
    r"遅[いくれ延]|届か|来ない|こない|壊れ|破損|不具合|エラー|でき(?:ない|ません|なかった)|使えない|繋がらない|"
    r"つながらない|返金|困[っる]|最悪|ひど|酷い|不満|不便|問題|故障|間違|待たされ|二重|請求|失礼|不愉快|"
    r"残念|解約|不良|欠品|汚[いれ]|ない$|ません|なかった|遅すぎ|いつまで|まだ")
_PRAISE = re.compile(r"\b(?:thanks?|thank you|thx|ty|love\w*|great|awesome|amazing|best|appreciate\w*|kudos|"
                     r"excellent|wonderful|fantastic|nice|cool|congrat\w*|happy|glad)\b|"
                     r"ありがと|最高|助かり|満足|良かった|よかった|素晴らし|丁寧|感謝|嬉し|うれし")
_JOKE = re.compile(r"\b(?:lol|lmao|haha\w*|rofl)\b|😂|🤣|笑|ｗｗ")
_PROMO = re.compile(r"check (?:it )?out|on fleek|giveaway|sweepstake|promo\w*|discount|\bdeals?\b|\bsale\b|"
                    r"\btour\b|\bwin\b|follow us|sign up|new route|now (?:open|available)|book now|"
                    r"キャンペーン|プレゼント|抽選|フォロー|セール|クーポン|応募|割引|新発売|限定|詳しくは|チェックして")
_QUESTION = re.compile(r"[?？]|(?:です|ます|でしょう)か[。\s]*$")
_LINK, _HASHTAG = re.compile(r"https?://|www\."), re.compile(r"[#＃]\w")


def problem_cues(texts: pd.Series) -> pd.DataFrame:
    """One row per text: complaint, praise, joke, promo, question (bool). ``promo`` is a marketing phrase, or
    a link with two hashtags and no complaint word (a campaign post, not a report)."""
    lower = texts.fillna("").astype(str).str.lower()
    complaint = lower.str.contains(_COMPLAINT_EN) | lower.str.contains(_COMPLAINT_JA)
    campaign = lower.str.contains(_LINK) & (lower.str.count(_HASHTAG) >= 2) & ~complaint
    return pd.DataFrame({"complaint": complaint, "praise": lower.str.contains(_PRAISE),
                         "joke": lower.str.contains(_JOKE), "promo": lower.str.contains(_PROMO) | campaign,
                         "question": lower.str.contains(_QUESTION)}, index=texts.index)


def problem_reports(texts: pd.Series, sentiment: pd.Series, negative_below: float) -> pd.Series:
    """True for an item that reports a problem: not marketing, and either a complaint word in a text that is
    not positive, or negative sentiment in a text that is not a question, praise or a joke. Praise, jokes,
    promotional chatter and questions without a complaint are not problem reports."""
    cues = problem_cues(texts)
    score = sentiment.astype(float).fillna(0.0)
    negative = score < negative_below
    positive = score > -negative_below
    complaint = cues["complaint"] & ~(positive & (cues["praise"] | cues["joke"]))
    plain_negative = negative & ~cues["question"] & ~cues["praise"] & ~cues["joke"]
    return ((complaint | plain_negative) & ~cues["promo"]).rename("problem")


def main_stages(scored: pd.DataFrame) -> pd.Series:
    """issue_id -> the stage most of its items are in (ties: the first stage key in sort order)."""
    counts = scored.groupby(["issue_id", "stage"]).size().rename("n").reset_index()
    return counts.sort_values(["issue_id", "n", "stage"], ascending=[True, False, True]) \
        .drop_duplicates("issue_id").set_index("issue_id")["stage"]


def issue_profiles(scored: pd.DataFrame, spaces: pd.Series, cfg: RankConfig, negative_below: float,
                   noise: frozenset[str] | set[str] = frozenset()) -> pd.DataFrame:
    """One row per issue (issue_id): count, main_stage, stage_breakdown ("stage 62%, other 30%"),
    problem_share, cohesion (mean member-centroid cosine) and held_back: "" (ranked), "not_a_problem"
    (problem_share below cfg.min_problem_share) or "incoherent" (its distance from its centroid, 1 - cohesion,
    above cfg.incoherent_factor x the median of the issues of its space) or "noise" (the taxonomy says so,
    ``noise``). ``spaces``: issue_id -> space."""
    frame = scored[scored["issue_id"] != OUTLIER]
    if frame.empty:
        return pd.DataFrame(columns=["issue_id", "count", "main_stage", "stage_breakdown", "problem_share",
                                     "cohesion", "held_back"])
    frame = frame.assign(problem=problem_reports(frame["text"], frame["sentiment"], negative_below).to_numpy())
    out = frame.groupby("issue_id").agg(count=("item_id", "size"), problem_share=("problem", "mean"),
                                          cohesion=("centrality", "mean")).reset_index()
    out["main_stage"] = out["issue_id"].map(main_stages(frame))
    out["stage_breakdown"] = out["issue_id"].map(_breakdowns(frame))
    spread = 1.0 - out["cohesion"].astype(float)
    typical = spread.groupby(out["issue_id"].map(spaces).fillna("")).transform("median")
    incoherent = spread > cfg.incoherent_factor * typical
    out["held_back"] = np.select([out["issue_id"].isin(list(noise)), out["problem_share"] < cfg.min_problem_share,
                                  incoherent], ["noise", "not_a_problem", "incoherent"], "")
    out[["problem_share", "cohesion"]] = out[["problem_share", "cohesion"]].astype(float).round(4)
    return out


def _breakdowns(frame: pd.DataFrame) -> pd.Series:
    """issue_id -> its stages by share, largest first ("delays 62%, customer_service 30%")."""
    shares = frame.groupby("issue_id")["stage"].value_counts(normalize=True)
    return shares.groupby(level=0).apply(
        lambda s: ", ".join(f"{stage} {share:.0%}" for (_, stage), share in s.items()))


def held_back(profiles: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """The issues kept out of the ranking, largest first: issue_id, label, count, main_stage,
    stage_breakdown, problem_share, cohesion, held_back (the reason)."""
    out = profiles[profiles["held_back"] != ""].merge(clusters[["issue_id", "label"]], on="issue_id", how="left")
    cols = ["issue_id", "label", "count", "main_stage", "stage_breakdown", "problem_share", "cohesion", "held_back"]
    return out.sort_values(["count", "issue_id"], ascending=[False, True])[cols].reset_index(drop=True)
