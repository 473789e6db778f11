"""Markdown tables from bench/results/*.json, for the README: `python -m bench.report` writes
bench/results/summary.md and prints it."""

from __future__ import annotations

import json

from bench.common import RESULTS
from bench.report_trust import (ceilings_table, delta_nights_table, names_tables, sentiment_ceilings_table,
                                stages_tables)
from bench.sentiment_variants import table as variants_table


def _load(name: str) -> dict:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def quality_tables(q: dict) -> list[str]:
    out = ["### Cluster discovery (same MiniLM embeddings)", "",
           "| data set | system | NMI | ARI | NMI (outliers as a class) | clusters | outliers |",
           "|---|---|---:|---:|---:|---:|---:|"]
    for key, name in (("banking77_test", "banking77 test (3,080, 77 intents)"),
                      ("banking77_train", "banking77 train (10,003)")):
        for system in ("koe", "koe_min_samples_10", "bertopic"):
            r = q.get(key, {}).get(system)
            if r:
                outliers = f"{100 * r['outlier_share']:.1f}%" + (
                    f" (mean {100 * r['outlier_share_mean']:.1f}%)" if "outlier_share_mean" in r else "")
                label = "koe, min_samples 10" if system == "koe_min_samples_10" else system
                out.append(f"| {name} | {label} | {r['nmi']:.3f}{_mean(r)} | {r['ari']:.3f} | "
                           f"{r['nmi_outliers_as_class']:.3f} | {r['n_clusters']} | {outliers} |")
    themes = q.get("themes", {}).get("koe", {})
    for lang in ("ja", "en"):
        r = themes.get(lang)
        if r:
            out.append(f"| koe themes {lang} (12 × 20, bench/data) | koe | {r['nmi']:.3f}{_mean(r)} | {r['ari']:.3f} | "
                       f"{r['nmi_outliers_as_class']:.3f} | {r['n_clusters']} | {100 * r['outlier_share']:.1f}% |")
    r = q.get("chabsa", {}).get("koe")
    if r:
        out.append(f"| chABSA ja (aspect categories, {r['n']} sentences) | koe | {r['nmi']:.3f}{_mean(r)} | {r['ari']:.3f} | "
                   f"{r['nmi_outliers_as_class']:.3f} | {r['n_clusters']} | {100 * r['outlier_share']:.1f}% |")
    out += ["", "### Sentiment (3 classes)", "", "| data set | macro-F1 | accuracy | n |", "|---|---:|---:|---:|"]
    r = q.get("jrte_dev", {}).get("koe")
    if r:
        out.append(f"| jrte dev (Japanese hotel reviews) | {r['macro_f1']:.3f} | {r['accuracy']:.3f} | {r['n']} |")
    a = q.get("airline", {}).get("koe")
    if a:
        s = a["sentiment"]
        out.append(f"| airline tweets (English) | {s['macro_f1']:.3f} | {s['accuracy']:.3f} | {s['n']} |")
        out += ["", "### Pain-point discovery on airline tweets (United + American)", "",
                f"- stage accuracy against negative reasons mapped to stages: **{a['stage_accuracy']:.3f}** "
                f"(n = {a['n_negative_with_reason']})"
                + (f"; a classifier trained on those labels (5-fold cross-validation, same vectors) reaches "
                   f"{a['stage_accuracy_supervised_5fold']:.3f}" if "stage_accuracy_supervised_5fold" in a else ""),
                f"- reasons (≥ 3% share) that are the majority of a top-3 issue in their stage: "
                f"**{a['reasons_found_top3']} / {a['reasons_total']}**", "",
                "| reason | share | stage | found in top 3 | top-3 labels |", "|---|---:|---|---|---|"]
        for reason, v in a["reasons"].items():
            out.append(f"| {reason} | {100 * v['share']:.1f}% | {v['stage']} | {'yes' if v['found_in_top3'] else 'no'}"
                       f" | {'; '.join(v['top3_labels'])} |")
    ab = q.get("abuse")
    if ab:
        out += ["", "### Abusive messages (カスハラ, rule-based)", "",
                f"- hand-labelled set written with the rules ({ab['set_size']} ja/en sentences with hard negatives; "
                f"in-sample): precision {ab['set_precision']:.2f}, recall {ab['set_recall']:.2f}",
                f"- airline tweets: {ab['airline_flagged']} of {ab['airline_tweets']:,} flagged, "
                f"{ab['airline_judged_abusive']} abusive on reading by hand: precision **{ab['airline_precision']:.2f}** "
                "(recall there not measured)"]
    return out


