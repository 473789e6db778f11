"""Social mentions (posts, tweets): the platform, the author's reach and the post's likes."""

from __future__ import annotations

from nlp.config import IngestConfig, SourceConfig, SourceOptions
from nlp.sources.kinds import register
from nlp.sources.values import Get, as_text, number


class SocialOptions(SourceOptions):
    platform: str | None = None  # constant platform (x, instagram, line, ...) for files that lack a column


@register("social", required=("text", "created_at"),
          optional=("source_id", "author", "platform", "reach", "likes", "answered"), options=SocialOptions)
def social_fields(get: Get, source: SourceConfig, ingest: IngestConfig) -> dict:
    platform = as_text(get("platform")).strip().lower() or source.options.platform
    return {"platform": platform, "reach": number(get("reach"), "reach"), "likes": number(get("likes"), "likes")}
