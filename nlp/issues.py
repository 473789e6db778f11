"""Issue identity across runs: this run's clusters are matched one-to-one to the previous run's issues by
centroid similarity and member overlap (Hungarian assignment with a threshold). Matched clusters keep the
issue id (and label, unless their keyphrases changed a lot); unmatched ones become new issues, recorded as
splits when most of their members came from one previous issue; previous issues absorbed by another are
recorded as merges."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nlp.cluster import OUTLIER
from nlp.config import IssuesConfig
from nlp.label import cluster_centroids
from nlp.matching import label_changes, match_issues, merged_issues, new_issue_ids
from nlp.records import IssueTracking, KnownIssues, PriorRun


def track_issues(assigned: pd.DataFrame, clusters: pd.DataFrame, vectors: dict[str, np.ndarray],
                 previous: pd.DataFrame, previous_members: pd.DataFrame, run_id: str, as_of: pd.Timestamp,
                 cfg: IssuesConfig, model_keys: dict[str, str] | None = None,
                 ) -> tuple[dict[str, str], pd.DataFrame, pd.DataFrame]:
    """Match this run's clusters to the known issues.

    Returns (cluster_id -> issue_id, issue rows to upsert, events). ``previous`` is the store's issue states,
    ``previous_members`` the latest run's item_id -> issue_id (only members still in ``assigned`` count),
    ``model_keys`` the embedder's model key of each space (stored with the issues: centroids of another model are
    never compared with this run's, ``match_issues``)."""
    centroids = cluster_centroids(assigned, vectors)
    ids = assigned[assigned["cluster_id"] != OUTLIER].groupby("cluster_id")["item_id"].apply(set)
    current = pd.DataFrame({"cluster_id": pd.Series(list(centroids), dtype=object),
                            "centroid": pd.Series(list(centroids.values()), dtype=object)})
    current["space"] = current["cluster_id"].map(dict(zip(assigned["cluster_id"], assigned["space"])))
    current["members"] = current["cluster_id"].map(ids)
    current["model_key"] = current["space"].map(model_keys or {}).astype(object)
    current["model_key"] = current["model_key"].where(current["model_key"].notna(), None)
    # an issue's radius: the similarity to its centroid that most of its members reach (for nightly deltas)
    radius = assigned[assigned["cluster_id"] != OUTLIER].groupby("cluster_id")["centrality"] \
        .quantile(cfg.radius_quantile)
    current["radius"] = current["cluster_id"].map(radius).astype(float)
    in_window = previous_members[previous_members["item_id"].isin(set(assigned["item_id"]))]
    members = in_window.groupby("issue_id")["item_id"].apply(set)
    live = previous[previous["status"] != "merged"].copy()
    live["members"] = [members.get(i, set()) for i in live["issue_id"]]
    matches = new_issue_ids(match_issues(current, live, cfg), current, previous["issue_id"].tolist())
    merged = merged_issues(matches, current, live, cfg)
    labels = label_changes(matches, clusters, live[["issue_id", "label", "keyphrases"]], cfg)
    mapping = dict(zip(matches["cluster_id"], matches["issue_id"]))
    issues = _issue_rows(matches, current, labels, previous, merged, run_id, as_of)
    events = _events(matches, labels, merged, previous)
    return merge_duplicates(mapping, issues, events, duplicate_issues(issues, cfg))


def issue_tracking(assigned: pd.DataFrame, clusters: pd.DataFrame, vectors: dict[str, np.ndarray], prior: PriorRun,
                   run_id: str, as_of: pd.Timestamp, cfg: IssuesConfig, model_keys: dict[str, str]) -> IssueTracking:
    """This run's clusters under the ids of the issues they continue (or new ids; ``track_issues``): the
    assignments and clusters under issue ids (issue_id from here on, near-duplicate issues one, each with its
    issue's label), the issue rows to store and the known issues for the ranking."""
    mapping, issues, events = track_issues(assigned, clusters, vectors, prior.issues, prior.members(), run_id,
                                           as_of, cfg, model_keys)
    labels = dict(zip(issues["issue_id"], issues["label"]))
    named = merged_clusters(clusters, mapping)
    named["label"] = named["issue_id"].map(labels)
    known = KnownIssues(events=events, labels=labels, radius=dict(zip(issues["issue_id"], issues["radius"])),
                        first_run=prior.issues.empty)  # no "new" alerts for the very first issues
    return IssueTracking(assigned=issue_assignments(assigned, mapping), clusters=named, states=issues, known=known)


def duplicate_issues(issues: pd.DataFrame, cfg: IssuesConfig) -> pd.DataFrame:
    """issue_id, into: active issues that repeat a larger one of their space ("hold / minute / hour" next to
    "hold / hour / minute"): centroid cosine at least cfg.duplicate_cosine and keyphrase overlap (shared / the
    smaller set) at least cfg.duplicate_overlap. Larger issues are visited first (ties: smaller id), and an
    absorbed issue absorbs nothing, so ``into`` is always a surviving issue."""
    live = issues[issues["status"] == "active"].sort_values(["size", "issue_id"], ascending=[False, True])
    rows, absorbed = [], set()
    records = list(live.itertuples())
    for k, a in enumerate(records):
        if a.issue_id in absorbed:
            continue
        for b in records[k + 1:]:
            if b.issue_id in absorbed or b.space != a.space:
                continue
            if _cosine(a.centroid, b.centroid) >= cfg.duplicate_cosine \
                    and _overlap(a.keyphrases, b.keyphrases) >= cfg.duplicate_overlap:
                absorbed.add(b.issue_id)
                rows.append({"issue_id": b.issue_id, "into": a.issue_id})
    return pd.DataFrame(rows, columns=["issue_id", "into"])


