"""Each run's results (assignments, clusters, issue events) and the known issues' states; what a run finds in
the store before it starts (``prior_run``)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from nlp.records import PriorRun, StoredRun
from nlp.store.runs import RunLedger


class ResultStore(RunLedger):
    """Run results and issue states."""

    def save_results(self, run_id: str, assignments: pd.DataFrame, clusters: pd.DataFrame,
                     issues: pd.DataFrame | None = None, events: pd.DataFrame | None = None) -> None:
        """Replace this run's assignments, clusters, issue events and issue states, in one transaction. The issue
        states become the known issues when the run completes (finish_run), not before."""
        with self.transaction() as con:
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

    def latest_results(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The latest completed run's assignments (item_id, issue_id, centrality, stage, stage_score,
        sentiment) and clusters (issue_id, space, size, label, keyphrases, verbatims, names: the name in each other report
        language); empty before the first."""
        run_id = self.latest_run_id()
        assignments = self.table("assignments", "WHERE run_id = ?", [run_id]).drop(columns="run_id")
        clusters = self.table("clusters", "WHERE run_id = ?", [run_id]).drop(columns="run_id")
        clusters["keyphrases"] = clusters.pop("keyphrases_json").map(json.loads)
        clusters["verbatims"] = clusters.pop("verbatims_json").map(json.loads)
        names = clusters.pop("names_json") if "names_json" in clusters else pd.Series(None, index=clusters.index)
        clusters["names"] = names.map(lambda s: json.loads(s) if isinstance(s, str) else {})  # {} in older stores
        return assignments, clusters

    def latest_members(self, include_outliers: bool = False) -> pd.DataFrame:
        """item_id, issue_id of the latest completed run (empty before the first)."""
        run_id = self.latest_run_id()
        if run_id is None:
            return pd.DataFrame(columns=["item_id", "issue_id"])
        where = "WHERE run_id = ?" + ("" if include_outliers else " AND issue_id <> 'outlier'")
        frame = self.table("assignments", where, [run_id])
        return frame[["item_id", "issue_id"]]

    def issue_states(self) -> pd.DataFrame:
        """Every known issue with its centroid (np.float32), keyphrases (list) and the model_key of the embedder
        whose vectors made its centroid and radius (None for issues stored before koe recorded it)."""
        if not self.path.exists():
            return pd.DataFrame(columns=["issue_id", "space", "label", "keyphrases", "centroid", "radius", "status",
                                         "first_seen_run", "first_seen_at", "label_history", "model_key"])
        frame = self.table("issues", "ORDER BY issue_id")
        keys = frame["model_key"] if "model_key" in frame else pd.Series(None, index=frame.index)  # read-only, old
        frame["model_key"] = keys.astype(object).where(keys.notna(), None)
        frame["centroid"] = [np.frombuffer(b, dtype=np.float32) for b in frame["centroid"]]
        frame["keyphrases"] = frame.pop("keyphrases_json").map(json.loads)
        frame["label_history"] = frame.pop("label_history_json").map(json.loads)
        return frame

    def history(self) -> pd.DataFrame:
        """Every stored item with its most recent result (issue, stage, sentiment) from any run: the basis
        of trends beyond the current window."""
        with self.connect(read_only=True) as con:
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
        return self.table("issue_events", "WHERE run_id = ?", [run_id])

    def prior_run(self, run_id: str) -> PriorRun:
        """What the store holds before run ``run_id`` completes, read once (nlp.records.PriorRun)."""
        assignments, clusters = self.latest_results()
        return PriorRun(run_id=self.latest_run_id(), last_full_fit=self.last_full_fit(), issues=self.issue_states(),
                        assignments=assignments, clusters=clusters, history=self.history(),
                        seen_before=self.items_seen_before(run_id))

    def stored_run(self) -> StoredRun | None:
        """The latest completed run, read once for a re-render (nlp.records.StoredRun); None before the first."""
        run_id = self.latest_run_id()
        if run_id is None:
            return None
        assignments, clusters = self.latest_results()
        summary = self.run_summary(run_id)
        window = summary.get("window")
        start, end = (None, None) if window is None else (None if t is None else pd.Timestamp(t) for t in window)
        return StoredRun(run_id=run_id, summary=summary, assignments=assignments, clusters=clusters,
                         items=self.items(start, end), issues=self.issue_states(), events=self.issue_events(run_id),
                         first_run=not self.completed_before(run_id), seen_before=self.items_seen_before(run_id),
                         history=self.history())
