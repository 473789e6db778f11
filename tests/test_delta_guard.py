"""Delta nights keep the full fit's shape: a stream of tight topics plus diffuse chatter replayed day by day
(one full fit, then delta nights through the real UMAP + HDBSCAN), the outlier share and the largest issue's
share of each night stay within a few points of the full fit's."""

import numpy as np
import pandas as pd

from nlp.cluster import OUTLIER, cluster_embeddings
from nlp.config import ClusterConfig, IssuesConfig
from nlp.delta import delta_clusters, guard_new_issues, new_issue_floor
from nlp.issues import issue_assignments, track_issues
from nlp.label import centrality

DIM, TOPICS, CHATTER, PER_DAY, NOISE_SHARE = 24, 5, 120, 120, 0.3
CLUSTER = ClusterConfig(min_cluster_size=10, min_samples=5, min_items=12)
ISSUES = IssuesConfig()
STATE_COLUMNS = ["issue_id", "space", "label", "keyphrases", "size", "status", "first_seen_run", "last_seen_run",
                 "first_seen_at", "last_seen_at", "label_history", "centroid", "radius"]


def _unit(x):
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _day(rng, centres, chatter, day):
    """PER_DAY items: NOISE_SHARE of them chatter (each near one of many directions, too few for an issue), the
    rest near one of the topic centres."""
    noise = rng.random(PER_DAY) < NOISE_SHARE
    near = np.where(noise[:, None], chatter[rng.integers(0, len(chatter), PER_DAY)],
                    centres[rng.integers(0, TOPICS, PER_DAY)])
    vecs = near * 4.0 + rng.normal(size=(PER_DAY, DIM)) * 0.6
    ids = [f"d{day:02d}-{k:03d}" for k in range(PER_DAY)]
    return pd.DataFrame({"item_id": ids, "lang": "en", "day": day}), _unit(vecs)


def _clusters(assigned):
    cids = sorted(set(assigned["cluster_id"]) - {OUTLIER})
    return pd.DataFrame({"cluster_id": cids, "label": cids, "keyphrases": [[c] for c in cids]})


def _track(assigned, vecs, states, members, run):
    assigned = assigned.assign(centrality=centrality(assigned, {"en": vecs}))
    mapping, issues, _ = track_issues(assigned, _clusters(assigned), {"en": vecs}, states, members, run,
                                      pd.Timestamp("2026-11-01", tz="UTC"), ISSUES)
    states = pd.concat([states[~states["issue_id"].isin(issues["issue_id"])], issues], ignore_index=True)
    return issue_assignments(assigned, mapping), states


def _shape(assigned):
    shares = assigned["issue_id"].value_counts(normalize=True)
    return float(shares.get(OUTLIER, 0.0)), float(shares.drop(OUTLIER, errors="ignore").max())


def replay(full_days=5, delta_days=4, seed=7):
    """(full fit's shape, each delta night's shape): (outlier share, largest issue's share)."""
    rng = np.random.default_rng(seed)
    centres, chatter = _unit(rng.normal(size=(TOPICS, DIM))), _unit(rng.normal(size=(CHATTER, DIM)))
    days = [_day(rng, centres, chatter, d) for d in range(full_days + delta_days)]
    frame = pd.concat([f for f, _ in days[:full_days]], ignore_index=True)
    vecs = np.vstack([v for _, v in days[:full_days]])
    fit = cluster_embeddings(frame["item_id"], frame["lang"], {"en": vecs}, CLUSTER)
    states = pd.DataFrame(columns=STATE_COLUMNS)
    assigned, states = _track(fit, vecs, states, pd.DataFrame(columns=["item_id", "issue_id"]), "r0")
    full, nights = _shape(assigned), []
    for day in range(full_days, full_days + delta_days):
        known = assigned[["item_id", "issue_id"]]
        frame = pd.concat([frame, days[day][0]], ignore_index=True)
        vecs = np.vstack([vecs, days[day][1]])
        # as nlp.delta.delta_scope: the new items and the recent outliers (the whole window here)
        last = frame["item_id"].map(dict(zip(known["item_id"], known["issue_id"])))
        scope = (last.isna() | (last == OUTLIER)).to_numpy()
        base = frame[["item_id", "lang"]].rename(columns={"lang": "space"})
        placed = delta_clusters(base, {"en": vecs}, known, states, scope, CLUSTER, ISSUES)
        assigned, states = _track(placed, vecs, states, known[known["issue_id"] != OUTLIER], f"r{day}")
        nights.append(_shape(assigned))
    return full, nights


def test_delta_nights_keep_the_full_fits_outlier_share_and_largest_issue():
    (full_outliers, full_largest), nights = replay()
    assert full_outliers > 0.05  # some chatter is outliers in the full fit
    for outliers, largest in nights:
        assert abs(outliers - full_outliers) <= 0.05, (full_outliers, nights)
        assert abs(largest - full_largest) <= 0.05, (full_largest, nights)


def test_a_loose_group_is_refused_and_a_tight_one_kept():
    rng = np.random.default_rng(3)
    centre = _unit(rng.normal(size=DIM))
    tight = _unit(centre * 4 + rng.normal(size=(20, DIM)) * 0.6)
    loose = _unit(rng.normal(size=(20, DIM)))
    labels = np.array([5] * 20 + [2] * 20)
    states = pd.DataFrame({"issue_id": ["en-0001", "en-0002", "ja-0001"], "space": ["en", "en", "ja"],
                           "status": "active", "radius": [0.7, 0.9, 0.1]})
    floor = new_issue_floor(states, "en", ISSUES)
    assert 0.7 <= floor <= 0.9
    out = guard_new_issues(np.vstack([tight, loose]), labels, floor, ISSUES)
    assert out.tolist() == [0] * 20 + [-1] * 20
    # a space without known issues takes no new issue until the next full fit
    assert new_issue_floor(states, "fr", ISSUES) == float("inf")


def test_a_window_grown_past_refit_growth_since_the_last_full_fit_gets_a_full_fit():
    from nlp.delta import clustering_plan

    as_of = pd.Timestamp("2026-11-20", tz="UTC")
    last = {"as_of": str(as_of - pd.Timedelta(days=2)), "fit_key": "k", "items": 800}
    states = pd.DataFrame({"issue_id": ["en-0001"], "space": ["en"], "status": ["active"], "model_key": ["m"]})
    plan = lambda n, cfg=CLUSTER: clustering_plan(as_of, "k", last, states, {"en": "m"}, cfg, n_items=n)[0]  # noqa: E731
    assert plan(1600).clustering == "delta"  # twice what the fit saw: still its shape
    assert plan(1601).clustering == "full"  # more than refit_growth (2.0) times
    assert plan(10_000, ClusterConfig(refit_growth=None)).clustering == "delta"  # switched off
    assert plan(800, ClusterConfig(refit_every_days=1)).clustering == "full"  # the age rule still holds