def merge_duplicates(mapping: dict[str, str], issues: pd.DataFrame, events: pd.DataFrame,
                     duplicates: pd.DataFrame) -> tuple[dict[str, str], pd.DataFrame, pd.DataFrame]:
    """(mapping, issues, events) with each duplicate folded into its survivor: its clusters map to the
    survivor, its row is ``merged`` (the survivor's size and size-weighted centroid take its members), and its
    events of this run give way to one ``merged`` event (detail "duplicate")."""
    if duplicates.empty:
        return mapping, issues, events
    into = dict(zip(duplicates["issue_id"], duplicates["into"]))
    mapping = {c: into.get(i, i) for c, i in mapping.items()}
    out = issues.set_index("issue_id")
    for absorbed, survivor in into.items():
        a, b = out.loc[absorbed], out.loc[survivor]
        centroid = a["size"] * np.asarray(a["centroid"], float) + b["size"] * np.asarray(b["centroid"], float)
        out.at[survivor, "centroid"] = (centroid / max(np.linalg.norm(centroid), 1e-12)).astype(np.float32)
        out.at[survivor, "size"] = int(a["size"] + b["size"])
        out.at[absorbed, "status"] = "merged"
    kept = events[~events["issue_id"].isin(list(into))]
    merges = pd.DataFrame({"issue_id": list(into), "event": "merged", "related_issue": list(into.values()),
                           "detail": "duplicate"})
    return mapping, out.reset_index(), pd.concat([kept, merges], ignore_index=True)


def issue_assignments(assigned: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    """``assigned`` (item_id, space, cluster_id, ...) after identification: cluster_id becomes issue_id, each
    cluster's id replaced by its issue's (``mapping``; outliers stay "outlier")."""
    named = assigned.rename(columns={"cluster_id": "issue_id"})
    return named.assign(issue_id=named["issue_id"].map(lambda c: mapping.get(c, c)))


def merged_clusters(clusters: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    """``clusters`` (cluster_id, space, size, ...) after identification: one row per issue (issue_id, space,
    size, ...); where duplicates were merged, the largest cluster's description with the sizes summed."""
    named = clusters.rename(columns={"cluster_id": "issue_id"})
    named = named.assign(issue_id=named["issue_id"].map(mapping))
    sizes = named.groupby("issue_id")["size"].sum()
    named = named.sort_values(["size"], ascending=False, kind="stable").drop_duplicates("issue_id")
    return named.assign(size=named["issue_id"].map(sizes).astype(int)).sort_index()


def _cosine(a, b) -> float:
    return float(np.dot(np.asarray(a, float), np.asarray(b, float)))


def _overlap(a, b) -> float:
    a, b = set(a), set(b)
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def _issue_rows(matches, current, labels, previous, merged, run_id, as_of) -> pd.DataFrame:
    prev = previous.set_index("issue_id")
    info = matches.merge(current[["cluster_id", "space", "centroid", "members", "radius", "model_key"]],
                         on="cluster_id")
    info = info.merge(labels, on="issue_id")
    rows = []
    for r in info.itertuples():
        known = r.issue_id in prev.index
        history = list(prev.at[r.issue_id, "label_history"]) if known else []
        if not history or history[-1]["label"] != r.label:
            history.append({"run_id": run_id, "label": r.label})
        rows.append({"issue_id": r.issue_id, "space": r.space, "label": r.label, "keyphrases": r.keyphrases,
                     "size": len(r.members), "status": "active",
                     "first_seen_run": prev.at[r.issue_id, "first_seen_run"] if known else run_id,
                     "last_seen_run": run_id,
                     "first_seen_at": prev.at[r.issue_id, "first_seen_at"] if known else as_of,
                     "last_seen_at": as_of, "label_history": history, "centroid": r.centroid,
                     "radius": r.radius, "model_key": r.model_key})
    for m in merged.itertuples():
        row = prev.loc[m.issue_id].to_dict()
        rows.append({**row, "issue_id": m.issue_id, "status": "merged"})
    gone = set(previous.loc[previous["status"] == "active", "issue_id"]) - set(info["issue_id"]) - set(merged["issue_id"])
    for issue_id in sorted(gone):
        rows.append({**prev.loc[issue_id].to_dict(), "issue_id": issue_id, "status": "dormant"})
    columns = ["issue_id", "space", "label", "keyphrases", "size", "status", "first_seen_run", "last_seen_run",
               "first_seen_at", "last_seen_at", "label_history", "centroid", "radius", "model_key"]
    return pd.DataFrame(rows, columns=columns)


def _events(matches, labels, merged, previous) -> pd.DataFrame:
    rows = [{"issue_id": m.issue_id, "event": m.event, "related_issue": m.related_issue, "detail": ""}
            for m in matches.itertuples() if m.event != "matched"]
    old = dict(zip(previous["issue_id"], previous["label"]))
    rows += [{"issue_id": r.issue_id, "event": "relabelled", "related_issue": None,
              "detail": f"{old.get(r.issue_id, '')} -> {r.label}"} for r in labels.itertuples() if r.relabelled]
    rows += [{"issue_id": m.issue_id, "event": "merged", "related_issue": m.into, "detail": ""}
             for m in merged.itertuples()]
    seen = set(matches["issue_id"]) | set(merged["issue_id"])
    live = previous[previous["status"] == "active"]
    rows += [{"issue_id": i, "event": "dormant", "related_issue": None, "detail": ""}
             for i in live["issue_id"] if i not in seen]
    return pd.DataFrame(rows, columns=["issue_id", "event", "related_issue", "detail"])
