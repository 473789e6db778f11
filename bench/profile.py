"""Where a koe run spends its time: the nightly flow on a synthetic set under pyinstrument (a sampling profiler).

    python -m bench.profile [--n 10000]

Builds the same synthetic set as bench/speed.py (bench/synth.py), runs a full nightly run and then a delta run
(+5%), each profiled, and writes bench/results/profile.json (the run's step timings and the functions with the
most time of their own, with their share of the run) and bench/results/profile_<n>_{full,delta}.txt (the
call tree, for reading)."""

from __future__ import annotations

import argparse
import json
import shutil
import time

from bench.common import RESULTS, update_results
from bench.speed import WORK, write_config


def profiled_run(config: str, out_txt) -> dict:
    from pyinstrument import Profiler

    from flows.nightly import nightly

    profiler = Profiler(interval=0.005)
    start = time.perf_counter()
    profiler.start()
    summary = nightly(config)
    profiler.stop()
    total = time.perf_counter() - start
    out_txt.write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")
    manifest = json.loads(open(summary["files"]["manifest.json"], encoding="utf-8").read())
    return {"total_s": round(total, 2), "step_seconds": manifest["timings_s"], "clustering": summary["clustering"],
            "top_own_time": _own_time(profiler.last_session, total)}


def _own_time(session, total: float, top: int = 15) -> list[dict]:
    """The functions with the most time of their own (not in their callees), across the whole tree."""
    own: dict[str, float] = {}
    frames = [session.root_frame()]
    while frames:
        frame = frames.pop()
        if frame is None:
            continue
        key = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
        own[key] = own.get(key, 0.0) + frame.total_self_time
        frames.extend(frame.children)
    ranked = sorted(own.items(), key=lambda kv: -kv[1])[:top]
    return [{"function": k, "seconds": round(v, 2), "share": round(v / total, 3)} for k, v in ranked]


def main() -> dict:
    from bench.synth import append_delta, write_feedback

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    args = parser.parse_args()
    work = WORK / f"profile-{args.n}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    write_feedback(work / "feedback.csv", args.n)
    config = str(write_config(work))
    full = profiled_run(config, RESULTS / f"profile_{args.n}_full.txt")
    append_delta(work / "feedback.csv", 0.05)
    delta = profiled_run(config, RESULTS / f"profile_{args.n}_delta.txt")
    result = {"n": args.n, "full": full, "delta": delta}
    update_results("profile", f"n{args.n}", result)
    print(json.dumps(result, indent=1, ensure_ascii=False))
    shutil.rmtree(work, ignore_errors=True)
    return result


if __name__ == "__main__":
    main()
