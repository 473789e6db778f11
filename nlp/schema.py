"""The canonical feedback item: one row per review, social mention, ticket or survey answer, whatever its source
(which fields each source kind maps: nlp/sources/kinds)."""

from __future__ import annotations

import hashlib

import pandas as pd

# column -> (pandas dtype, description). The order is the order of the store's items table.
ITEM_COLUMNS: dict[str, tuple[str, str]] = {
    "item_id": ("string", "stable id: hash of source name + source id (or of the content when there is none)"),
    "source_kind": ("string", "a registered source kind (nlp/sources/kinds: review, social, ...)"),
    "source_name": ("string", "the source's name in config"),
    "source_id": ("string", "the row's id in its source, if any"),
    "created_at": ("datetime64[us, UTC]", "when the customer wrote it (UTC)"),
    "text": ("string", "normalised, PII-redacted text (empty only for a survey answer without a comment)"),
    "content_hash": ("string", "hash of text: the embedding cache key"),
    "lang": ("string", "ja | en | other"),
    "rating": ("Float64", "star rating 1-5 (reviews)"),
    "product": ("string", "product or SKU (reviews)"),
    "author_hash": ("string", "hash of the author handle or customer id; never the handle itself"),
    "platform": ("string", "social platform (x, instagram, line, ...)"),
    "channel": ("string", "ticket channel: email | chat | phone | web_form"),
    "reach": ("Float64", "followers / impressions (social)"),
    "likes": ("Float64", "likes / reactions (social)"),
    "first_response_at": ("datetime64[us, UTC]", "first agent answer (tickets)"),
    "resolved_at": ("datetime64[us, UTC]", "resolution time (tickets)"),
    "contact_count": ("Float64", "contacts for the same issue (tickets)"),
    "reopened": ("boolean", "ticket was reopened"),
    "csat": ("Float64", "CSAT 1-5 (tickets, surveys)"),
    "nps": ("Float64", "likelihood to recommend 0-10 (surveys)"),
    "ces": ("Float64", "customer effort score 1-7, higher = easier (surveys)"),
    "touchpoint": ("string", "where a survey was asked (post-purchase, after support, ...)"),
    "customer_id": ("string", "the customer's id in the source system, for follow-up (PII-redacted)"),
    "answered": ("boolean", "the source says someone already answered this item"),
    "segments": ("string", "segment values from the source's `segments:` columns, a JSON object (or empty)"),
}

QUARANTINE_COLUMNS = ("source_name", "source_path", "row_number", "reason", "raw")


def empty_items() -> pd.DataFrame:
    """An items frame with no rows and the canonical dtypes."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, (t, _) in ITEM_COLUMNS.items()})


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with exactly the canonical columns, in order, with canonical dtypes."""
    out = pd.DataFrame(index=frame.index)
    for col, (dtype, _) in ITEM_COLUMNS.items():
        values = frame[col] if col in frame else pd.Series([None] * len(frame), index=frame.index)
        out[col] = values.astype(dtype)
    return out.reset_index(drop=True)


def stable_hash(*parts: object, length: int = 16) -> str:
    """Hex digest of the parts joined by a separator that cannot occur in normal text."""
    joined = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()[:length]
