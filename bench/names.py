"""Issue names (issue 17): the name koe gives an issue next to the keyword label it had before and three of its
verbatims, for the 20 largest issues of the demo sample (Japanese and English report) and of the airline tweets
(United + American, configs/airline.yaml), each from one full run of the real flow; and, on bilingual_cx/dev.tsv
(20 themes x 25 texts per language), the names of each theme's texts and how often a name taken from the other
language's texts (an English name for a Japanese issue) comes from a text of the same theme.

    python -m bench.names [demo] [airline] [bilingual]

The name settings (nlp.config.LabelConfig name_*) were set while reading the demo's and bilingual_cx's names;
the airline names were first read after they were fixed (the unseen check). Writes bench/results/names.json."""

from __future__ import annotations

import sys
import tempfile
import time

import numpy as np
import pandas as pd
import yaml

from bench.common import DATA, REPO, update_results

N_ISSUES = 20


def _flow(config_path, edit) -> str:
    """Run the nightly flow once on a copy of ``config_path`` with its store and reports in a temporary folder;
    returns the store's path."""
    from flows.nightly import nightly

    tmp = tempfile.mkdtemp(prefix="koe-names-")
    raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    raw["store"]["path"] = f"{tmp}/koe.duckdb"
    raw["report"]["out_dir"] = f"{tmp}/reports"
    edit(raw)
    config = f"{tmp}/config.yaml"
    with open(config, "w", encoding="utf-8") as fh:
        yaml.safe_dump(raw, fh, allow_unicode=True)
    nightly(config)
    return raw["store"]["path"]


def _named(store_path: str, languages: tuple[str, ...]) -> list[dict]:
    """The 20 largest issues of the store's last run, each described again (nlp.label.describe_clusters, the
    step the flow runs) for a report in each of ``languages``: its name there, its keyword label, 3 verbatims."""
    from nlp.config import LabelConfig
    from nlp.label import describe_clusters
    from nlp.names import sentence_encoder
    from nlp.store import Store
    from nlp.tokenize import tokenize_texts

    store = Store(store_path)
    assigned, _ = store.results.latest()
    items = store.table("items")[["item_id", "text", "lang"]]
    frame = assigned[assigned["issue_id"] != "outlier"].merge(items, on="item_id")
    top = frame["issue_id"].value_counts().head(N_ISSUES).index
    frame = frame[frame["issue_id"].isin(top)].reset_index(drop=True)
    space = frame["issue_id"].str.split("-").str[0]
    tokens = tokenize_texts(frame["text"].tolist(), frame["lang"].tolist())
    cfg = LabelConfig()
    encode = sentence_encoder(cfg.name_embedder)
    # the stored issues described again as clusters (nlp.label.describe_clusters: cluster_id, space)
    base = frame.assign(space=space, cluster_id=frame["issue_id"])[["item_id", "space", "cluster_id", "centrality"]]
    described = {language: describe_clusters(base, frame["text"], tokens, cfg, frame["lang"], language, encode)
                 .set_index("cluster_id") for language in languages}
    plain = describe_clusters(base, frame["text"], tokens, LabelConfig(names=False), frame["lang"], languages[0])
    out = []
    for row in plain.sort_values("size", ascending=False).itertuples():
        out.append({"issue": row.cluster_id, "size": int(row.size), "keyword_label": row.label,
                    **{f"name_{lg}": described[lg].at[row.cluster_id, "label"] for lg in languages},
                    "verbatims": list(row.verbatims)[:3]})
    return out


def demo() -> dict:
    started = time.perf_counter()
    store = _flow(REPO / "configs" / "default.yaml", lambda raw: None)
    issues = _named(store, ("ja", "en"))
    return {"issues": issues, "seconds": round(time.perf_counter() - started, 1),
            "named": sum(not _is_keywords(i, "ja") for i in issues)}


def airline() -> dict:
    started = time.perf_counter()

    def edit(raw):
        raw["sources"][0]["path"] = str(DATA / "airline_tweets" / "tweets_united_american.csv")

    store = _flow(REPO / "configs" / "airline.yaml", edit)
    issues = _named(store, ("en",))
    return {"issues": issues, "seconds": round(time.perf_counter() - started, 1),
            "named": sum(not _is_keywords(i, "en") for i in issues)}


def _is_keywords(issue: dict, language: str) -> bool:
    return issue[f"name_{language}"] == issue["keyword_label"]


def bilingual() -> dict:
    """Each theme's texts of one language as one issue (most central first by the name embedder), named in a
    Japanese and in an English report; a name from the other language's texts is a hit when one of the texts
    that make that claim belongs to the same theme."""
    from nlp.config import LabelConfig
    from nlp.claims import text_claims
    from nlp.names import name_issues, sentence_encoder

    rows = pd.read_csv(DATA / "bilingual_cx" / "dev.tsv", sep="\t")
    cfg = LabelConfig()
    encode = sentence_encoder(cfg.name_embedder)
    samples, langs, origin = {}, {}, {}
    for (theme, lang), group in rows.groupby(["theme", "lang"], sort=True):
        texts = group["text"].tolist()
        vectors = encode(texts)
        centroid = vectors.mean(axis=0)
        order = np.argsort(-(vectors @ centroid), kind="stable")
        key = f"{lang}:{theme}"
        samples[key], langs[key] = [texts[i] for i in order[: cfg.name_sample]], lang
        for claims in text_claims(samples[key], lang):
            for c in claims:
                origin.setdefault((lang, c.text), set()).add(theme)
    names = {language: name_issues(samples, langs, language, encode, cfg) for language in ("ja", "en")}
    themes = sorted(rows["theme"].unique())
    out, hits = [], {"ja": 0, "en": 0}
    crossed = {"ja": 0, "en": 0}
    for theme in themes:
        entry = {"theme": theme}
        for language in ("ja", "en"):
            other = "en" if language == "ja" else "ja"
            entry[f"{language}_texts_named_in_{language}"] = names[language].get(f"{language}:{theme}")
            crossed_name = names[language].get(f"{other}:{theme}", "")
            entry[f"{other}_texts_named_in_{language}"] = crossed_name
            if crossed_name.endswith(")") and " (" in crossed_name:
                taken = crossed_name.rsplit(" (", 1)[0]
                crossed[language] += 1
                hits[language] += theme in origin.get((language, taken), set())
        out.append(entry)
    return {"themes": out, "cross_language": {
        language: {"named_from_other_language": crossed[language], "same_theme": hits[language],
                   "of": len(themes)} for language in ("ja", "en")}}


def main(argv: list[str]) -> None:
    parts = argv or ["demo", "airline", "bilingual"]
    for part in parts:
        result = {"demo": demo, "airline": airline, "bilingual": bilingual}[part]()
        update_results("names", part, result)
        print(part, {k: v for k, v in result.items() if k not in ("issues", "themes")})


if __name__ == "__main__":
    main(sys.argv[1:])
