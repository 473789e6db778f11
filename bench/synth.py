"""A synthetic, mixed Japanese/English feedback set of any size, for the speed benchmark (bench/speed.py).

Texts are real sentences from ../shared/data (read in place, never copied) plus koe's own sample, lightly
perturbed so that a large set is mostly distinct texts (as real feedback is), all from one seeded numpy RNG:

- pools: English = banking77 train+test ``text`` and airline_tweets ``text``; Japanese = jrte_ja pn_train_dev
  ``text``, every chABSA ``sentence`` and data/sample/reviews.csv ``review_text`` (a sample review goes to the
  Japanese pool when it has kana/kanji, otherwise to the English one);
- each item is Japanese with probability 0.6, else English; its base text is drawn uniformly from that pool;
- perturbations (independent): with p=0.3 a second pool text is joined on; with p=0.5 the first number in the
  text is replaced by a random one; with p=0.25 a short prefix and with p=0.5 a short suffix phrase (same
  language, from the small lists below) are added; with p=0.4 a product/order code ``KM-<4 digits>`` is added;
- ids ``F0000000``..; dates uniform over the 8 weeks ending 2026-11-22 (local time, no zone: koe reads them as
  ingest.timezone); rating empty with p=0.5, else uniform 1-5.

``write_feedback`` writes the CSV (id,date,text,rating); ``append_delta`` appends a share of new items (new
ids, texts not already in the file, dates on the last day) as a nightly increment."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import DATA, REPO

END = pd.Timestamp("2026-11-23 00:00")  # exclusive: the last day is 2026-11-22
WEEKS = 8
JA_SHARE = 0.6
_JA_CHARS = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_NUMBER = re.compile(r"\d+")
EN_PREFIX = ["Honestly,", "Update:", "Quick question:", "Not happy.", "Hi team,", "Again:", "FYI", "Well,"]
EN_SUFFIX = ["Please help.", "Thanks in advance.", "This is the second time.", "Still waiting.", "Any update?",
             "Very disappointed.", "Great service though.", "Please fix this asap!", "Love the app otherwise.",
             "Will not recommend.", "Sent from my phone."]
JA_PREFIX = ["正直、", "至急です。", "前回も同じでした。", "初めて利用しました。", "いつもお世話になっております。",
             "追記：", "またです。", "家族の分も注文しました。"]
JA_SUFFIX = ["早めに対応してほしいです。", "よろしくお願いします。", "残念です。", "また利用したいです。",
             "改善をお願いします。", "二度目です。", "返信待ってます。", "ありがとうございました。", "星は控えめにしました。",
             "友人にも勧めたいです。", "スマホから投稿しています。"]


def load_pools() -> dict[str, list[str]]:
    """{"ja": [...], "en": [...]}: distinct non-empty source texts per language (see the module docstring)."""
    bank = [pd.read_csv(DATA / "banking77" / f"{s}.csv")["text"] for s in ("train", "test")]
    tweets = pd.read_csv(DATA / "airline_tweets" / "tweets_united_american.csv")["text"]
    jrte = pd.read_csv(DATA / "jrte_ja" / "pn_train_dev.tsv", sep="\t", header=None,
                       names=["id", "label", "text", "judges", "usage"])["text"]
    chabsa = [s["sentence"] for p in sorted((DATA / "chabsa_ja" / "chABSA").glob("*.json"))
              for s in json.loads(p.read_text(encoding="utf-8"))["sentences"]]
    sample = _sample_reviews()
    sample_ja = [t for t in sample if _JA_CHARS.search(t)]
    en = [*bank[0], *bank[1], *tweets, *(t for t in sample if not _JA_CHARS.search(t))]
    ja = [*jrte, *chabsa, *sample_ja]
    return {"ja": _clean(ja), "en": _clean(en)}


def _sample_reviews() -> list[str]:
    """review_text of the bundled sample's well-formed rows (it also holds rows made to be quarantined)."""
    frame = pd.read_csv(REPO / "data" / "sample" / "reviews.csv", on_bad_lines="skip", dtype=str)
    good = (pd.to_numeric(frame["stars"], errors="coerce").between(1, 5)
            & pd.to_datetime(frame["posted_at"], errors="coerce").notna())
    return frame.loc[good, "review_text"].dropna().tolist()


