"""Reviews (a shop's, an app store's): a star rating and the product reviewed."""

from __future__ import annotations

from nlp.config import IngestConfig, SourceConfig
from nlp.sources.kinds import register
from nlp.sources.values import Get, as_text, number_in


@register("review", required=("text", "created_at"),
          optional=("source_id", "rating", "product", "author", "customer_id", "answered"))
def review_fields(get: Get, source: SourceConfig, ingest: IngestConfig) -> dict:
    return {"rating": number_in(get("rating"), "rating", 1, 5), "product": as_text(get("product")).strip() or None}
