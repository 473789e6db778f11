"""The analysts' taxonomy: a YAML file (path in config, `taxonomy.path`) of edits to issues, applied on every run
after the issues are identified, so an edit made once holds for every later run, full fits included (edits name
stable issue ids). Pure, apart from reading the file.

```yaml
issues:
  ja-0004: {name_ja: 配送の遅れ, name_en: Late delivery, stage: delivery}   # rename, set its stage
  en-0002: {merge_into: ja-0004}                                            # one issue with ja-0004
  ja-0011: {noise: true}                                                    # kept, never ranked
  ja-0003:
    split:                                # items with these words become their own issue, ja-0003/payment
      payment: {name_ja: 決済エラー, name_en: Payment errors, keywords: [決済, カード, payment, card]}
pinned:                                   # known issues tracked from day one (pin-<key>)
  login:
    name_ja: ログインできない
    name_en: Cannot log in
    examples_ja: [ログインできない, アプリにログインするとエラーになる]
    examples_en: [cannot log in, login fails after the update]
    stage: usage
```

An edit whose issue no longer exists (merged away, never seen) is reported (`stale`), never dropped silently."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nlp.cluster import OUTLIER

PIN_PREFIX = "pin-"


class TaxonomyError(ValueError):
    """A taxonomy file that cannot be applied: it names the file and what to fix."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SplitEdit(_Model):
    keywords: list[str] = Field(min_length=1)
    name_ja: str | None = None
    name_en: str | None = None


class IssueEdit(_Model):
    name_ja: str | None = None
    name_en: str | None = None
    stage: str | None = None
    merge_into: str | None = None
    noise: bool = False
    split: dict[str, SplitEdit] = Field(default_factory=dict)


class PinnedIssue(_Model):
    name_ja: str | None = None
    name_en: str | None = None
    examples_ja: list[str] = Field(default_factory=list)
    examples_en: list[str] = Field(default_factory=list)
    stage: str | None = None

    @model_validator(mode="after")
    def _has_examples(self) -> "PinnedIssue":
        if not (self.examples_ja or self.examples_en):
            raise ValueError("a pinned issue needs examples_ja or examples_en")
        return self


class Taxonomy(_Model):
    issues: dict[str, IssueEdit] = Field(default_factory=dict)
    pinned: dict[str, PinnedIssue] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _no_merge_cycles(self) -> "Taxonomy":
        for start in self.issues:
            seen, at = {start}, self.issues[start].merge_into
            while at is not None:
                if at in seen:
                    raise ValueError(f"merge_into makes a cycle through {sorted(seen)}")
                seen.add(at)
                at = self.issues[at].merge_into if at in self.issues else None
        return self

    def merge_target(self, issue_id: str) -> str:
        """Where an issue ends after every merge_into (itself when not merged)."""
        while issue_id in self.issues and self.issues[issue_id].merge_into:
            issue_id = self.issues[issue_id].merge_into
        return issue_id


