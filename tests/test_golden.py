"""Golden ranking of the bundled sample, compared with tests/golden/: a full fit and the delta run of the same
input after it (conftest.sample_runs), and every week of the 8-week replay (conftest.sample_backfill: full fits
and delta runs that place new items into known issues).

A change to the ranking or the alerts fails here until the snapshot is updated on purpose:

    KOE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py

rewrites tests/golden/sample_ranking.json from the runs of this checkout; commit it with the change that
explains the difference (the diff of the JSON is the review). ``KOE_GOLDEN_DUMP=<dir>`` also writes the delta
run's report files there, neutral of run id, dates and timings (tests/run_snapshot.py), to diff the report bytes
of two checkouts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

GOLDEN = Path(__file__).parent / "golden" / "sample_ranking.json"
UPDATE = os.environ.get("KOE_UPDATE_GOLDEN") == "1"
DUMP = os.environ.get("KOE_GOLDEN_DUMP")

# what a ranking row is judged by; negative_share rounded so that float noise in the last digits is not a change
_RANKING = ["stage", "rank", "issue_id", "count", "negative_share", "label"]
_ALERTS = ["issue_id", "alert", "stage", "label", "recent_count"]


def ranking_rows(pain: pd.DataFrame) -> list[dict]:
    """(stage, rank, issue id, count, negative share to 3 places, label) per pain point, in stage and rank order."""
    rows = pain[_RANKING].assign(negative_share=pain["negative_share"].round(3))
    rows = rows.sort_values(["stage", "rank"], kind="stable")
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in rows.to_dict("records")]


def alert_rows(alerts: pd.DataFrame) -> list[dict]:
    """(issue id, alert, stage, label, recent count) per alert, in issue and alert order."""
    rows = alerts[_ALERTS].sort_values(["issue_id", "alert"], kind="stable")
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in rows.to_dict("records")]


def weekly_rows(sample_backfill) -> list[dict]:
    """Per replayed week, in date order: its run date, clustering (full or delta), ranking and alerts."""
    from nlp.store import Store

    runs = Store(sample_backfill["tmp"] / "koe.duckdb").table("runs", "WHERE status = 'completed' ORDER BY run_id")
    weeks = []
    for summary in map(json.loads, runs["summary_json"]):
        out = Path(summary["report"]).parent
        weeks.append({"run_date": out.name, "clustering": summary["clustering"],
                      "ranking": ranking_rows(pd.read_csv(out / "pain_points.csv")),
                      "alerts": alert_rows(pd.read_csv(out / "alerts.csv"))})
    return weeks


def snapshot(sample_runs, sample_backfill) -> dict:
    second = sample_runs["second"]
    return {
        "full": {"clustering": sample_runs["first"]["clustering"],
                 "ranking": ranking_rows(sample_runs["first_pain"]),
                 "alerts": alert_rows(sample_runs["first_alerts"])},
        "delta": {"clustering": second["clustering"],
                  "ranking": ranking_rows(pd.read_csv(second["files"]["pain_points.csv"])),
                  "alerts": alert_rows(pd.read_csv(second["files"]["alerts.csv"]))},
        "weekly": weekly_rows(sample_backfill),
    }


def test_sample_ranking_matches_the_golden_snapshot(sample_runs, sample_backfill):
    got = snapshot(sample_runs, sample_backfill)
    if DUMP:
        _dump(sample_runs, sample_backfill, Path(DUMP))
    if UPDATE:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert got["full"]["clustering"] == "full" and got["delta"]["clustering"] == "delta"
    assert len(expected["full"]["ranking"]) > 10  # a snapshot of an empty ranking would prove nothing
    hint = "; if the change is intended: KOE_UPDATE_GOLDEN=1 pytest tests/test_golden.py, and commit the JSON"
    assert {w["clustering"] for w in expected["weekly"]} == {"full", "delta"}
    assert any(a["alert"] == "new" for w in expected["weekly"] for a in w["alerts"])
    runs = {"full": (got["full"], expected["full"]), "delta": (got["delta"], expected["delta"])}
    assert [w["run_date"] for w in got["weekly"]] == [w["run_date"] for w in expected["weekly"]]
    runs.update({f"week {e['run_date']}": (g, e) for g, e in zip(got["weekly"], expected["weekly"])})
    for run, (g_run, e_run) in runs.items():
        assert g_run["clustering"] == e_run["clustering"], f"{run}: clustering differs{hint}"
        for part in ("ranking", "alerts"):
            assert len(g_run[part]) == len(e_run[part]), f"{run} {part}: row count differs{hint}"
            for i, (g, e) in enumerate(zip(g_run[part], e_run[part])):
                assert g == e, f"{run} {part} row {i}: got {g}, expected {e}{hint}"


def _dump(sample_runs, sample_backfill, out: Path) -> None:
    from tests.run_snapshot import snapshot_run

    for name, config, summary in (("delta", sample_runs["config"], sample_runs["second"]),
                                  ("english", sample_runs["config"], sample_runs["english"]),
                                  ("backfill_last", sample_backfill["config"], sample_backfill["summary"])):
        (out / name).mkdir(parents=True, exist_ok=True)
        for file, text in snapshot_run(config, summary)["files"].items():
            (out / name / file).write_text(text, encoding="utf-8")
