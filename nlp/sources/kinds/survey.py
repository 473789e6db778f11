"""Survey answers: NPS, CSAT and CES scores, where the survey was asked and the comment. An answer without a
comment is kept when it has a score (it counts in NPS/CSAT/CES, not in the text analysis)."""

from __future__ import annotations

from nlp.config import IngestConfig, SourceConfig, SourceOptions
from nlp.sources.kinds import register
from nlp.sources.values import Get, as_text, channel, number_in

_SCORES = (("nps", 0, 10), ("csat", 1, 5), ("ces", 1, 7))  # field, lowest, highest


class SurveyOptions(SourceOptions):
    channel: str | None = None  # constant channel the survey was sent by, for files that lack a column


@register("survey", required=("text", "created_at"),
          optional=("source_id", "nps", "csat", "ces", "touchpoint", "channel", "author", "customer_id", "answered"),
          options=SurveyOptions, scored_by=tuple(field for field, _, _ in _SCORES))
def survey_fields(get: Get, source: SourceConfig, ingest: IngestConfig) -> dict:
    scores = {field: number_in(get(field), field, low, high) for field, low, high in _SCORES}
    return {**scores, "touchpoint": as_text(get("touchpoint")).strip() or None,
            "channel": channel(get("channel"), source.options.channel)}
