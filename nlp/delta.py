"""Delta nights, between full refits: new items placed into the known issues (each within its issue's radius),
the leftovers clustered among themselves, and a group kept as a new issue only when it is as tight as the full
fit's issues. Also whether a run may be a delta run at all (``clustering_plan``) and which items it works on
(``delta_scope``), and how a delta run describes its clusters (``delta_descriptions``)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from nlp.cluster import OUTLIER, cluster_labels
from nlp.config import ClusterConfig, IssuesConfig, LabelConfig, PipelineConfig
from nlp.label import describe_clusters
from nlp.matching import issue_model_keys
from nlp.records import RunPlan
from nlp.schema import stable_hash



def fit_key(cfg: PipelineConfig) -> str:
    """The hash of the config a delta run must share with the last full fit: a delta run reuses the last run's
    sentiment and keyphrases, so any config they depend on forces a full run."""
    return stable_hash(cfg.cluster.model_dump_json(), cfg.embed.model_dump_json(),
                       cfg.sentiment.model_dump_json(), cfg.label.model_dump_json())


def clustering_plan(as_of: pd.Timestamp, key: str, last_full_fit: dict | None, states: pd.DataFrame,
                    model_keys: dict[str, str], cfg: ClusterConfig,
                    n_items: int | None = None) -> tuple[RunPlan, pd.Timedelta | None, bool]:
    """(the plan, the age of the last full fit (None without one), whether the known issues were made by another
    embedding model). Delta while the last full fit had the same ``key`` (``fit_key``), is at most
    cfg.refit_every_days old, clustered at least 1/cfg.refit_growth of the run's ``n_items`` (the window's
    items), and every active issue was made by the model its space embeds with now (a changed model, or issues
    stored before koe kept model keys: a full fit, which keeps issue ids by member overlap,
    nlp.matching.match_issues)."""
    last = last_full_fit
    age = (as_of - pd.Timestamp(last["as_of"])) if last else None
    active = states[states["status"] == "active"]
    model_changed = len(same_model(active, model_keys)) < len(active)
    outgrown = bool(last and cfg.refit_growth and n_items is not None
                    and n_items > cfg.refit_growth * last.get("items", n_items))
    delta = bool(last and last.get("fit_key") == key and pd.Timedelta(0) <= age
                 <= pd.Timedelta(days=cfg.refit_every_days) and not states.empty and not model_changed
                 and not outgrown)
    return RunPlan("delta" if delta else "full", str(as_of), key), age, model_changed


def delta_scope(items: pd.DataFrame, last_run: pd.DataFrame, embedded: set[str], as_of: str,
                cfg: ClusterConfig) -> np.ndarray:
    """Which items a delta run tokenizes and scores (a bool per row of ``items``): those the last run
    (``last_run``: item_id, issue_id) did not see, those whose text has no cached vector (``embedded``: the
    content hashes that have one: the text changed), and the last run's outliers of the last cfg.new_issue_days
    days before ``as_of`` (new issues are looked for among them)."""
    last = items["item_id"].map(dict(zip(last_run["item_id"], last_run["issue_id"])))
    recent = items["created_at"] >= pd.Timestamp(as_of) - pd.Timedelta(days=cfg.new_issue_days)
    return (last.isna() | ~items["content_hash"].isin(embedded) | ((last == OUTLIER) & recent)).to_numpy()


def assign_to_issues(assigned: pd.DataFrame, vectors: dict[str, np.ndarray], known: pd.DataFrame,
                     states: pd.DataFrame) -> pd.DataFrame:
    """Between full refits: items the previous run saw keep its answer (an issue, or outlier); each new item
    joins the active issue of its space with the most similar centroid if the similarity reaches that issue's
    radius, else it is an outlier.

    ``assigned``: item_id, space, rows of each space aligned with vectors[space];
    ``known``: item_id, issue_id (or "outlier") of the previous run; ``states``: issue_id, space, centroid, radius, status.
    Returns ``assigned`` with cluster_id (the known issues' ids: this run's clusters until identification)."""
    out = assigned.copy()
    previous = dict(zip(known["item_id"], known["issue_id"]))
    out["cluster_id"] = out["item_id"].map(previous).fillna(OUTLIER)
    active = states[states["status"] == "active"]
    for space, vecs in vectors.items():
        rows = np.flatnonzero((out["space"] == space).to_numpy())
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


def delta_descriptions(assigned: pd.DataFrame, texts: pd.Series, tokens: list, langs: pd.Series,
                       previous: pd.DataFrame, cfg: LabelConfig, language: str | None,
                       encode: Callable[[list[str]], np.ndarray] | None) -> pd.DataFrame:
    """A delta run's clusters (as nlp.label.describe_clusters gives them): its new clusters (ids with "-new")
    described from their items; the known issues keep ``previous``'s description (the last run's issues:
    issue_id, space, ...) with this run's size. Here the known issues become this run's clusters again (issue id
    as cluster_id) until issue identification names them."""
    previous = previous.rename(columns={"issue_id": "cluster_id"})
    fresh = assigned["cluster_id"].str.contains("-new", regex=False).to_numpy()
    rows = np.flatnonzero(fresh)
    new = describe_clusters(assigned[fresh], texts[fresh], [tokens[i] for i in rows], cfg, langs[fresh], language,
                            encode)
    sizes = assigned.loc[~fresh & (assigned["cluster_id"] != OUTLIER), "cluster_id"].value_counts()
    known = previous[previous["cluster_id"].isin(sizes.index)].assign(
        size=lambda f: f["cluster_id"].map(sizes).astype(int))
    return pd.concat([known[new.columns], new], ignore_index=True).sort_values("cluster_id", ignore_index=True)


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
        in_space = np.flatnonzero((out["space"] == space).to_numpy())
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
    keys = issue_model_keys(states)
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
