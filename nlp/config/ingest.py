"""Config sections of reading the sources: each source, PII redaction, ingest and the store."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from pydantic import Field, SerializeAsAny, field_validator, model_validator

from nlp.config.base import _fold_options, _known_timezone, _Model, _WithOptions


class SourceOptions(_Model):
    """The options of one source kind. Each kind declares its own (a subclass in its module of
    nlp/sources/kinds, named where it registers: a social source's ``platform``); this base takes none."""


class SourceConfig(_WithOptions):
    """One input file (or glob) of one source kind, with the mapping from its columns to ours and the kind's own
    options (typed in the kind's module, checked here; in YAML they stand beside the other keys)."""

    name: str
    kind: str  # a registered source kind: one module of nlp/sources/kinds declares it (`koe sources` lists them)
    path: str
    format: Literal["auto", "csv", "json", "jsonl", "parquet"] = "auto"
    encoding: str = "auto"
    columns: dict[str, str | list[str]] = Field(default_factory=dict)
    # a source that gives no item (no file matches, a mapped column is missing, every row quarantined) fails
    # the run, naming the source and the reason, unless this is true
    allow_empty: bool = False
    # segment name -> the file's column (app version, device, plan, region, store, airline...): kept with each
    # item, and every pain point shows the segment values it is over-represented in (section `segments`)
    segments: dict[str, str] = Field(default_factory=dict)
    options: SerializeAsAny[SourceOptions] = Field(default_factory=SourceOptions)

    @model_validator(mode="before")
    @classmethod
    def _kind_options(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
            return data
        from nlp.sources.kinds import kinds  # the registry: read when a config is validated, not imported

        declared = kinds().get(data["kind"])
        if declared is None:
            return data  # the kind's own validator names the kinds
        keys = tuple(k for k in cls.model_fields if k != "options")

        def explain(problems: str, allowed: str) -> str:
            own = f"; its own options: {allowed}" if declared.options.model_fields else " (no options of its own)"
            return f"source {data.get('name')!r}: {problems}; a {declared.name} source takes {', '.join(keys)}{own}"

        return _fold_options(data, keys, declared.options, explain, noun="key")

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
        from nlp.sources.kinds import kind

        kind(v)  # a ValueError naming the registered kinds
        return v

    @model_validator(mode="after")
    def _known_fields(self) -> "SourceConfig":
        from nlp.sources.kinds import kind

        fields = kind(self.kind).accepts
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
