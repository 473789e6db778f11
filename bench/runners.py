"""runner: local vs runner: dask (a 2-worker distributed.LocalCluster) on the same synthetic set: items per
second, peak RSS (the flow's process, and its whole process tree with the Dask workers), and whether the two
runs gave the same issue of every item.

    python -m bench.runners [--sizes 10000] [--runners local,dask]

With one runner it measures throughput and memory at that size only (e.g. ``--sizes 300000 --runners local``
for the cost per item at scale).

Each run is a fresh subprocess on a fresh store (bench/speed.py's child), same data (bench/synth.py), same
config apart from ``runner``. Writes bench/results/runners.json."""

from __future__ import annotations

import argparse
import shutil

import yaml

from bench.common import update_results
from bench.speed import WORK, run_child, write_config


def measure(n: int, runners: tuple[str, ...] = ("local", "dask")) -> dict:
    from bench.synth import write_feedback
    from nlp.store import Store

    base = WORK / f"runners-{n}"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    write_feedback(base / "feedback.csv", n)
    out, assigned = {}, {}
    for runner in runners:
        work = base / runner
        work.mkdir()
        shutil.copy(base / "feedback.csv", work / "feedback.csv")
        config = write_config(work)
        raw = yaml.safe_load(config.read_text(encoding="utf-8"))
        raw["runner"] = runner
        config.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
        result = run_child("koe", work, n, f"koe_{runner}")
        out[runner] = {"total_s": result["total_s"], "items_per_s": round(n / result["total_s"], 1),
                       "step_seconds": result["timings_s"], "peak_rss_mb": result["peak_rss_mb"],
                       "tree_peak_rss_mb": result["tree_peak_rss_mb"], "n_clusters": result["n_clusters"],
                       "other_cpu_share": result["other_cpu_share"]}
        print(f"[n={n}] {runner}: {result['total_s']:.1f} s, {out[runner]['items_per_s']} items/s, "
              f"tree peak RSS {result['tree_peak_rss_mb']:.0f} MiB", flush=True)
        frame = Store(str(work / "koe.duckdb")).table("assignments")
        assigned[runner] = frame.sort_values("item_id")[["item_id", "issue_id"]].reset_index(drop=True)
    if len(assigned) == 2:
        out["same_issue_of_every_item"] = bool(assigned["local"].equals(assigned["dask"]))
    out["n"] = n
    shutil.rmtree(base, ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000", help="comma-separated item counts")
    parser.add_argument("--runners", default="local,dask", help="comma-separated: local, dask")
    args = parser.parse_args()
    runners = tuple(args.runners.split(","))
    for n in (int(s) for s in args.sizes.split(",")):
        update_results("runners", f"n{n}" + ("" if len(runners) == 2 else f"_{runners[0]}"), measure(n, runners))


if __name__ == "__main__":
    main()
