"""PII redaction on real text: how many of each placeholder normalisation + redaction put into airline tweets
(United + American, English, ingested as social posts: @handles kept) and the bilingual CX dev set (ja + en, as
tickets: @handles redacted), the time per text, and (printed, not stored: the data stays out of the repo) a few redacted texts per class
to read for false positives.

    python -m bench.pii_redaction        # writes bench/results/pii_redaction.json
"""

from __future__ import annotations

import re
import time
from collections import Counter

import pandas as pd

from bench.common import DATA, update_results
from nlp.normalize import normalize_text
from nlp.pii import PLACEHOLDERS, redact_pii

_PLACEHOLDER = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS))


def redaction_counts(texts: list[str], handles: bool) -> dict:
    """Placeholders per class, texts changed and microseconds per text (a few redacted texts are printed)."""
    counts, examples, changed = Counter(), {}, 0
    start = time.perf_counter()
    outs = [redact_pii(normalize_text(t), handles=handles) for t in texts]
    seconds = time.perf_counter() - start
    for text, out in zip(texts, outs):
        found = _PLACEHOLDER.findall(out)
        changed += out != normalize_text(text)
        for p in found:
            counts[p] += 1
            if len(examples.setdefault(p, [])) < 5 and out not in examples[p]:
                examples[p].append(out[:200])
    for placeholder, shown in examples.items():
        print(placeholder, *shown, sep="\n    ")
    return {"texts": len(texts), "texts_changed": changed, "placeholders": dict(sorted(counts.items())),
            "us_per_text": round(1e6 * seconds / max(len(texts), 1), 1)}


def main() -> None:
    tweets = pd.read_csv(DATA / "airline_tweets" / "tweets_united_american.csv", dtype={"tweet_id": str})
    update_results("pii_redaction", "airline_tweets", redaction_counts(tweets["text"].astype(str).tolist(), False))
    cx = pd.read_csv(DATA / "bilingual_cx" / "dev.tsv", sep="\t")
    update_results("pii_redaction", "bilingual_cx_dev", redaction_counts(cx["text"].astype(str).tolist(), True))


if __name__ == "__main__":
    main()
