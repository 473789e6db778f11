"""Ingest alone: a synthetic CSV (bench/synth.py) into a fresh store, then the same file again, then with 5% new
rows appended; wall time, rows reused (not parsed again) and peak RSS of each pass, in a fresh process per size.

    python -m bench.ingest [--sizes 100000,300000]      # writes bench/results/ingest.json"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time

from bench.common import update_results
from bench.speed import WORK

COLUMNS = {"source_id": "id", "created_at": "date", "text": "text", "rating": "rating"}


def child(n: int) -> dict:
    from bench.common import peak_rss_mb
    from bench.synth import append_delta, write_feedback
    from nlp.config import IngestConfig, SourceConfig
    from nlp.sources import iter_source
    from nlp.store import Store

    work = WORK / f"ingest-{n}"
    shutil.rmtree(work, ignore_errors=True)
    write_feedback(work / "feedback.csv", n)
    store, ingest = Store(work / "koe.duckdb"), IngestConfig()
    source = SourceConfig(name="synthetic", kind="review", path="feedback.csv", columns=COLUMNS)
    out = {"n": n, "batch_size": ingest.batch_size, "rss_before_mb": peak_rss_mb()}
    for name in ("first", "again", "delta"):
        if name == "delta":
            append_delta(work / "feedback.csv")
        start, items, reused = time.perf_counter(), 0, 0
        for batch in iter_source(source, ingest, work, known=store.items.by_row_hash):
            store.items.upsert(batch.items, name)
            store.items.quarantine(batch.quarantine, name)
            items, reused = items + len(batch.items), reused + batch.reused
        out[name] = {"seconds": round(time.perf_counter() - start, 2), "items": items, "reused_rows": reused,
                     "peak_rss_mb": peak_rss_mb()}
    shutil.rmtree(work, ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,300000")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    for n in (int(s) for s in args.sizes.split(",")):
        done = subprocess.run([sys.executable, "-m", "bench.ingest", "--child", str(n)], capture_output=True,
                              text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print(result, flush=True)
        update_results("ingest", f"n{n}", result)


if __name__ == "__main__":
    main()
