"""Config sections of what a run gives: alerts, metrics, ranking, the follow-up queue, listening, segments, the
taxonomy, the report, the schedule and the Dask runner."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from nlp.config.base import _known_timezone, _Model


class AlertsConfig(_Model):
    """Emerging-issue alerts: a binomial test of the recent share against the baseline share."""

    recent_days: int = 7
    short_days: int = 2  # a second, shorter recent window: surges show within days
    baseline_days: int = 28
    false_alarm_rate: float = 0.01  # per issue and run
    min_count: int = 5  # fewer recent items never alert
    sentiment_drop: float = 0.25  # a mean-sentiment drop at least this large (and significant) alerts


class MetricsConfig(_Model):
    """CX metrics per stage and per issue (NPS, CSAT, CES, rating, response/resolution times, FCR)."""

    min_count: int = 10  # fewer answers: "not enough data", no value shown and no impact computed
    confidence: float = 0.95  # of the intervals (Wilson for shares, normal for NPS/means, order statistics
    # for medians and p90)
    fcr_repeat_days: float = 7.0  # a ticket is not first-contact resolved if its customer writes again within this

    @field_validator("confidence")
    @classmethod
    def _proper(cls, v: float) -> float:
        if not 0.5 <= v < 1:
            raise ValueError("metrics.confidence must be in [0.5, 1)")
        return v


class RankWeights(_Model):
    volume: float = 0.30
    negativity: float = 0.25
    growth: float = 0.15
    severity: float = 0.15
    impact: float = 0.15  # how much NPS/CSAT/CES/rating/FCR would gain if the pain point's items scored like the rest

    @model_validator(mode="after")
    def _sensible(self) -> RankWeights:
        values = self.model_dump()
        if any(w < 0 for w in values.values()):
            raise ValueError(f"rank.weights must be >= 0, got {values}")
        if sum(values.values()) <= 0:
            raise ValueError("rank.weights sum to 0: at least one weight must be positive")
        return self


class RankConfig(_Model):
    weights: RankWeights = Field(default_factory=RankWeights)
    min_items: int = 3  # a (stage, issue) pair with fewer items is not a pain point
    min_negative_share: float = 0.25  # nor is one whose items are mostly positive (praise is not a pain point)
    # nor is an issue whose items are mostly not problem reports (praise, jokes, marketing, plain questions;
    # nlp/problems.py), nor one far looser than the others of its space (1 - mean member-centroid cosine above
    # this many times the median); both are kept, listed as held back (bench/trust.py)
    min_problem_share: float = 0.5
    incoherent_factor: float = 1.5
    top_n: int = 5
    verbatims: int = 3  # quotes per pain point, from its own stage, most central first
    slow_resolution_hours: float = 48.0
    severe_sentiment: float = Field(default=-0.6, ge=-1, le=0)  # text this negative or worse counts as severe
    severe_score_at_most: float = Field(default=2.0, ge=1, le=5)  # as do stars or CSAT (1-5) this low
    repeat_contacts: int = Field(default=2, ge=2)  # and this many contacts for the same ticket (or a reopen)


class PriorityWeights(_Model):
    """What puts a follow-up first, besides its urgency (negativity and reasons): each term is 0..1."""

    reach: float = Field(default=0.5, ge=0)  # the size of the item's issue against the largest
    customer: float = Field(default=0.5, ge=0)  # the customer's other contacts in the window (contacts_for_full+ = 1)
    age: float = Field(default=0.5, ge=0)  # days waiting (days_for_full or more = 1)


class FollowupConfig(_Model):
    sentiment_below: float = -0.5
    unresolved_after_days: float = 3.0
    detractors: bool = True  # survey answers with NPS 0-6 need an answer too
    csat_at_most: float = 2.0  # and CSAT answers this low
    priority_weights: PriorityWeights = Field(default_factory=PriorityWeights)
    contacts_for_full: float = Field(default=3.0, gt=0)  # other contacts of the customer that give its full term
    days_for_full: float = Field(default=7.0, gt=0)  # days waiting that give the age term in full
    # the queue (followup.csv and the report) holds the first this many, the rest are counted; null: all
    max_items: int | None = Field(default=100, ge=1)


class Brand(_Model):
    name: str
    variants: list[str] = Field(default_factory=list)  # spellings to count (Japanese and English); name included


class ListeningConfig(_Model):
    """Social listening: mentions of our brand and of competitors, with sentiment and top issues."""

    brands: list[Brand] = Field(default_factory=list)
    competitors: list[Brand] = Field(default_factory=list)
    top_issues: int = 3


class AgentConfig(_Model):
    """Agent experience: abusive customer messages (insults, threats; カスハラ)."""

    quote_abusive: bool = False  # abusive messages are kept out of the report's quotes unless this is true


REPORT_LANGUAGES = ("ja", "en")  # the languages a report is written in (report.language)


class ReportConfig(_Model):
    language: Literal["ja", "en"] = "ja"
    title: str = "koe — customer voice report"
    out_dir: str = "out/reports"
    max_verbatims: int = Field(default=50, ge=1)  # per issue in its full verbatim list (the rest counted)
    followup_rows: int = Field(default=20, ge=0)  # first rows of the follow-up queue shown (all in followup.csv)
    impact_rows: int = Field(default=10, ge=1)  # issues in the report's impact ranking
    todo_rows: int = Field(default=3, ge=0)  # pain points in the report's to-do list, best score first
    verbatim_chars: int = Field(default=500, ge=1)  # each text of an issue's full verbatim list is cut here
    followup_chars: int = Field(default=300, ge=1)  # and a follow-up row's (the whole text: followup.csv)


class ScheduleConfig(_Model):
    cron: str = "0 2 * * *"
    timezone: str = "Asia/Tokyo"

    _timezone = field_validator("timezone")(_known_timezone)


class DaskConfig(_Model):
    """Where ``runner: dask`` sends the tokenize and embed partitions (through prefect-dask's DaskTaskRunner)."""

    address: str | None = None  # an existing scheduler, e.g. "tcp://10.0.0.5:8786"; None: a LocalCluster
    n_workers: int = Field(default=2, ge=1)  # LocalCluster only
    threads_per_worker: int = Field(default=1, ge=1)  # LocalCluster only


class SegmentsConfig(_Model):
    """Where a pain point lives: the segment values (from sources' `segments:` columns) in which an issue's items
    are over-represented against the rest (one-sided Fisher exact test, Bonferroni over the values tested)."""

    min_count: int = Field(default=5, ge=1)  # an issue's items with the value, at least
    min_lift: float = Field(default=1.5, gt=1)  # share of the value in the issue / its share in the rest
    alpha: float = Field(default=0.01, gt=0, lt=1)  # family-wise, per run
    top: int = Field(default=3, ge=1)  # values shown per pain point
    # where to look for a stage's top pain point: the issues its customers also wrote about within
    # co_occurring_days (the first co_occurring_top), and the first day its daily share rose above rise_factor
    # times its median share with at least rise_min_count items (once its daily series has rise_min_days days)
    co_occurring_days: float = Field(default=14.0, gt=0)
    co_occurring_top: int = Field(default=3, ge=1)
    rise_factor: float = Field(default=2.0, gt=0)
    rise_min_count: int = Field(default=3, ge=1)
    rise_min_days: int = Field(default=3, ge=1)


class TaxonomyConfig(_Model):
    """The analysts' edits to issues (nlp/taxonomy.py): rename, merge, noise, split, stage, pinned issues."""

    path: str | None = None  # a YAML file, relative to where koe runs; `koe taxonomy` prints a starting one
    # a pinned issue takes an item whose similarity to one of its examples reaches this (and beats the item's
    # similarity to its own issue's centroid)
    pin_min_similarity: float = Field(default=0.6, ge=-1, le=1)