def _mean(r: dict) -> str:
    return f" (mean of {len(r['nmi_per_seed'])} seeds {r['nmi_mean']:.3f})" if "nmi_mean" in r else ""


def speed_table(s: dict) -> list[str]:
    rows = sorted(s.get("rows", []), key=lambda r: r["n"])
    if not rows:
        return []
    out = ["### Speed and memory (2 cores, same machine, same run)", "",
           "raw embed: sentence-transformers' own `encode` (PyTorch) for English + koe's Japanese word vectors; "
           "raw embed (int8): the same with English on int8 ONNX Runtime, koe's default CPU runtime.", "",
           "| N | koe total s | raw embed s | koe / raw embed | raw embed (int8) s | koe / raw embed (int8) | "
           "BERTopic s | BERTopic / koe | koe peak RSS MB | BERTopic peak RSS MB | delta run s (+5%) | delta / full | "
           "CPU taken by other processes (koe run) |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        koe, raw, delta = r["koe_total_s"], r["raw_embed_s"], r.get("delta_total_s") or 0.0
        onnx = r.get("raw_embed_onnx_s")
        onnx_cells = f"{onnx:.0f} | {koe / onnx:.2f}" if onnx else "— | —"
        bt, bt_rss = r.get("bertopic_total_s"), r.get("bertopic_peak_rss_mb")
        bt_cells = f"{bt:.0f} | {bt / koe:.2f}" if bt else "— | —"
        out.append(f"| {r['n']:,} | {koe:.0f} | {raw:.0f} | {koe / raw:.2f} | {onnx_cells} | {bt_cells} | "
                   f"{r.get('koe_peak_rss_mb') or 0:.0f} | {bt_rss or '—'} | {delta:.0f} | {delta / koe:.2f} | "
                   f"{100 * (r.get('koe_other_cpu_share') or 0):.0f}% |")
    return out


def onnx_table(o: dict) -> list[str]:
    r = o.get("minilm_cpu")
    if not r:
        return []
    sp, bank, air = r["speed"], r["banking77_test"], r.get("airline", {})
    names = {"torch": "PyTorch", "onnx": "ONNX Runtime", "onnx_int8": "ONNX Runtime, int8 weights (default)"}
    airline = " airline stage accuracy |" if air else ""
    out = ["### English embedding runtime (MiniLM on the CPU, `python -m bench.onnx`)", "",
           "| runtime | sentences/s | × PyTorch (best / median) | cosine to PyTorch (mean / min) | banking77 test NMI "
           f"(mean of 5 seeds) | outliers |{airline}", "|---|---:|---:|---:|---:|---:|" + ("---:|" if air else "")]
    for key, name in names.items():
        s_, b = sp[key], bank[key]
        stage = (f" {air[key]['stage_accuracy']:.3f} |" if key in air else " — |") if air else ""
        out.append(f"| {name} | {s_['sentences_per_s']:.0f} | {s_['speedup_best']:.2f} / {s_['speedup_median']:.2f} | "
                   f"{s_['vs_torch']['cosine_mean']:.4f} / {s_['vs_torch']['cosine_min']:.4f} | {b['nmi_mean']:.4f} | "
                   f"{100 * b['outlier_share_mean']:.1f}% |{stage}")
    out += ["", f"{sp['n_texts']:,} texts (banking77 + airline tweets), {sp['threads']} threads, best and median of "
            f"{sp['repeats']} interleaved repeats."]
    return out


_ROUTES = {"today": "today's default: two spaces (GiNZA SIF ja, MiniLM en)", "use": "use.v1 for both, one space",
           "use_centred": "use.v1, each language centred", "concat_0.5": "USE ⊕ language block, weights 0.5 / 0.5",
           "concat_0.7": "USE ⊕ language block, weights 0.7 / 0.3",
           "concat_centred_0.5": "USE centred ⊕ language block, 0.5 / 0.5",
           "concat_centred_0.7": "USE centred ⊕ language block, 0.7 / 0.3",
           "e5": "e5.v1 for both, one space (its mean subtracted, as cluster.center: auto)",
           "e5_centred": "e5.v1, each language centred", "e5_raw": "e5.v1, one space, not centred",
           "e5_two_spaces": "e5.v1 in two spaces (one per language, each centred)", "concat_e5_use_0.5": "USE ⊕ E5 centred, weights 0.5 / 0.5",
           "concat_e5_use_0.7": "USE ⊕ E5 centred, weights 0.7 / 0.3",
           "concat_e5_use_centred_0.5": "USE centred ⊕ E5 centred, 0.5 / 0.5",
           "concat_e5_use_centred_0.7": "USE centred ⊕ E5 centred, 0.7 / 0.3"}


def bilingual_table(b: dict) -> list[str]:
    r = b.get("bilingual_cx", {})
    if not r:
        return []
    bank = b.get("banking77", {})
    out = [f"### One space for ja and en? (bilingual_cx dev, {r['n']:,} texts, 20 themes × 25 ja + 25 en; means of "
           f"{len(r['seeds'])} UMAP seeds, `python -m bench.bilingual`)", "",
           "| route | NMI ja | NMI en | NMI both | ARI ja / en / both | outliers ja / en / both | themes held by one "
           "bilingual issue (≥ half of each language) | themes whose ja and en share their main issue | issues with "
           "≥ 20% of each language | banking77 test NMI |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key, v in r["routes"].items():
        pct = " / ".join(f"{100 * v[p]['outlier_share']:.0f}%" for p in ("ja", "en", "mixed"))
        ari = " / ".join(f"{v[p]['ari']:.2f}" for p in ("ja", "en", "mixed"))
        both = f"{v['mixed']['nmi']:.3f}" + (" (two spaces)" if v["spaces"] > 1 else "")
        b77 = f"{bank[key]['nmi_mean']:.3f}" if key in bank else "—"
        out.append(f"| {_ROUTES.get(key, key)} | {v['ja']['nmi']:.3f} | {v['en']['nmi']:.3f} | {both} | {ari} | {pct} | "
                   f"{100 * v['bilingual_theme_share']:.0f}% | {100 * v.get('same_main_issue_share', 0):.0f}% | "
                   f"{100 * v['bilingual_cluster_share']:.0f}% | {b77} |")
    return out


START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def sentiment_table(r: dict) -> list[str]:
    """bench/sentiment.py: each data set x method, macro-F1 / accuracy and the confusion matrix."""
    if not r:
        return []
    rows = [("jrte dev (ja hotel reviews)", r["jrte_dev"]), ("airline tweets, all (en)", r["airline"]["all"]),
            ("airline tweets, odd ids (en)", r["airline"]["odd_ids"]),
            ("bilingual_cx ja, odd ids", r["bilingual_cx"]["ja"]), ("bilingual_cx en, odd ids", r["bilingual_cx"]["en"]),
            ("sample reviews vs stars, odd rows", r["sample_reviews"])]
    names = {"rules": "rules.v1 (lexicon + VADER)", "shipped_head": "head.v1, shipped head",
             "own_labels_head": "head.v1, head fitted on the data's own labels"}
    out = ["### Sentiment: rules against the trained head (`python -m bench.sentiment`)", "",
           "The shipped head learned from nlp/data/sentiment_seed.tsv and bilingual_cx's even ids only; the own-labels "
           "head of jrte (its train rows) and of the airline tweets (even ids) is a measurement only, never shipped "
           "(CC BY-NC-SA); the sample's own head is fitted on its even rows' stars, as a store fits its own.", "",
           "| data set | method | macro-F1 | accuracy | n | confusion (rows truth neg/neu/pos, cols predicted) |",
           "|---|---|---:|---:|---:|---|"]
    for name, block in rows:
        for method, label in names.items():
            v = block.get(method)
            if v:
                matrix = " / ".join(" ".join(str(x) for x in row) for row in v["confusion"]["matrix"])
                out.append(f"| {name} | {label} | {v['macro_f1']:.3f} | {v['accuracy']:.3f} | {v['n']} | {matrix} |")
    weights = sorted({m.rsplit("_", 1)[1] for _, b in rows for m in b if m.startswith("shipped_head_weight_")},
                     key=float)
    if weights:
        out += ["", "`sentiment.head_weight` against the rules (macro-F1 of the shipped head; 0.6 is the default): "
                + "; ".join(f"{name}: " + ", ".join(f"{w} → {b[f'shipped_head_weight_{w}']['macro_f1']:.3f}"
                                                     for w in weights) for name, b in rows
                            if f"shipped_head_weight_{weights[0]}" in b)]
    sp = r.get("speed_per_1000", {})
    if sp:
        out += ["", f"Speed per 1,000 items (one process): rules.v1 {sp['rules_v1_total_s']} s; head.v1 "
                f"{sp['head_v1_total_s']} s (use.v1 embedding {sp['embed_use_v1_s']} s, the head itself "
                f"{sp['head_s']} s; in a run the vectors come from the store's cache after the first)"
                + (f"; {sp['note']}" if sp.get("note") else "") + "."]
    return out


def nightly_table(n: dict) -> list[str]:
    r = n.get("sample_daily_replay", {}).get("koe")
    if not r:
        return []
    seeds = n["sample_daily_replay"].get("over_seeds")
    if not seeds:
        delays = ", ".join(f"{k} {v} days" for k, v in sorted(r["detection_delay_days"].items())) or "not flagged"
        alarms = f"{r['stable_issue_alarms']} ({r['stable_issue_alarms_per_30_days']} per 30 days)"
        by_label = None
    else:
        fmt = lambda per: ", ".join(f"{k} {'/'.join('—' if d is None else str(d) for d in v)} days"  # noqa: E731
                                    for k, v in sorted(per.items()))
        delays, by_label = fmt(seeds["detection_delay_days_per_seed"]), fmt(seeds["detection_delay_days_by_label_per_seed"])
        alarms = (f"{' / '.join(map(str, seeds['stable_issue_alarms_per_seed']))} "
                  f"(mean {seeds['stable_issue_alarms_per_30_days_mean']} per 30 days)")
    title = "seeds " + "/".join(map(str, seeds["seeds"])) if seeds else "seed 42"
    rows = ["### Nightly runs (the sample replayed day by day, `python -m bench.nightly`)", "",
            f"An alert counts for a planted issue when most of the alerted issue's items come from the generator's "
            f"theme of it (data/sample/generate.py); UMAP {title}, figures per seed.", "",
            "| measure | value |", "|---|---|",
            f"| days replayed | {r['days']} ({r['full_runs']} full fits, {r['delta_runs']} delta runs) |",
            f"| issues that keep their id from one day to the next | "
            f"{100 * (seeds or r)['id_kept_share_mean']:.0f}% |",
            f"| detection delay of the planted issues (onset 2026-11-02), by the alerted items' theme | {delays} |"]
    if by_label:
        rows.append(f"| the same by words of the alerted issue's label (as this bench measured before) | {by_label} |")
    rows += [f"| alarms on stable issues (alerted issue not mostly a planted theme) | {alarms} |",
             f"| median run time, full / delta (sample size, seed {seeds['seeds'][0] if seeds else 42}) | "
             f"{r['full_run_s_median']} s / {r['delta_run_s_median']} s |"]
    b = n.get("sample_daily_replay_bilingual", {}).get("over_seeds")
    if b:
        fmt = lambda per: ", ".join(f"{k} {'/'.join('—' if d is None else str(d) for d in v)} days"  # noqa: E731
                                    for k, v in sorted(per.items()))
        rows += [f"| configs/bilingual.yaml (one USE space, each language centred), seeds {'/'.join(map(str, b['seeds']))}: "
                 f"detection delay by theme | {fmt(b['detection_delay_days_per_seed'])} |",
                 f"| configs/bilingual.yaml: alarms on stable issues | "
                 f"{' / '.join(map(str, b['stable_issue_alarms_per_seed']))} (mean "
                 f"{b['stable_issue_alarms_per_30_days_mean']} per 30 days); ids kept {100 * b['id_kept_share_mean']:.0f}% |"]
    return rows


def main() -> str:
    """Write summary.md and replace the block between the bench markers in README.md."""
    text = "\n".join(quality_tables(_load("quality")) + [""] + speed_table(_load("speed")) + [""]
                      + onnx_table(_load("onnx")) + [""] + nightly_table(_load("nightly")) + [""]
                      + sentiment_table(_load("sentiment")) + [""] + variants_table(_load("sentiment_variants")) + [""]
                      + stages_tables(_load("stages")) + [""] + ceilings_table(_load("ceilings"), _load("stages")) + [""]
                      + sentiment_ceilings_table(_load("ceilings")) + [""]
                      + bilingual_table(_load("bilingual")) + [""] + names_tables(_load("names")) + [""]
                      + delta_nights_table(_load("delta_nights"))) + "\n"
    (RESULTS / "summary.md").write_text(text, encoding="utf-8")
    readme = RESULTS.parents[1] / "README.md"
    content = readme.read_text(encoding="utf-8")
    if START in content and END in content:
        head, rest = content.split(START, 1)
        readme.write_text(f"{head}{START}\n{text}{END}{rest.split(END, 1)[1]}", encoding="utf-8")
    return text


if __name__ == "__main__":
    print(main())