def _clean(texts: list) -> list[str]:
    seen = dict.fromkeys(str(t).strip() for t in texts if isinstance(t, str) and str(t).strip())
    return list(seen)


def perturb(base: str, pool: list[str], lang: str, rng: np.random.Generator) -> str:
    """``base`` with the random perturbations of the module docstring; ``pool`` supplies joined sentences."""
    ja = lang == "ja"
    text = base
    if rng.random() < 0.3:
        other = pool[rng.integers(len(pool))]
        text = _join(text, other, ja)
    if rng.random() < 0.5 and _NUMBER.search(text):
        text = _NUMBER.sub(str(int(rng.integers(1, 1000))), text, count=1)
    if rng.random() < 0.25:
        prefix = (JA_PREFIX if ja else EN_PREFIX)[rng.integers(len(JA_PREFIX if ja else EN_PREFIX))]
        text = _join(prefix, text, ja)
    if rng.random() < 0.5:
        suffix = (JA_SUFFIX if ja else EN_SUFFIX)[rng.integers(len(JA_SUFFIX if ja else EN_SUFFIX))]
        text = _join(text, suffix, ja)
    if rng.random() < 0.4:
        code = f"KM-{rng.integers(1000, 10000)}"
        text = f"{text}（注文番号{code}）" if ja else f"{text} (order {code})"
    return text


def _join(first: str, second: str, ja: bool) -> str:
    """Two sentences as one text: Japanese closes the first with 。 when it has no closing mark."""
    if not ja:
        return f"{first} {second}"
    closed = first.endswith(("。", "！", "？", "!", "?", "、", "：", "）", ")"))
    return f"{first}{second}" if closed else f"{first}。{second}"


def make_items(n: int, pools: dict[str, list[str]], rng: np.random.Generator, first_id: int,
               start: pd.Timestamp, end: pd.Timestamp, avoid: set[str] | None = None) -> pd.DataFrame:
    """n items (id, date, text, rating, lang) with ids from ``first_id``, dates uniform in [start, end) and
    texts distinct from ``avoid`` (when given, also from each other)."""
    texts, langs = [], []
    while len(texts) < n:
        lang = "ja" if rng.random() < JA_SHARE else "en"
        pool = pools[lang]
        text = perturb(pool[rng.integers(len(pool))], pool, lang, rng)
        if avoid is not None:
            if text in avoid:
                continue
            avoid.add(text)
        texts.append(text)
        langs.append(lang)
    seconds = rng.integers(0, int((end - start).total_seconds()), size=n)
    dates = (start + pd.to_timedelta(np.sort(seconds), unit="s")).strftime("%Y-%m-%d %H:%M")
    ratings = pd.Series(rng.integers(1, 6, size=n), dtype="Int64").mask(rng.random(n) < 0.5)
    return pd.DataFrame({"id": [f"F{first_id + i:07d}" for i in range(n)], "date": dates, "text": texts,
                         "rating": ratings, "lang": langs})


def write_feedback(path: Path, n: int, seed: int = 42) -> dict:
    """Write n items over the 8 weeks to ``path`` (CSV id,date,text,rating); return counts by language and
    the number of distinct texts."""
    rng = np.random.default_rng(seed)
    frame = make_items(n, load_pools(), rng, 0, END - pd.Timedelta(weeks=WEEKS), END)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.drop(columns="lang").to_csv(path, index=False)
    return {"n": n, "n_ja": int((frame["lang"] == "ja").sum()), "n_en": int((frame["lang"] == "en").sum()),
            "distinct_texts": int(frame["text"].nunique())}


def append_delta(path: Path, share: float = 0.05, seed: int = 4242) -> int:
    """Append round(share * rows) new items (new ids and texts, dates on 2026-11-22) to ``path``; return
    how many were appended."""
    existing = pd.read_csv(path, dtype=str, keep_default_na=False)
    n_new = max(1, round(share * len(existing)))
    rng = np.random.default_rng(seed)
    frame = make_items(n_new, load_pools(), rng, len(existing), END - pd.Timedelta(days=1), END,
                       avoid=set(existing["text"]))
    frame.drop(columns="lang").to_csv(path, mode="a", header=False, index=False)
    return n_new
