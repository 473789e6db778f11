"""The run ledger: each run's start, end, status and summary, and which run came before which."""

from __future__ import annotations

import json

import pandas as pd

from nlp.store.database import Database


class Runs:
    """The runs table (``store.runs``)."""

    def __init__(self, db: Database):
        self.db = db

    def start(self, run_id: str, started_at: pd.Timestamp, config: dict) -> None:
        """Record run ``run_id`` as running, with its resolved config."""
        with self.db.transaction() as con:
            con.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, NULL, 'running', ?, NULL)",
                        [run_id, started_at.to_pydatetime(), json.dumps(config, ensure_ascii=False)])

    def finish(self, run_id: str, finished_at: pd.Timestamp, summary: dict, status: str = "completed") -> None:
        """Close the run; a completed run's issue states (from store.results.save) become the known issues."""
        with self.db.transaction() as con:
            if status == "completed":
                con.execute("INSERT OR REPLACE INTO issues BY NAME SELECT * EXCLUDE (run_id) FROM pending_issues "
                            "WHERE run_id = ?", [run_id])
            con.execute("DELETE FROM pending_issues WHERE run_id = ?", [run_id])
            con.execute("UPDATE runs SET finished_at = ?, status = ?, summary_json = ? WHERE run_id = ?",
                        [finished_at.to_pydatetime(), status, json.dumps(summary, ensure_ascii=False, default=str),
                         run_id])

    def latest_id(self) -> str | None:
        """The latest completed run's id; None before the first."""
        if not self.db.path.exists():
            return None
        with self.db.connect(read_only=True) as con:
            row = con.execute("SELECT run_id FROM runs WHERE status = 'completed' "
                              "ORDER BY finished_at DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def items_seen_before(self, run_id: str) -> set[str] | None:
        """The item ids of the latest completed run that started before ``run_id`` (what the follow-up queue
        marks as not new); None when there is no such run."""
        if not self.db.path.exists():
            return None
        with self.db.connect(read_only=True) as con:
            row = con.execute("SELECT run_id FROM runs WHERE status = 'completed' AND run_id < ? "
                              "ORDER BY run_id DESC LIMIT 1", [run_id]).fetchone()
            if row is None:
                return None
            return {r[0] for r in con.execute("SELECT item_id FROM assignments WHERE run_id = ?", [row[0]]).fetchall()}

    def last_full_fit(self) -> dict | None:
        """The summary of the latest completed run that fitted the clustering from scratch."""
        if not self.db.path.exists():
            return None
        with self.db.connect(read_only=True) as con:
            rows = con.execute("SELECT summary_json FROM runs WHERE status = 'completed' "
                               "ORDER BY finished_at DESC").fetchall()
        for (summary,) in rows:
            data = json.loads(summary or "{}")
            if data.get("clustering") == "full":
                return data
        return None

    def summary(self, run_id: str) -> dict:
        """The summary a run was closed with ({} while it runs)."""
        with self.db.connect(read_only=True) as con:
            row = con.execute("SELECT summary_json FROM runs WHERE run_id = ?", [run_id]).fetchone()
        return json.loads(row[0] or "{}")

    def completed_before(self, run_id: str) -> bool:
        """Whether a run completed before ``run_id`` started."""
        with self.db.connect(read_only=True) as con:
            return con.execute("SELECT count(*) FROM runs WHERE status = 'completed' AND run_id < ?",
                               [run_id]).fetchone()[0] > 0

    def close_crashed(self) -> None:
        """Runs still 'running' when a run takes the lock died without finishing (killed, or the machine went
        down): no live process can hold them. Mark them 'crashed' and drop their partial results, so that no
        later run reads them as a run's."""
        note = json.dumps({"crashed": "found still running by the next run; its partial results were dropped",
                           "found_at": f"{pd.Timestamp.now(tz='UTC'):%Y-%m-%d %H:%M:%S} UTC"})
        with self.db.transaction() as con:
            dead = "SELECT run_id FROM runs WHERE status = 'running'"
            for table in ("assignments", "clusters", "issue_events", "pending_issues"):
                con.execute(f"DELETE FROM {table} WHERE run_id IN ({dead})")
            con.execute("UPDATE runs SET status = 'crashed', summary_json = ? WHERE status = 'running'", [note])
