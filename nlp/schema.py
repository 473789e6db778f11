"""The canonical feedback item: one row per review, social mention or ticket, whatever its source."""

from __future__ import annotations

import hashlib

import pandas as pd

SOURCE_KINDS = ("review", "social", "ticket")

# column -> (pandas dtype, description). The order is the order of the store's items table.
ITEM_COLUMNS: dict[str, tuple[str, str]] = {
    "item_id": ("string", "stable id: hash of source name + source id (or of the content when there is none)"),
    "source_kind": ("string", "review | social | ticket"),
    "source_name": ("string", "the source's name in config"),
    "source_id": ("string", "the row's id in its source, if any"),
    "created_at": ("datetime64[us, UTC]", "when the customer wrote it (UTC)"),
    "text": ("string", "normalised, PII-redacted text"),
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
    "csat": ("Float64", "CSAT 1-5 attached to a ticket"),
}

# canonical fields a source kind must map (the rest are optional)
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "review": ("text", "created_at"),
    "social": ("text", "created_at"),
    "ticket": ("text", "created_at"),
}

# fields a reader accepts from the user's columns, per kind (text may be built from subject + body)
OPTIONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "review": ("source_id", "rating", "product", "author"),
    "social": ("source_id", "author", "platform", "reach", "likes"),
    "ticket": ("source_id", "subject", "author", "channel", "first_response_at", "resolved_at",
               "contact_count", "reopened", "csat"),
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
