"""Sources: read a configured input file into canonical items plus quarantined rows, a batch of rows at a time."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path

import numpy as np
import pandas as pd

from nlp import language, normalize, pii
from nlp.config import IngestConfig, SourceConfig
from nlp.pii import redact_pii
from nlp.schema import OPTIONAL_FIELDS, QUARANTINE_COLUMNS, REQUIRED_FIELDS, conform, stable_hash
from nlp.sources import canonical, dates
from nlp.sources.canonical import RowError, resolve_mapping, to_item
from nlp.sources.files import BadRow, SourceFileError, read_file

__all__ = ["SourceBatch", "read_source", "iter_source", "describe_kinds", "SourceFileError"]


@dataclass(frozen=True)
class SourceBatch:
    """What (part of) one source gave: canonical items, de-duplicated by item_id within the source, each with the
    ``row_hash`` of the row it came from; quarantined rows. ``reused``: items taken from the store as they were,
    because the very same row gave them before (not parsed again)."""

    name: str
    rows_read: int
    items: pd.DataFrame
    quarantine: pd.DataFrame
    duplicates_in_file: int
    encoding: str | None
    reused: int = 0


# the row hash covers the code that turns a row into an item: after a change to it, every row is parsed again
_CODE = stable_hash(*(Path(m.__file__).read_bytes() for m in (canonical, dates, normalize, pii, language)))

KnownRows = Callable[[list[str]], pd.DataFrame]


def read_source(source: SourceConfig, ingest: IngestConfig, base_dir: Path,
                now: pd.Timestamp | None = None, known: KnownRows | None = None) -> SourceBatch:
    """The whole of one source as one batch (``iter_source`` gives it a batch of rows at a time)."""
    parts = list(iter_source(source, ingest, base_dir, now, known))
    return SourceBatch(
        source.name, sum(p.rows_read for p in parts), pd.concat([p.items for p in parts], ignore_index=True),
        pd.concat([p.quarantine for p in parts], ignore_index=True), sum(p.duplicates_in_file for p in parts),
        next((p.encoding for p in parts if p.encoding), None), sum(p.reused for p in parts))


def iter_source(source: SourceConfig, ingest: IngestConfig, base_dir: Path, now: pd.Timestamp | None = None,
                known: KnownRows | None = None) -> Iterator[SourceBatch]:
    """Read every file matching ``source.path`` (relative to ``base_dir``) in batches of ``ingest.batch_size``
    rows, so memory holds a batch, not the file; never raises for bad rows. Dates after ``now`` (default: the
    current time) plus the configured tolerance are quarantined. ``known(row_hashes)``: the stored items (with
    their row_hash) that these exact rows gave before; they are reused instead of parsed again."""
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    paths = _expand(source.path, base_dir)
    seen: dict[str, str] = {}  # item_id -> content_hash of the source's first row with that id
    if not paths:
        reason = f"no file matches {source.path!r} (relative to {base_dir})"
        yield _batch(source, 0, _items(), [_q(source, source.path, 0, reason, "")], seen, None)
    salt = stable_hash(_CODE, source.model_dump_json(), ingest.model_dump_json(exclude={"batch_size"}))
    for path in paths:
        try:
            records = read_file(path, source.format, source.encoding, ingest.batch_size)
        except SourceFileError as exc:
            yield _batch(source, 0, _items(), [_q(source, str(path), 0, str(exc), "")], seen, None)
            continue
        try:
            mapping, unmapped = resolve_mapping(source, records.columns), None
        except RowError as exc:
            mapping, unmapped = None, str(exc)
        rows = iter(records.rows)
        if (first := next(rows, None)) is None:  # a header and no rows: nothing to lose, but say which encoding
            yield _batch(source, 0, _items(), [], seen, records.encoding)
            continue
        rows = chain([first], rows)
        while chunk := list(islice(rows, ingest.batch_size)):
            good = [r for r in chunk if not isinstance(r, BadRow)]
            quarantine = [_q(source, str(path), b.row_number, b.reason, b.raw) for b in chunk if isinstance(b, BadRow)]
            if mapping is None:
                quarantine += [_q(source, str(path), n, unmapped, _raw(r)) for n, r in good]
                yield _batch(source, len(chunk), _items(), quarantine, seen, records.encoding)
                continue
            hashes = [stable_hash(salt, _raw(record, sort=True)) for _, record in good]
            stored = _known(known, hashes)
            parsed, parsed_hashes, parsed_at, reused, reused_at = [], [], [], [], []
            for position, ((number, record), row_hash) in enumerate(zip(good, hashes)):
                if row_hash in stored.index:
                    reused.append(row_hash)
                    reused_at.append(position)
                    continue
                try:
                    parsed.append(to_item(record, mapping, source, ingest, now))
                    parsed_hashes.append(row_hash)
                    parsed_at.append(position)
                except RowError as exc:
                    quarantine.append(_q(source, str(path), number, str(exc), _raw(record)))
            frame = pd.concat([_items(pd.DataFrame(parsed), parsed_hashes, parsed_at),
                               _items(stored.loc[reused], reused, reused_at)]).sort_index(kind="stable")
            yield _batch(source, len(chunk), frame.reset_index(drop=True), quarantine, seen, records.encoding,
                         len(reused))


def _known(known: KnownRows | None, hashes: list[str]) -> pd.DataFrame:
    stored = known(hashes) if known is not None and hashes else _items()
    return stored.drop_duplicates("row_hash").set_index("row_hash", drop=False)


def _items(frame: pd.DataFrame | None = None, row_hashes: list[str] = (), positions: list[int] = ()) -> pd.DataFrame:
    """Items (parsed or stored) as a canonical frame with the hash of each one's row, indexed by the row's
    position in its batch (so parsed and reused rows go back into file order)."""
    frame = conform(frame if frame is not None else pd.DataFrame())
    return frame.assign(row_hash=pd.array(list(row_hashes), dtype="string")).set_axis(
        pd.Index(list(positions), dtype=int))


def _batch(source: SourceConfig, rows_read: int, frame: pd.DataFrame, quarantine: list[dict], seen: dict[str, str],
           encoding: str | None, reused: int = 0) -> SourceBatch:
    """The batch without the ids seen earlier in this source: an exact repeat of an id is a duplicate; the same
    id with another text is a conflict to look at (quarantined; the first one is kept)."""
    keep, dupes = np.ones(len(frame), dtype=bool), 0
    rows = zip(frame["item_id"], frame["content_hash"], frame["text"], frame["source_id"])
    for k, (item_id, content, text, source_id) in enumerate(rows):
        first = seen.get(item_id)
        if first is None:
            seen[item_id] = content
            continue
        keep[k] = False
        if first == content:
            dupes += 1
        else:
            quarantine.append(_q(source, source.path, 0, f"duplicate id {source_id!r} with a different text "
                                 "(the first one was kept)", text))
    return SourceBatch(source.name, rows_read, frame[keep].reset_index(drop=True), _quarantine(quarantine), dupes,
                       encoding, reused)


def describe_kinds() -> dict[str, dict[str, list[str]]]:
    """What each source kind expects: required and optional canonical fields."""
    return {k: {"required": list(REQUIRED_FIELDS[k]), "optional": list(OPTIONAL_FIELDS[k])} for k in REQUIRED_FIELDS}


def _expand(pattern: str, base_dir: Path) -> list[Path]:
    p = Path(pattern)
    p = p if p.is_absolute() else base_dir / p
    if any(ch in pattern for ch in "*?["):
        return sorted(p.parent.glob(p.name))
    return [p] if p.exists() else []


def _raw(record: dict, sort: bool = False) -> str:
    return json.dumps(record, ensure_ascii=False, default=str, sort_keys=sort)


def _q(source: SourceConfig, path: str, number: int, reason: str, raw: str) -> dict:
    # the raw row is kept for a person to fix it, but never with PII in it, nor in the reason (which may quote a
    # value from a shifted column)
    return {"source_name": source.name, "source_path": path, "row_number": number,
            "reason": redact_pii(reason, handles=True), "raw": redact_pii(raw, handles=True)}


def _quarantine(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(QUARANTINE_COLUMNS))
