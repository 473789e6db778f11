"""Delta nights keep the full fit's shape (issue 17): the airline tweets (United + American, configs/airline.yaml)
replayed day by day as a nightly deployment would see them (one run per day, a full fit on the first and every
`cluster.refit_every_days`, delta runs between), and for each night a full fit of the same data on a store of its
own. Per night: the kind of run, the outlier share and the largest issue's share of the items the run saw, for the
replay and for that night's full fit.

    python -m bench.delta_nights

Writes bench/results/delta_nights.json."""

from __future__ import annotations

import json
import tempfile
import time

import pandas as pd
import yaml

from bench.common import DATA, REPO, update_results

TWEETS = DATA / "airline_tweets" / "tweets_united_american.csv"


def _config(tmp: str, name: str) -> str:
    raw = yaml.safe_load((REPO / "configs" / "airline.yaml").read_text(encoding="utf-8"))
    raw["sources"][0]["path"] = str(TWEETS)
    raw["store"]["path"] = f"{tmp}/{name}.duckdb"
    raw["report"]["out_dir"] = f"{tmp}/{name}-reports"
    path = f"{tmp}/{name}.yaml"
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(raw, fh, allow_unicode=True)
    return path


def _shape(store_path: str, run_id: str) -> dict:
    """Outlier share and largest issue share of one run's assignments."""
    from nlp.store import Store

    store = Store(store_path)
    assigned = store.table("assignments", "WHERE run_id = ?", [run_id])
    runs = store.table("runs", "WHERE run_id = ?", [run_id])
    summary = json.loads(runs["summary_json"].iloc[0] or "{}")
    clustered = assigned["issue_id"] != "outlier"
    sizes = assigned.loc[clustered, "issue_id"].value_counts()
    return {"kind": summary.get("clustering", "?"), "n": int(len(assigned)),
            "outlier_share": round(float((~clustered).mean()), 4),
            "largest_share": round(float(sizes.iloc[0] / len(assigned)), 4) if len(sizes) else 0.0,
            "largest_issue": str(sizes.index[0]) if len(sizes) else None, "n_issues": int(len(sizes))}


def with_last_fit_gaps(nights: list[dict]) -> list[dict]:
    """Each night with its gaps to the replay's last full fit (what a delta night promises to keep), beside its
    gaps to a full fit of that night's data (what the next full fit would make of it)."""
    out, last = [], None
    for night in nights:
        if night["replay"]["kind"] == "full":
            last = night["replay"]
        gaps = {f"{key}_gap_to_last_fit": round(night["replay"][key] - last[key], 4)
                for key in ("outlier_share", "largest_share")} if last else {}
        out.append({**night, **gaps})
    return out


def max_gaps(nights: list[dict]) -> dict:
    deltas = [n for n in nights if n["replay"]["kind"] == "delta"]
    return {f"max_{key}_delta_nights": max((abs(n[key]) for n in deltas if key in n), default=None)
            for key in ("outlier_share_gap", "largest_share_gap", "outlier_share_gap_to_last_fit",
                        "largest_share_gap_to_last_fit")}


def main() -> dict:
    from flows.nightly import nightly
    from nlp.config import load_config

    started = time.perf_counter()
    tmp = tempfile.mkdtemp(prefix="koe-delta-nights-")
    replay = _config(tmp, "replay")
    created = pd.to_datetime(pd.read_csv(TWEETS, usecols=["tweet_created"])["tweet_created"], utc=True)
    zone = load_config(replay).ingest.timezone
    days = sorted({d.strftime("%Y-%m-%d") for d in created.dt.tz_convert(zone)})[1:]  # a first night of 2 days
    nights = []
    for day in days:
        summary = nightly(replay, until=day)
        night = {"day": day, "replay": _shape(load_config(replay).store.path, summary["run_id"])}
        fresh = _config(tmp, f"full-{day}")
        full = nightly(fresh, until=day)
        night["full_fit"] = _shape(load_config(fresh).store.path, full["run_id"])
        for key in ("outlier_share", "largest_share"):
            night[f"{key}_gap"] = round(night["replay"][key] - night["full_fit"][key], 4)
        nights.append(night)
        print(day, night, flush=True)
    out = {"nights": with_last_fit_gaps(nights), "seconds": round(time.perf_counter() - started, 1)}
    out.update(max_gaps(out["nights"]))
    update_results("delta_nights", "airline", out)
    return out


if __name__ == "__main__":
    result = main()
    print({k: v for k, v in result.items() if k != "nights"})
