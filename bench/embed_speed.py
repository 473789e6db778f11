"""Texts per second of one embedding backend, Japanese and English apart, on real feedback-like sentences:
the first n jrte_ja texts (hotel reviews) and the first n banking77 test queries, embedded ``repeats`` times
through ``nlp.embed.embed_texts`` (Japanese tokenized once beforehand, outside the timing); loading timed apart.
A short check, not one of the big benches: it writes the backend's section of bench/results/embed_speed.json.

    python -m bench.embed_speed [--backend e5.v1] [--model multilingual-e5-small] [--set threads=1] [--n 1000]
        [--repeats 3]"""

from __future__ import annotations

import argparse
import os
import time

import pandas as pd
import yaml

from bench.common import DATA, update_results


def texts(n: int) -> dict[str, list[str]]:
    ja = pd.read_csv(DATA / "jrte_ja" / "pn_train_dev.tsv", sep="\t", header=None,
                     names=["id", "label", "text", "judges", "usage"])["text"].astype(str).tolist()[:n]
    en = pd.read_csv(DATA / "banking77" / "test.csv")["text"].astype(str).tolist()[:n]
    return {"ja": ja, "en": en}


def measure(backend: str, model: str | None, options: dict, n: int, repeats: int) -> dict:
    from nlp.config import EmbedderSpec
    from nlp.embed import backend as registered, embed_texts, get_embedder
    from nlp.tokenize import tokenize_texts

    spec = EmbedderSpec(backend=backend, model=model or registered(backend).shipped_model, **options)
    start = time.perf_counter()
    embedder = get_embedder(spec)
    out = {"spec": spec.model_dump(), "model_key": embedder.model_key, "load_s": round(time.perf_counter() - start, 2),
           "cores": os.cpu_count(), "n": n, "repeats": repeats}
    for lang, batch in texts(n).items():
        tokens = tokenize_texts(batch, [lang] * len(batch))
        walls = []
        for _ in range(repeats):
            start = time.perf_counter()
            embed_texts(batch, tokens, embedder)
            walls.append(time.perf_counter() - start)
        out[lang] = {"texts": len(batch), "mean_chars": round(sum(map(len, batch)) / len(batch), 1),
                     "best_s": round(min(walls), 3), "texts_per_s": round(len(batch) / min(walls), 1)}
        print(f"{backend} {lang}: {out[lang]['texts_per_s']} texts/s ({out[lang]})", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="e5.v1")
    parser.add_argument("--model", default=None)
    parser.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE", help="a backend option")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    options = {key: yaml.safe_load(value) for key, value in (item.split("=", 1) for item in args.set)}
    section = args.backend + "".join(f" {key}={value}" for key, value in options.items())
    update_results("embed_speed", section, measure(args.backend, args.model, options, args.n, args.repeats))


if __name__ == "__main__":
    main()
