"""Issue identity across runs: this run's clusters are matched one-to-one to the previous run's issues by
centroid similarity and member overlap (Hungarian assignment with a threshold). Matched clusters keep the
issue id (and label, unless their keyphrases changed a lot); unmatched ones become new issues, recorded as
splits when most of their members came from one previous issue; previous issues absorbed by another are
recorded as merges."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from nlp.cluster import OUTLIER, cluster_labels
from nlp.config import ClusterConfig, IssuesConfig
from nlp.label import cluster_centroids, is_keyword_label


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


def _model_keys(frame: pd.DataFrame) -> pd.Series:
    keys = frame["model_key"] if "model_key" in frame else pd.Series(None, index=frame.index, dtype=object)
    return keys.astype(object).where(keys.notna(), None)


def _comparable(current: pd.DataFrame, previous: pd.DataFrame) -> tuple[np.ndarray, pd.Series]:
    """Per previous issue: whether its centroid may be compared with this run's (same space, same model key),
    and the space it is matched in (its own; for one that is not comparable, the current space holding most of
    its members, ties: the first in name order)."""
    key_of = dict(zip(current["space"], _model_keys(current)))
    keys = _model_keys(previous).to_numpy()
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
    current["space"] = current["cluster_id"].map(dict(zip(assigned["cluster_id"], assigned["lang"])))
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


def merged_clusters(clusters: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    """``clusters`` renamed to issue ids, one row per issue: where duplicates were merged, the largest
    cluster's description with the sizes summed."""
    named = clusters.assign(cluster_id=clusters["cluster_id"].map(mapping))
    sizes = named.groupby("cluster_id")["size"].sum()
    named = named.sort_values(["size"], ascending=False, kind="stable").drop_duplicates("cluster_id")
    return named.assign(size=named["cluster_id"].map(sizes).astype(int)).sort_index()


def _cosine(a, b) -> float:
    return float(np.dot(np.asarray(a, float), np.asarray(b, float)))


def _overlap(a, b) -> float:
    a, b = set(a), set(b)
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def assign_to_issues(assigned: pd.DataFrame, vectors: dict[str, np.ndarray], known: pd.DataFrame,
                     states: pd.DataFrame) -> pd.DataFrame:
    """Between full refits: items the previous run saw keep its answer (an issue, or outlier); each new item
    joins the active issue of its space with the most similar centroid if the similarity reaches that issue's
    radius, else it is an outlier.

    ``assigned``: item_id, lang (space), rows of each space aligned with vectors[space];
    ``known``: item_id, issue_id (or "outlier") of the previous run; ``states``: issue_id, space, centroid, radius, status.
    Returns ``assigned`` with cluster_id (issue ids)."""
    out = assigned.copy()
    previous = dict(zip(known["item_id"], known["issue_id"]))
    out["cluster_id"] = out["item_id"].map(previous).fillna(OUTLIER)
    active = states[states["status"] == "active"]
    for space, vecs in vectors.items():
        rows = np.flatnonzero((out["lang"] == space).to_numpy())
        issues = active[active["space"] == space]
        new = np.flatnonzero(~out["item_id"].iloc[rows].isin(known["item_id"]).to_numpy())
        if not len(new) or issues.empty:
            continue
        sims = vecs[new] @ np.vstack(issues["centroid"].to_list()).T
        best = sims.argmax(axis=1)
        ok = sims[np.arange(len(new)), best] >= issues["radius"].to_numpy()[best]
        labels = np.where(ok, issues["issue_id"].to_numpy()[best], OUTLIER)
        out.loc[out.index[rows[new]], "cluster_id"] = labels
    return out


