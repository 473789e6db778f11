"""Support tickets: the channel, response and resolution times, contacts, reopening and CSAT. A ticket's text may
be its subject and body; @handles in it are redacted (agents' and customers' accounts)."""

from __future__ import annotations

from nlp.config import IngestConfig, SourceConfig, SourceOptions
from nlp.sources.kinds import register
from nlp.sources.values import Get, channel, number, number_in, optional_date, yes_no


class TicketOptions(SourceOptions):
    channel: str | None = None  # constant channel (email, chat, phone, web_form) for files that lack a column


@register("ticket", required=("text", "created_at"),
          optional=("source_id", "subject", "author", "customer_id", "channel", "first_response_at", "resolved_at",
                    "contact_count", "reopened", "csat"),
          options=TicketOptions, redact_handles=True)
def ticket_fields(get: Get, source: SourceConfig, ingest: IngestConfig) -> dict:
    # read before the dates: a row's reason is the first of its values that cannot be read
    csat = number_in(get("csat"), "csat", 1, 5)
    contacts = number(get("contact_count"), "contact_count")
    reopened = yes_no(get("reopened"), "reopened")
    return {
        "channel": channel(get("channel"), source.options.channel),
        "first_response_at": optional_date(get("first_response_at"), "first_response_at", ingest),
        "resolved_at": optional_date(get("resolved_at"), "resolved_at", ingest),
        "contact_count": contacts,
        "reopened": reopened,
        "csat": csat,
    }