def load_taxonomy(path: str | Path | None) -> Taxonomy:
    """The taxonomy file (an empty taxonomy when no path is configured); a clear TaxonomyError otherwise."""
    if not path:
        return Taxonomy()
    path = Path(path)
    if not path.is_file():
        raise TaxonomyError(f"taxonomy file not found: {path} (taxonomy.path); `koe taxonomy` prints a starting file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Taxonomy.model_validate(raw)
    except yaml.YAMLError as exc:
        raise TaxonomyError(f"{path}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise TaxonomyError(f"{path}: {where}") from None


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def pinned_examples(taxonomy: Taxonomy, language: str) -> tuple[list[str], list[str]]:
    """The pinned issues' example texts for one language and, for each, its pinned issue id."""
    texts, owners = [], []
    for key, pin in taxonomy.pinned.items():
        for text in (pin.examples_ja if language == "ja" else pin.examples_en):
            texts.append(text)
            owners.append(PIN_PREFIX + key)
    return texts, owners


def pin_items(assigned: pd.DataFrame, vectors: np.ndarray, example_vectors: np.ndarray, owners: list[str],
              min_similarity: float) -> pd.DataFrame:
    """Seeded issues (as BERTopic's zero-shot topics): an item joins the pinned issue of its nearest example when
    that similarity reaches ``min_similarity`` and beats its ``centrality`` (its similarity to its own issue's
    centroid; an outlier needs only the first). ``assigned`` (issue_id, centrality) is aligned with ``vectors``;
    the vectors are one space's. A pinned item's centrality is its similarity to that example."""
    out = assigned.copy()
    if not owners or not len(vectors):
        return out
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    examples = example_vectors / np.maximum(np.linalg.norm(example_vectors, axis=1, keepdims=True), 1e-12)
    sims = unit @ examples.T
    best = sims.argmax(axis=1)
    best_sim = sims[np.arange(len(unit)), best]
    own = out["centrality"].astype(float).fillna(-1.0).to_numpy()
    outlier = (out["issue_id"] == OUTLIER).to_numpy()
    join = (best_sim >= min_similarity) & (outlier | (best_sim > own))
    out.loc[join, "issue_id"] = [owners[b] for b in best[join]]
    out.loc[join, "centrality"] = np.round(best_sim[join], 6)
    return out


def check_taxonomy(taxonomy: Taxonomy, stages: list[str]) -> list[str]:
    """Problems that stop the run before any work: a stage the config does not have."""
    edits = [*taxonomy.issues.items(), *((PIN_PREFIX + k, p) for k, p in taxonomy.pinned.items())]
    return [f"taxonomy: {issue_id} sets stage {edit.stage!r}, which is not a stage of the config ({', '.join(stages)})"
            for issue_id, edit in edits if edit.stage and edit.stage not in stages]


def apply_taxonomy(taxonomy: Taxonomy, scored: pd.DataFrame, clusters: pd.DataFrame, known_issues: set[str],
                   language: str) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The run's items (``scored``: item_id, issue_id, stage, text, ...) and issues (``clusters``: issue_id,
    space, size, label, keyphrases, ...) with the taxonomy applied: splits, then merges (transitively), names in
    the report's ``language``, stages; also the set of noise issues and the stale edits (issue ids in neither
    ``known_issues`` nor this run's issues). Returns (scored, clusters, {"noise": [...], "stale": [...]})."""
    scored, clusters = scored.copy(), clusters.copy()  # the helpers below edit these copies in place
    present = set(clusters["issue_id"]) | set(known_issues)
    stale = sorted(i for i in taxonomy.issues if i not in present)
    stale += sorted(i for i, e in taxonomy.issues.items() if e.merge_into and e.merge_into not in present
                    and e.merge_into not in stale)
    clusters = _split(taxonomy, scored, clusters, language)
    clusters = _missing_rows(taxonomy, scored, clusters, language)
    clusters = _merge(taxonomy, scored, clusters, known_issues)
    sizes = scored["issue_id"].value_counts()
    clusters = clusters.assign(size=clusters["issue_id"].map(sizes).fillna(0).astype(int))
    edits = {**{i: e for i, e in taxonomy.issues.items()},
             **{PIN_PREFIX + k: p for k, p in taxonomy.pinned.items()}}
    for issue_id, edit in edits.items():
        here = clusters["issue_id"] == issue_id
        if _name_in(edit, language) and here.any():
            clusters.loc[here, "label"] = _name_in(edit, language)
        if edit.stage:
            scored.loc[scored["issue_id"] == issue_id, "stage"] = edit.stage
    noise = sorted(i for i, e in taxonomy.issues.items() if e.noise)
    return scored, clusters.reset_index(drop=True), {"noise": noise, "stale": stale}


def _name_in(edit: IssueEdit | SplitEdit | PinnedIssue, language: str) -> str | None:
    """An edit's name in the report's ``language``, else in the other one (None when it names nothing)."""
    return (edit.name_ja or edit.name_en) if language == "ja" else (edit.name_en or edit.name_ja)


def _split(taxonomy: Taxonomy, scored: pd.DataFrame, clusters: pd.DataFrame, language: str) -> pd.DataFrame:
    """Splits: the items of an issue with a split's keywords move (in ``scored``, in place) to their own issue,
    ``<issue id>/<split key>``; returns ``clusters`` with a row for each new issue (its parent's, renamed)."""
    for issue_id, edit in taxonomy.issues.items():
        mine = scored["issue_id"] == issue_id
        if not edit.split or not mine.any():
            continue
        base = clusters[clusters["issue_id"] == issue_id]
        for key, part in edit.split.items():
            words = [_fold(w) for w in part.keywords]
            hit = mine & scored["text"].map(lambda t: any(w in _fold(t) for w in words))
            if not hit.any():
                continue
            new_id = f"{issue_id}/{key}"
            scored.loc[hit, "issue_id"] = new_id
            mine &= ~hit
            row = (base.iloc[0].to_dict() if len(base) else {"space": ""}) | {
                "issue_id": new_id, "label": _name_in(part, language) or key, "keyphrases": list(part.keywords),
                "size": int(hit.sum())}
            clusters = pd.concat([clusters, pd.DataFrame([row])], ignore_index=True)
    return clusters


def _missing_rows(taxonomy: Taxonomy, scored: pd.DataFrame, clusters: pd.DataFrame,
                  language: str) -> pd.DataFrame:
    """``clusters`` with a row for every issue the items name: a pinned issue (named by the edits later, its
    examples as its keyphrases), or an id only the taxonomy brings here (a merge target absent tonight takes its
    source's)."""
    missing = sorted(set(scored["issue_id"]) - set(clusters["issue_id"]) - {OUTLIER})
    if not missing:
        return clusters
    # an issue no cluster made (a pinned one) takes its items' most common language as its space
    space = scored.groupby("issue_id")["lang"].agg(lambda s: s.mode().iloc[0] if len(s.mode()) else "")
    return pd.concat([clusters, pd.DataFrame([{
        "issue_id": c, "space": space.get(c, ""), "label": c, "verbatims": [],
        "keyphrases": _pin_keyphrases(taxonomy, str(c), language)} for c in missing])], ignore_index=True)


def _merge(taxonomy: Taxonomy, scored: pd.DataFrame, clusters: pd.DataFrame, known_issues: set[str]) -> pd.DataFrame:
    """Merges, transitively: the items of a merged issue move (in ``scored``, in place) to its target, an issue
    of this run or a known one; returns ``clusters`` without the merged issues' rows."""
    targets = {i: taxonomy.merge_target(i) for i in taxonomy.issues if taxonomy.issues[i].merge_into}
    targets = {i: t for i, t in targets.items() if t in set(clusters["issue_id"]) | set(known_issues)}
    if not targets:
        return clusters
    scored["issue_id"] = scored["issue_id"].replace(targets)
    # a target this run has no cluster for (dormant tonight) takes over the row of what merges into it
    have = set(clusters["issue_id"])
    for source, target in targets.items():
        if target not in have and source in have:
            clusters.loc[clusters["issue_id"] == source, "issue_id"] = target
            have.add(target)
    return clusters[~clusters["issue_id"].isin(targets)]


def _pin_keyphrases(taxonomy: Taxonomy, issue_id: str, language: str) -> list[str]:
    """A pinned issue's first examples in ``language`` (else in Japanese); nothing for any other issue."""
    pin = taxonomy.pinned.get(issue_id[len(PIN_PREFIX):]) if issue_id.startswith(PIN_PREFIX) else None
    if pin is None:
        return []
    return (pin.examples_ja if language == "ja" else pin.examples_en)[:3] or pin.examples_ja[:3]


def starting_file(states: pd.DataFrame, stages: list[str]) -> str:
    """A taxonomy file listing the store's current issues (active first) with their labels as comments, for
    an analyst to edit: `koe taxonomy`."""
    lines = ["# koe taxonomy: edits to issues, applied on every run (see nlp/taxonomy.py for every field).",
             f"# stages: {', '.join(stages)}", "issues:"]
    order = states.assign(active=states["status"] != "active").sort_values(["active", "size"], ascending=[True, False])
    for row in order.itertuples():
        lines.append(f"  # {row.label} ({row.size} items, {row.status})")
        lines.append(f"  {row.issue_id}: {{}}")
    lines += ["pinned: {}", ""]
    return "\n".join(lines)
