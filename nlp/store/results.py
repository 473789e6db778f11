"""Each run's results (assignments, clusters, issue events) and the known issues' states."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from nlp.store.database import Database
from nlp.store.runs import Runs


class Results:
    """Run results and issue states (``store.results``); the latest results are those of ``runs``' latest
    completed run."""

    def __init__(self, db: Database, runs: Runs):
        self.db, self.runs = db, runs

    def save(self, run_id: str, assignments: pd.DataFrame, clusters: pd.DataFrame,
                     issues: pd.DataFrame | None = None, events: pd.DataFrame | None = None) -> None:
        """Replace this run's assignments, clusters, issue events and issue states, in one transaction. The issue
        states become the known issues when the run completes (store.runs.finish), not before."""
        with self.db.transaction() as con:
            for table in ("assignments", "clusters", "issue_events", "pending_issues"):
                con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
            if issues is not None and len(issues):
                i = issues.copy()
                i["keyphrases_json"] = [json.dumps(k, ensure_ascii=False) for k in i.pop("keyphrases")]
                i["label_history_json"] = [json.dumps(h, ensure_ascii=False) for h in i.pop("label_history")]
                i["centroid"] = [np.asarray(c, dtype=np.float32).tobytes() for c in i["centroid"]]
                i.insert(0, "run_id", run_id)
                con.register("i", i)
                con.execute("INSERT INTO pending_issues BY NAME SELECT * FROM i")
            if events is not None and len(events):
                e = events[["issue_id", "event", "related_issue", "detail"]].copy()
                e.insert(0, "run_id", run_id)
                con.register("e", e)
                con.execute("INSERT INTO issue_events SELECT * FROM e")
            a = assignments[["item_id", "issue_id", "centrality", "stage", "stage_score", "sentiment"]].copy()
            a.insert(0, "run_id", run_id)
            c = clusters[["issue_id", "space", "size", "label"]].copy()
            c.insert(0, "run_id", run_id)
            c["keyphrases_json"] = [json.dumps(k, ensure_ascii=False) for k in clusters["keyphrases"]]
            c["verbatims_json"] = [json.dumps(v, ensure_ascii=False) for v in clusters["verbatims"]]
            names = clusters["names"] if "names" in clusters else [{}] * len(clusters)
            c["names_json"] = [json.dumps(n if isinstance(n, dict) else {}, ensure_ascii=False) for n in names]
            con.register("a", a)
            con.register("c", c)
            con.execute("INSERT INTO assignments SELECT * FROM a")
            con.execute("INSERT INTO clusters BY NAME SELECT * FROM c")

    def latest(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The latest completed run's assignments (item_id, issue_id, centrality, stage, stage_score,
        sentiment) and clusters (issue_id, space, size, label, keyphrases, verbatims, names: the name in each other report
        language); empty before the first."""
        run_id = self.runs.latest_id()
        assignments = self.db.table("assignments", "WHERE run_id = ?", [run_id]).drop(columns="run_id")
        clusters = self.db.table("clusters", "WHERE run_id = ?", [run_id]).drop(columns="run_id")
        clusters["keyphrases"] = clusters.pop("keyphrases_json").map(json.loads)
        clusters["verbatims"] = clusters.pop("verbatims_json").map(json.loads)
        names = clusters.pop("names_json") if "names_json" in clusters else pd.Series(None, index=clusters.index)
        clusters["names"] = names.map(lambda s: json.loads(s) if isinstance(s, str) else {})  # {} in older stores
        return assignments, clusters

    def issue_states(self) -> pd.DataFrame:
        """Every known issue with its centroid (np.float32), keyphrases (list) and the model_key of the embedder
        whose vectors made its centroid and radius (None for issues stored before koe recorded it)."""
        if not self.db.path.exists():
            return pd.DataFrame(columns=["issue_id", "space", "label", "keyphrases", "centroid", "radius", "status",
                                         "first_seen_run", "first_seen_at", "label_history", "model_key"])
        frame = self.db.table("issues", "ORDER BY issue_id")
        keys = frame["model_key"] if "model_key" in frame else pd.Series(None, index=frame.index)  # read-only, old
        frame["model_key"] = keys.astype(object).where(keys.notna(), None)
        frame["centroid"] = [np.frombuffer(b, dtype=np.float32) for b in frame["centroid"]]
        frame["keyphrases"] = frame.pop("keyphrases_json").map(json.loads)
        frame["label_history"] = frame.pop("label_history_json").map(json.loads)
        return frame

    def history(self) -> pd.DataFrame:
        """Every stored item with its most recent result (issue, stage, sentiment) from any run: the basis
        of trends beyond the current window."""
        with self.db.connect(read_only=True) as con:
            frame = con.execute("""
                SELECT i.item_id, i.created_at, i.source_kind, a.issue_id, a.stage, a.sentiment
                FROM items i JOIN (
                    SELECT a.*, row_number() OVER (PARTITION BY a.item_id ORDER BY r.started_at DESC) AS k
                    FROM assignments a JOIN runs r USING (run_id)) a
                ON i.item_id = a.item_id AND a.k = 1
                ORDER BY i.item_id""").df()
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
        return frame

    def issue_events(self, run_id: str) -> pd.DataFrame:
        """The issue events of run ``run_id`` (run_id, issue_id, event, related_issue, detail)."""
        return self.db.table("issue_events", "WHERE run_id = ?", [run_id])
