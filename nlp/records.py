"""Typed records passed between the nightly flow's steps, in place of dicts picked by string: what ingest read
(``IngestSummary``), what the store knew before the run (``PriorRun``), the run's clustering plan (``RunPlan``)
and what issue tracking hands on (``IssueTracking``, ``KnownIssues``). Frozen: a step that needs another value
makes a new record (``dataclasses.replace``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath

import pandas as pd


@dataclass(frozen=True)
class PriorRun:
    """The store as a run finds it, read once after ingest (nlp.store.Store.prior_run): nothing in it changes
    until the run completes.

    ``run_id``: the latest completed run (None before the first); ``last_full_fit``: the summary of the latest
    completed full fit (None before the first); ``issues``: every known issue's state
    (store.results.issue_states); ``assignments`` and ``clusters``: the latest completed run's results
    (store.results.latest); ``history``: every stored item with its most recent result (store.results.history,
    the trends' basis); ``seen_before``: the item ids of the latest completed run before this one (None when
    there is none: the follow-up queue marks none new)."""

    run_id: str | None
    last_full_fit: dict | None
    issues: pd.DataFrame
    assignments: pd.DataFrame
    clusters: pd.DataFrame
    history: pd.DataFrame
    seen_before: set[str] | None

    def members(self, include_outliers: bool = False) -> pd.DataFrame:
        """item_id, issue_id of the latest completed run (its outliers too with ``include_outliers``); empty
        before the first."""
        if self.run_id is None:
            return pd.DataFrame(columns=["item_id", "issue_id"])
        frame = self.assignments
        if not include_outliers:
            frame = frame[frame["issue_id"] != "outlier"]
        return frame[["item_id", "issue_id"]].reset_index(drop=True)


@dataclass(frozen=True)
class StoredRun:
    """A completed run as the store keeps it, read once for a re-render (nlp.store.Store.stored_run).

    ``summary``: what the run was closed with (store.runs.summary); ``assignments`` and ``clusters``: its results;
    ``items``: the stored items of its window (``summary["window"]``, [start, end) in UTC; every stored item for
    a run recorded before koe kept it); ``issues``: every known issue's state; ``events``: the run's issue events;
    ``first_run``: no run completed before it; ``seen_before`` and ``history`` as in PriorRun."""

    run_id: str
    summary: dict
    assignments: pd.DataFrame
    clusters: pd.DataFrame
    items: pd.DataFrame
    issues: pd.DataFrame
    events: pd.DataFrame
    first_run: bool
    seen_before: set[str] | None
    history: pd.DataFrame

    @property
    def report_date(self) -> str | None:
        """The date folder the run wrote its report into (None when it wrote none)."""
        report = self.summary.get("report")
        return PurePath(report).parent.name if report else None


@dataclass(frozen=True)
class RunPlan:
    """How a run clusters: ``clustering`` "full" (from scratch) or "delta" (new items into known issues), the
    newest item's time ``as_of``, the ``fit_key`` of the config a delta run must share with the last full fit and
    what ran the partitions (``runner``, flows.runner.runner_info). A re-render rebuilds it from its run's summary,
    where an old one may lack a field (None)."""

    clustering: str | None
    as_of: str | None
    fit_key: str | None
    runner: dict | None = None

    @property
    def delta(self) -> bool:
        return self.clustering == "delta"

    def summary(self) -> dict:
        """The fields the run summary records (those that are set)."""
        fields = {"clustering": self.clustering, "as_of": self.as_of, "fit_key": self.fit_key, "runner": self.runner}
        return {k: v for k, v in fields.items() if v is not None}

    @classmethod
    def from_summary(cls, summary: dict) -> RunPlan:
        return cls(summary.get("clustering"), summary.get("as_of"), summary.get("fit_key"))


@dataclass
class RunState:
    """What a run (or a re-render) gathers as it goes, for its report, manifest and summary: its ``run_id`` and
    ``run_date`` (the report's folder), ``plan``, each step's time in seconds (``timings``), the vectors it
    ``embedded``, its ``window`` ([start, end) in UTC, None for all), what scored the ``sentiment`` and, for a
    re-render, when it was made (``rerendered_at``, local time). The one record a flow fills in step by step."""

    run_id: str
    run_date: str
    plan: RunPlan
    timings: dict[str, float] = field(default_factory=dict)
    embedded: int = 0
    window: list[str | None] | None = None
    sentiment: dict = field(default_factory=dict)
    rerendered_at: str | None = None


@dataclass(frozen=True)
class ReportMeta:
    """What a report says about its run: ids and dates, the items analysed (``n_items``, by source kind
    ``by_kind``, the local dates ``period_start`` to ``period_end``), the quarantined rows, the run's counts,
    koe's version, the survey answers counted without a comment and, for a re-render, when it was made."""

    run_id: str
    run_date: str
    n_items: int
    n_quarantined: int
    counts: dict[str, int]
    by_kind: dict[str, int]
    period_start: str
    period_end: str
    koe_version: str
    n_answers_only: int = 0
    rerendered_at: str | None = None


@dataclass(frozen=True)
class KnownIssues:
    """What the ranking and the alerts need of issue tracking: this run's issue ``events``, the ``labels`` and
    ``radius`` of every issue, and whether these are the very first issues (``first_run``: no "new" alerts)."""

    events: pd.DataFrame
    labels: dict[str, str]
    radius: dict[str, float]
    first_run: bool


@dataclass(frozen=True)
class IssueTracking:
    """This run's clusters under issue ids: ``assigned`` (item_id, space, issue_id, centrality) and ``clusters``
    (issue_id, space, size, label, ...), the issue ``states`` to store and the ``known`` issues for the ranking."""

    assigned: pd.DataFrame
    clusters: pd.DataFrame
    states: pd.DataFrame
    known: KnownIssues


@dataclass(frozen=True)
class ReportTables:
    """The report's tables of one run (nlp.tables.report_tables), what build_report shows and publish writes.

    ``scored``: the window's items with stage, issue, sentiment and flags; ``clusters``: its issues (label, size,
    space); ``pain_points``: the ranking per stage; ``overall_metrics``, ``stage_metrics``, ``issue_metrics``:
    NPS, CSAT, CES, FCR and response times; ``issue_impact``: each issue's effect on them; ``stage_weekly``,
    ``issue_weekly``, ``issue_daily``: trends; ``followup``: the queue's first cfg.followup.max_items items and
    ``followup_rest`` the number left out; ``alerts``: the issues that rose or appeared; ``listening``, ``abuse``,
    ``held_back`` (issues kept out of the ranking, with why), ``segment_lift``, ``segment_metrics``;
    ``taxonomy_stale``: the taxonomy edits that no longer apply (issue ids)."""

    scored: pd.DataFrame
    clusters: pd.DataFrame
    pain_points: pd.DataFrame
    overall_metrics: pd.DataFrame
    stage_metrics: pd.DataFrame
    issue_metrics: pd.DataFrame
    issue_impact: pd.DataFrame
    stage_weekly: pd.DataFrame
    issue_weekly: pd.DataFrame
    issue_daily: pd.DataFrame
    followup: pd.DataFrame
    followup_rest: int
    alerts: pd.DataFrame
    listening: pd.DataFrame
    abuse: pd.DataFrame
    held_back: pd.DataFrame
    segment_lift: pd.DataFrame
    segment_metrics: pd.DataFrame
    taxonomy_stale: tuple[str, ...]


# the counts of SourceIngest, in the order the manifest writes them
INGEST_COUNTS = ("rows_read", "items", "new_items", "updated_items", "duplicates_in_file", "quarantined",
                 "new_quarantined", "reused_rows")


@dataclass(frozen=True)
class SourceIngest:
    """What ingest read of one source this run: rows read, items (``new_items`` new to the store,
    ``updated_items`` changed, ``reused_rows`` unchanged since read and not parsed again), rows quarantined
    (``new_quarantined`` first seen now), the file encoding, each file's hash, and the first quarantine reason (why
    a source that gave no item gave none)."""

    kind: str
    rows_read: int = 0
    items: int = 0
    new_items: int = 0
    updated_items: int = 0
    duplicates_in_file: int = 0
    quarantined: int = 0
    new_quarantined: int = 0
    reused_rows: int = 0
    encoding: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    first_reason: str | None = None

    @property
    def already_stored(self) -> int:
        """Items the store held before, unchanged."""
        return self.items - self.new_items - self.updated_items

    def as_dict(self) -> dict:
        """The record as the manifest and the run summary write it."""
        return {"kind": self.kind, **{name: getattr(self, name) for name in INGEST_COUNTS},
                "already_stored": self.already_stored, "encoding": self.encoding, "files": dict(self.files),
                "first_reason": self.first_reason}


@dataclass(frozen=True)
class IngestSummary:
    """What ingest read, source by source (config order)."""

    sources: dict[str, SourceIngest]

    def total(self, count: str) -> int:
        """One count (a field of SourceIngest, or already_stored) over every source."""
        return sum(int(getattr(s, count)) for s in self.sources.values())

    def counts(self) -> dict[str, int]:
        """The run's totals the report and the run summary show."""
        return {name: self.total(name) for name in ("rows_read", "new_items", "updated_items", "already_stored",
                                                     "duplicates_in_file", "quarantined")}

    def as_dict(self) -> dict:
        return {name: source.as_dict() for name, source in self.sources.items()}

    @classmethod
    def from_run_summary(cls, summary: dict, stored: int) -> IngestSummary:
        """What a completed run read, from its summary (store.runs.summary); a summary written before koe kept it
        gives its totals as one source, "(from store)", holding the ``stored`` items it analysed."""
        if "ingest" in summary:
            return cls({name: SourceIngest(**{k: v for k, v in read.items() if k != "already_stored"})
                        for name, read in summary["ingest"].items()})
        return cls({"(from store)": SourceIngest(kind="(from store)", rows_read=summary.get("rows_read", 0),
                                                 items=stored, quarantined=summary.get("quarantined", 0))})
