"""Nightly behaviour on a day-by-day replay of the bundled sample: issue-id stability, detection delay of the
planted issues (login bug from 2026-11-02, delivery delays surging from 2026-11-02), false alarms on stable
issues, and delta vs full run time.

    python -m bench.nightly            # writes bench/results/nightly.json"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from bench.common import REPO, update_results

ONSET = "2026-11-02"
PLANTED = {"login_bug": ("ログイン", "log in", "login", "sign in"), "delivery_delay": ("届", "配送", "遅")}


def replay(config: str, days: list[str]) -> list[dict]:
    from flows.nightly import nightly

    out = []
    for day in days:
        start = time.perf_counter()
        summary = nightly(config, until=day)
        out.append({"day": day, "seconds": round(time.perf_counter() - start, 2),
                    "clustering": summary.get("clustering"), "alerts": summary.get("alerts", [])})
        print(day, out[-1]["clustering"], out[-1]["seconds"], len(out[-1]["alerts"]), flush=True)
    return out


def measures(runs: list[dict], store_path: str) -> dict:
    from nlp.store import Store

    store = Store(store_path)
    history = dict(zip(store.issue_states()["issue_id"], store.issue_states()["label_history"]))
    events = store.table("issue_events")
    per_run = events.groupby("run_id")["event"].apply(list)
    ordered = store.table("runs", "WHERE status = 'completed' ORDER BY started_at")["run_id"].tolist()
    # share of the previous run's issues that the next run continues (not dormant, not merged away)
    kept = [1.0 - sum(e in ("dormant", "merged") for e in per_run.get(cur, [])) / max(_active(store, prev), 1)
            for prev, cur in zip(ordered, ordered[1:])]

    def planted(issue: str, run_id: str) -> str | None:
        """The planted issue an alert names, by the issue's label as the reader saw it in that run's report."""
        label = next((h["label"] for h in reversed(history.get(issue, [])) if h["run_id"] <= run_id), "")
        return next((k for k, words in PLANTED.items() if any(w in label for w in words)), None)

    delays, false_alarms = {}, 0
    for run, run_id in zip(runs, ordered):
        for a in run["alerts"]:
            kind = planted(a["issue_id"], run_id)
            if kind and a["alert"] in ("new", "growing") and run["day"] >= ONSET and kind not in delays:
                delays[kind] = (pd.Timestamp(run["day"]) - pd.Timestamp(ONSET)).days
            if not kind and a["alert"] in ("growing", "shrinking", "sentiment_drop"):
                false_alarms += 1
    full = [r["seconds"] for r in runs if r["clustering"] == "full"]
    delta = [r["seconds"] for r in runs if r["clustering"] == "delta"]
    return {"days": len(runs), "id_kept_share_mean": round(sum(kept) / max(len(kept), 1), 4),
            "detection_delay_days": delays, "stable_issue_alarms": false_alarms,
            "stable_issue_alarms_per_30_days": round(30 * false_alarms / max(len(runs), 1), 2),
            "full_runs": len(full), "delta_runs": len(delta),
            "full_run_s_median": _median(full), "delta_run_s_median": _median(delta)}


def _active(store, run_id: str) -> int:
    return len(store.table("assignments", "WHERE run_id = ? AND cluster_id <> 'outlier'", [run_id])
               ["cluster_id"].unique())


def _median(values: list[float]) -> float | None:
    return round(float(pd.Series(values).median()), 2) if values else None


def main() -> dict:
    import yaml

    tmp = Path(tempfile.mkdtemp(prefix="koe-nightly-"))
    raw = yaml.safe_load((REPO / "configs" / "default.yaml").read_text(encoding="utf-8"))
    for source in raw["sources"]:
        source["path"] = str(REPO / source["path"])
    raw["store"]["path"], raw["report"]["out_dir"] = str(tmp / "koe.duckdb"), str(tmp / "reports")
    config = tmp / "config.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    days = [d.strftime("%Y-%m-%d") for d in pd.date_range("2026-10-05", "2026-11-22", freq="D")]
    runs = replay(str(config), days)
    result = {"koe": measures(runs, raw["store"]["path"]), "runs": runs}
    update_results("nightly", "sample_daily_replay", result)
    print(json.dumps(result["koe"], ensure_ascii=False, indent=1))
    return result


if __name__ == "__main__":
    main()
