"""Matching this run's clusters to the known issues one-to-one, by centroid similarity and member overlap
(Hungarian assignment with a threshold): which continue an issue, which are new or split from one, which issues
were merged into another, and whose label changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from nlp.config import IssuesConfig
from nlp.label import is_keyword_label


def match_issues(current: pd.DataFrame, previous: pd.DataFrame, cfg: IssuesConfig) -> pd.DataFrame:
    """One row per current cluster: cluster_id, issue_id (None = new), similarity, overlap, event
    (matched | new | split) and related_issue (for splits).

    ``current``: cluster_id, space, centroid, members (set of item ids), optionally model_key.
    ``previous``: issue_id, space, centroid, members (set of item ids still in this run's window), optionally
    model_key. Centroids are compared only between the same model (the same model_key, or neither having one):
    a previous issue made by another model (or in a space that no longer exists) is matched by member overlap
    alone, within the current space that holds most of its members, so a change of embedder keeps issue ids."""
    rows = []
    comparable, home = _comparable(current, previous)
    for space in sorted(set(current["space"])):
        cur = current[current["space"] == space].reset_index(drop=True)
        take = (home == space).to_numpy()
        prev = previous[take].reset_index(drop=True)
        shared = _shared(cur["members"], prev["members"])
        sim, overlap = _similarity(cur, prev, shared, cfg.centroid_weight, comparable[take])
        matched = {}
        if len(cur) and len(prev):
            for i, j in zip(*linear_sum_assignment(-sim)):
                if sim[i, j] >= cfg.match_threshold:
                    matched[i] = j
        for i, c in cur.iterrows():
            if i in matched:
                j = matched[i]
                rows.append(_row(c, prev.at[j, "issue_id"], sim[i, j], overlap[i, j], "matched", None))
                continue
            source = _main_source(shared[i], len(c["members"]), prev["issue_id"], cfg.split_merge_share)
            rows.append(_row(c, None, 0.0, 0.0, "split" if source else "new", source))
    return pd.DataFrame(rows, columns=["cluster_id", "issue_id", "similarity", "overlap", "event", "related_issue"])


def issue_model_keys(frame: pd.DataFrame) -> pd.Series:
    keys = frame["model_key"] if "model_key" in frame else pd.Series(None, index=frame.index, dtype=object)
    return keys.astype(object).where(keys.notna(), None)


def _comparable(current: pd.DataFrame, previous: pd.DataFrame) -> tuple[np.ndarray, pd.Series]:
    """Per previous issue: whether its centroid may be compared with this run's (same space, same model key),
    and the space it is matched in (its own; for one that is not comparable, the current space holding most of
    its members, ties: the first in name order)."""
    key_of = dict(zip(current["space"], issue_model_keys(current)))
    keys = issue_model_keys(previous).to_numpy()
    comparable = np.array([s in key_of and key_of[s] == k for s, k in zip(previous["space"], keys)], dtype=bool)
    space_of_item = {i: s for s, m in zip(current["space"], current["members"]) for i in m}
    home = []
    for ok, space, members in zip(comparable, previous["space"], previous["members"]):
        if ok:
            home.append(space)
            continue
        counts = pd.Series([space_of_item[i] for i in members if i in space_of_item], dtype=object).value_counts()
        best = sorted(counts[counts == counts.max()].index) if len(counts) else []
        home.append(best[0] if best else None)
    return comparable, pd.Series(home, index=previous.index, dtype=object)


def merged_issues(matches: pd.DataFrame, current: pd.DataFrame, previous: pd.DataFrame,
                  cfg: IssuesConfig) -> pd.DataFrame:
    """Previous issues left unmatched whose members mostly went into one matched cluster: issue_id, into."""
    taken = set(matches["issue_id"].dropna())
    owner = dict(zip(matches["cluster_id"], matches["issue_id"]))
    owned = np.array([bool(owner.get(c)) for c in current["cluster_id"]], dtype=bool)
    left = previous[~previous["issue_id"].isin(taken)].reset_index(drop=True)
    shared = _shared(left["members"], current["members"])  # shared[j, i]: previous j, current i
    rows = []
    for j, p in left.iterrows():
        if not p["members"]:
            continue
        hits = np.flatnonzero(owned & (shared[j] / len(p["members"]) >= cfg.split_merge_share))
        if len(hits):  # the first such cluster, in the order of ``current``
            rows.append({"issue_id": p["issue_id"], "into": owner[current["cluster_id"].iloc[hits[0]]]})
    return pd.DataFrame(rows, columns=["issue_id", "into"])


def new_issue_ids(matches: pd.DataFrame, current: pd.DataFrame, existing_ids: list[str]) -> pd.DataFrame:
    """``matches`` with every unmatched cluster given the next free id of its space (``<space>-<nnnn>``),
    in order of cluster size then cluster id, so the same input gives the same ids."""
    out = matches.copy()
    space_of = dict(zip(current["cluster_id"], current["space"]))
    size_of = {c: len(m) for c, m in zip(current["cluster_id"], current["members"])}
    next_number: dict[str, int] = {}
    for issue_id in existing_ids:
        space, _, number = issue_id.rpartition("-")
        next_number[space] = max(next_number.get(space, 1), int(number) + 1)
    todo = out[out["issue_id"].isna()]
    for idx in sorted(todo.index, key=lambda k: (-size_of[out.at[k, "cluster_id"]], out.at[k, "cluster_id"])):
        space = space_of[out.at[idx, "cluster_id"]]
        number = next_number.get(space, 1)
        out.at[idx, "issue_id"] = f"{space}-{number:04d}"
        next_number[space] = number + 1
    return out


def label_changes(matches: pd.DataFrame, clusters: pd.DataFrame, previous_labels: pd.DataFrame,
                  cfg: IssuesConfig) -> pd.DataFrame:
    """issue_id, label, keyphrases, relabelled: a matched issue keeps its previous label unless the
    keyphrase Jaccard with its previous keyphrases is below cfg.relabel_below, or its previous label was a keyword
    list and it now has a name."""
    prev = previous_labels.set_index("issue_id") if len(previous_labels) else None
    rows = []
    for m in matches.merge(clusters[["cluster_id", "label", "keyphrases"]], on="cluster_id").itertuples():
        label, relabelled = m.label, False
        if m.event == "matched" and prev is not None and m.issue_id in prev.index:
            old = prev.loc[m.issue_id]
            a, b = set(old["keyphrases"]), set(m.keyphrases)
            jaccard = len(a & b) / len(a | b) if a | b else 1.0
            # a keyword list gives way to a name (stores labelled before issues had names)
            relabelled = jaccard < cfg.relabel_below or (is_keyword_label(old["label"], list(old["keyphrases"]))
                                                         and not is_keyword_label(m.label, list(m.keyphrases)))
            label = m.label if relabelled else old["label"]
        rows.append({"issue_id": m.issue_id, "label": label, "keyphrases": list(m.keyphrases),
                     "relabelled": relabelled})
    return pd.DataFrame(rows, columns=["issue_id", "label", "keyphrases", "relabelled"])


def _shared(a: pd.Series, b: pd.Series) -> np.ndarray:
    """shared[i, j] = |a[i] & b[j]| for two lists of item-id sets, in one pass over the members (an all-pairs
    loop of set intersections took 133 s for 2,175 x 2,175 issues at 100k items)."""
    holders: dict = {}
    for j, members in enumerate(b):
        for item in members:
            holders.setdefault(item, []).append(j)
    shared = np.zeros((len(a), len(b)))
    for i, members in enumerate(a):
        hit = [j for item in members for j in holders.get(item, ())]
        if hit:
            np.add.at(shared[i], hit, 1)
    return shared


def _similarity(cur: pd.DataFrame, prev: pd.DataFrame, shared: np.ndarray, weight: float,
                comparable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """weight x centroid cosine + (1 - weight) x member overlap (shared / the smaller member count); for the
    previous issues whose centroids are not ``comparable`` (another model made them), the overlap alone."""
    if not len(cur) or not len(prev):
        return np.zeros((len(cur), len(prev))), np.zeros((len(cur), len(prev)))
    sizes_c = np.array([len(m) for m in cur["members"]], dtype=float)
    sizes_p = np.array([len(m) for m in prev["members"]], dtype=float)
    base = np.minimum.outer(sizes_c, sizes_p)
    overlap = shared / np.where(base > 0, base, 1.0)
    sim = overlap.copy()
    if comparable.any():
        cols = np.flatnonzero(comparable)
        cosine = np.vstack(cur["centroid"].to_list()).astype(float) @ \
            np.vstack(prev["centroid"].iloc[cols].to_list()).astype(float).T
        sim[:, cols] = weight * cosine + (1 - weight) * overlap[:, cols]
    return sim, overlap


def _main_source(shared_row: np.ndarray, size: int, issue_ids: pd.Series, share: float) -> str | None:
    """The previous issue that holds at least ``share`` of a cluster's members (ties: the largest id)."""
    if not size or not len(shared_row):
        return None
    best = shared_row.max()
    issue = max(issue_ids.iloc[np.flatnonzero(shared_row == best)])
    return issue if best / size >= share else None


def _row(c, issue_id, similarity, overlap, event, related) -> dict:
    return {"cluster_id": c["cluster_id"], "issue_id": issue_id, "similarity": round(float(similarity), 4),
            "overlap": round(float(overlap), 4), "event": event, "related_issue": related}
