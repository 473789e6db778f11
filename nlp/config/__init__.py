"""PipelineConfig: the one source of truth for a run, read from YAML. Defaults live here only.
Each section is one model in a submodule (ingest, analysis, outputs); every one is importable from here."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, field_validator

from nlp.config.base import _Model
from nlp.config.ingest import IngestConfig, PiiConfig, SourceConfig, SourceOptions, StoreConfig
from nlp.config.analysis import (ClusterConfig, EmbedConfig, EmbedderOptions, EmbedderSpec, IssuesConfig, LabelConfig,
                                 SentimentConfig, Stage, StagesConfig, TrendsConfig)
from nlp.config.outputs import (AgentConfig, AlertsConfig, Brand, DaskConfig, FollowupConfig, ListeningConfig,
                                MetricsConfig, PriorityWeights, RankConfig, RankWeights, ReportConfig, ScheduleConfig,
                                SegmentsConfig, TaxonomyConfig)

__all__ = ["AgentConfig", "AlertsConfig", "Brand", "ClusterConfig", "ConfigError", "DaskConfig", "EmbedConfig",
           "EmbedderOptions", "EmbedderSpec", "FollowupConfig", "IngestConfig", "IssuesConfig", "LabelConfig",
           "ListeningConfig", "MetricsConfig", "PiiConfig", "PipelineConfig", "PriorityWeights", "RankConfig",
           "RankWeights", "ReportConfig", "ScheduleConfig", "SegmentsConfig", "SentimentConfig", "SourceConfig",
           "SourceOptions", "Stage", "StagesConfig", "StoreConfig", "TaxonomyConfig", "TrendsConfig", "load_config"]


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
