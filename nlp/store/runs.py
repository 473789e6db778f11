"""The run ledger: each run's start, end, status and summary, and which run came before which."""

from __future__ import annotations

import json

import pandas as pd

from nlp.store.database import Database


class RunLedger(Database):
    """The runs table."""

    def start_run(self, run_id: str, started_at: pd.Timestamp, config: dict) -> None:
        with self.transaction() as con:
            con.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, NULL, 'running', ?, NULL)",
                        [run_id, started_at.to_pydatetime(), json.dumps(config, ensure_ascii=False)])

    def finish_run(self, run_id: str, finished_at: pd.Timestamp, summary: dict, status: str = "completed") -> None:
        """Close the run; a completed run's issue states (from save_results) become the known issues."""
        with self.transaction() as con:
            if status == "completed":
                con.execute("INSERT OR REPLACE INTO issues BY NAME SELECT * EXCLUDE (run_id) FROM pending_issues "
                            "WHERE run_id = ?", [run_id])
            con.execute("DELETE FROM pending_issues WHERE run_id = ?", [run_id])
            con.execute("UPDATE runs SET finished_at = ?, status = ?, summary_json = ? WHERE run_id = ?",
                        [finished_at.to_pydatetime(), status, json.dumps(summary, ensure_ascii=False, default=str),
                         run_id])

    def latest_run_id(self) -> str | None:
        if not self.path.exists():
            return None
        with self.connect(read_only=True) as con:
            row = con.execute("SELECT run_id FROM runs WHERE status = 'completed' "
                              "ORDER BY finished_at DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def items_seen_before(self, run_id: str) -> set[str] | None:
        """The item ids of the latest completed run that started before ``run_id`` (what the follow-up queue
        marks as not new); None when there is no such run."""
        if not self.path.exists():
            return None
        with self.connect(read_only=True) as con:
            row = con.execute("SELECT run_id FROM runs WHERE status = 'completed' AND run_id < ? "
                              "ORDER BY run_id DESC LIMIT 1", [run_id]).fetchone()
            if row is None:
                return None
            return {r[0] for r in con.execute("SELECT item_id FROM assignments WHERE run_id = ?", [row[0]]).fetchall()}

    def last_full_fit(self) -> dict | None:
        """The summary of the latest completed run that fitted the clustering from scratch."""
        if not self.path.exists():
            return None
        with self.connect(read_only=True) as con:
            rows = con.execute("SELECT summary_json FROM runs WHERE status = 'completed' "
                               "ORDER BY finished_at DESC").fetchall()
        for (summary,) in rows:
            data = json.loads(summary or "{}")
            if data.get("clustering") == "full":
                return data
        return None

    def run_summary(self, run_id: str) -> dict:
        """The summary a run was closed with ({} while it runs)."""
        with self.connect(read_only=True) as con:
            row = con.execute("SELECT summary_json FROM runs WHERE run_id = ?", [run_id]).fetchone()
        return json.loads(row[0] or "{}")

    def completed_before(self, run_id: str) -> bool:
        """Whether a run completed before ``run_id`` started."""
        with self.connect(read_only=True) as con:
            return con.execute("SELECT count(*) FROM runs WHERE status = 'completed' AND run_id < ?",
                               [run_id]).fetchone()[0] > 0