def delta_clusters(assigned: pd.DataFrame, vectors: dict[str, np.ndarray], known: pd.DataFrame,
                   states: pd.DataFrame, scope: np.ndarray, cluster_cfg: ClusterConfig, cfg: IssuesConfig,
                   centered: frozenset[str] = frozenset(), model_keys: dict[str, str] | None = None,
                   groups: pd.Series | None = None) -> pd.DataFrame:
    """A delta night: new items into the known issues (``assign_to_issues``), then the items in ``scope`` that
    fit none clustered among themselves (the full fit's HDBSCAN rules) so a new issue shows up between full fits.
    A group becomes a new issue (``<space>-new<nnn>``) only if it is as tight as the full fit's issues
    (``guard_new_issues``); of the rest, a new item joins the issue most of its nearest known items belong to
    (``_neighbour_issues``), the others stay outliers. Same inputs as ``assign_to_issues``, plus ``scope`` (a bool
    per row of ``assigned``), the spaces to centre and each space's model key: only issue states of the same
    model key take new items or set the new-issue floor (``same_model``); ``groups`` (aligned with ``assigned``,
    e.g. item languages) centre each group on its own mean, as the full fit does."""
    states = same_model(states, model_keys)
    out = assign_to_issues(assigned, vectors, known, states)
    leftover = (out["cluster_id"] == OUTLIER).to_numpy() & scope
    for space, vecs in vectors.items():
        in_space = np.flatnonzero((out["lang"] == space).to_numpy())
        rows = np.flatnonzero(leftover[in_space])
        labels = cluster_labels(vecs[rows], cluster_cfg, center=space in centered,
                                groups=None if groups is None else groups.to_numpy()[in_space[rows]])
        labels = guard_new_issues(vecs[rows], labels, new_issue_floor(states, space, cfg), cfg)
        found = labels >= 0
        out.loc[out.index[in_space[rows[found]]], "cluster_id"] = [f"{space}-new{k:03d}" for k in labels[found]]
        # a new item that no new issue took follows its nearest known items: it joins the issue most of its k
        # nearest items of the last runs belong to (k = cluster.min_cluster_size) and stays an outlier when most
        # of them were outliers, as the full fit's density clustering decided (its fringe joins, chatter stays
        # out); an item the last run left an outlier keeps that answer
        rest = rows[~found]
        rest = rest[~out["item_id"].iloc[in_space[rest]].isin(known["item_id"]).to_numpy()]  # new items only
        if len(rest):
            labels = _neighbour_issues(vecs, out.iloc[in_space], known, rest, cluster_cfg.min_cluster_size)
            joined = labels != OUTLIER
            out.loc[out.index[in_space[rest[joined]]], "cluster_id"] = labels[joined]
    return out


def _neighbour_issues(vecs: np.ndarray, rows: pd.DataFrame, known: pd.DataFrame, rest: np.ndarray, k: int,
                      chunk: int = 2048) -> np.ndarray:
    """For the new items at positions ``rest`` of one space (none of them known): the issue (or "outlier") that
    more than half of their ``k`` most similar known items had in the last run; "outlier" when no issue has such a
    majority."""
    last = rows["item_id"].map(dict(zip(known["item_id"], known["issue_id"]))).to_numpy(dtype=object)
    seen = np.flatnonzero(pd.notna(last))
    out = np.full(len(rest), OUTLIER, dtype=object)
    if len(seen) < k:
        return out
    labels = last[seen]
    for start in range(0, len(rest), chunk):
        part = rest[start:start + chunk]
        sims = vecs[part] @ vecs[seen].T  # ``rest`` are new items: none of them is among the known ones
        nearest = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        for i, neighbours in enumerate(labels[nearest]):
            values, counts = np.unique(neighbours.astype(str), return_counts=True)
            top = int(counts.argmax())
            if counts[top] * 2 > k and values[top] != OUTLIER:
                out[start + i] = values[top]
    return out


def same_model(states: pd.DataFrame, model_keys: dict[str, str] | None) -> pd.DataFrame:
    """The issue states made by the model of their space in ``model_keys`` (all of them without ``model_keys``):
    a centroid of another model, even of the same dimension, is in another space."""
    if model_keys is None:
        return states
    keys = _model_keys(states)
    return states[[model_keys.get(s) is not None and model_keys.get(s) == k
                   for s, k in zip(states["space"], keys)]]


def new_issue_floor(states: pd.DataFrame, space: str, cfg: IssuesConfig) -> float:
    """The radius a new issue of ``space`` must reach: the cfg.new_issue_radius_quantile of the active issues'
    radii there (what the full fit found). Without any, +inf: no new issue until the next full fit."""
    live = states[(states["status"] == "active") & (states["space"] == space)]
    radii = pd.to_numeric(live["radius"], errors="coerce").dropna().to_numpy(dtype=float)
    return float(np.quantile(radii, cfg.new_issue_radius_quantile)) if len(radii) else float("inf")


def guard_new_issues(vecs: np.ndarray, labels: np.ndarray, floor: float, cfg: IssuesConfig) -> np.ndarray:
    """``labels`` (-1 = outlier) with every group whose radius (the similarity to its centroid that all but
    cfg.radius_quantile of its members reach, as a known issue's radius) is below ``floor`` turned into
    outliers, the kept groups numbered 0.. by first appearance. HDBSCAN on a night's leftovers alone (a
    diffuse set) makes loose catch-all groups that the next full fit would not find: these are refused."""
    out = np.full(len(labels), -1, dtype=int)
    for label in dict.fromkeys(labels[labels >= 0].tolist()):
        members = labels == label
        if group_radius(vecs[members], cfg.radius_quantile) >= floor:
            out[members] = out.max() + 1
    return out


def group_radius(vecs: np.ndarray, quantile: float) -> float:
    """The ``quantile`` of the members' cosine to their unit centroid."""
    centroid = vecs.mean(axis=0)
    centroid = centroid / max(float(np.linalg.norm(centroid)), 1e-12)
    return float(np.quantile(vecs @ centroid, quantile))


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
