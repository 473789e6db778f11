"""Sources: read a configured input file into canonical items plus quarantined rows, a batch of rows at a time."""

from __future__ import annotations

import glob
import importlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path

import numpy as np
import pandas as pd

from nlp import language, normalize, pii
from nlp.config import IngestConfig, PiiConfig, SourceConfig
from nlp.normalize import decode_text
from nlp.pii import redact_pii
from nlp.schema import QUARANTINE_COLUMNS, conform, stable_hash
from nlp.sources import canonical, dates, kinds, values
from nlp.sources.canonical import RowError, resolve_mapping, to_item
from nlp.sources.files import BadRow, SourceFileError, check_regular, read_file

__all__ = ["SourceBatch", "read_source", "iter_source", "describe_kinds", "SourceFileError", "source_paths",
           "check_sources"]


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


# the row hash covers the code that turns a row into an item (every kind's module too): after a change to it,
# every row is parsed again
_CODE_MODULES = (canonical, dates, values, normalize, pii, language, kinds,
                 *(importlib.import_module(name) for name in kinds.kind_modules()))
_CODE = stable_hash(*(Path(m.__file__).read_bytes() for m in _CODE_MODULES))

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
    paths = source_paths(source.path, base_dir)
    seen: dict[str, str] = {}  # item_id -> content_hash of the source's first row with that id
    if not paths:
        reason = f"no file matches {source.path!r} (relative to {base_dir})"
        yield _batch(source, ingest.pii, 0, _items(), [_q(source, source.path, 0, reason, "")], seen, None)
    salt = stable_hash(_CODE, source.model_dump_json(), ingest.model_dump_json(exclude={"batch_size"}))
    for path in paths:
        try:
            records = read_file(path, source.format, source.encoding, ingest.batch_size, ingest.max_field_chars)
        except SourceFileError as exc:
            yield _batch(source, ingest.pii, 0, _items(), [_q(source, str(path), 0, str(exc), "")], seen, None)
            continue
        try:
            mapping, unmapped = resolve_mapping(source, records.columns), None
        except RowError as exc:
            mapping, unmapped = None, str(exc)
        rows = iter(records.rows)
        if (first := next(rows, None)) is None:  # a header and no rows: nothing to lose, but say which encoding
            yield _batch(source, ingest.pii, 0, _items(), [], seen, records.encoding)
            continue
        rows = chain([first], rows)
        while chunk := list(islice(rows, ingest.batch_size)):
            good = [r for r in chunk if not isinstance(r, BadRow)]
            quarantine = [_q(source, str(path), b.row_number, b.reason, b.raw) for b in chunk if isinstance(b, BadRow)]
            if mapping is None:
                quarantine += [_q(source, str(path), n, unmapped, r) for n, r in good]
                yield _batch(source, ingest.pii, len(chunk), _items(), quarantine, seen, records.encoding)
                continue
            frame, reused = _parse_rows(good, salt, known, mapping, source, ingest, now, str(path), quarantine)
            yield _batch(source, ingest.pii, len(chunk), frame, quarantine, seen, records.encoding, reused)


def _parse_rows(good: list, salt: str, known: KnownRows | None, mapping: dict[str, list[str]], source: SourceConfig,
                ingest: IngestConfig, now: pd.Timestamp, path: str, quarantine: list[dict]) -> tuple[pd.DataFrame, int]:
    """The items of one batch's readable rows (number, record), in row order, and how many were reused: a row the
    store already holds as it is (by row hash) is taken from there, every other row is parsed. A row that cannot
    be parsed is appended to ``quarantine``, with its reason."""
    hashes = [stable_hash(salt, _storable(_raw(record, sort=True))) for _, record in good]
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
            quarantine.append(_q(source, path, number, str(exc), record))
        except Exception as exc:  # noqa: BLE001 - one row never sinks the night; its message may quote it
            reason = f"row {number} could not be read ({type(exc).__name__}); please report it"
            quarantine.append(_q(source, path, number, reason, record))
    frame = pd.concat([_items(pd.DataFrame(parsed), parsed_hashes, parsed_at),
                       _items(stored.loc[reused], reused, reused_at)]).sort_index(kind="stable")
    return frame.reset_index(drop=True), len(reused)


def _known(known: KnownRows | None, hashes: list[str]) -> pd.DataFrame:
    stored = known(hashes) if known is not None and hashes else _items()
    return stored.drop_duplicates("row_hash").set_index("row_hash", drop=False)


def _items(frame: pd.DataFrame | None = None, row_hashes: list[str] = (), positions: list[int] = ()) -> pd.DataFrame:
    """Items (parsed or stored) as a canonical frame with the hash of each one's row, indexed by the row's
    position in its batch (so parsed and reused rows go back into file order)."""
    frame = conform(frame if frame is not None else pd.DataFrame())
    return frame.assign(row_hash=pd.array(list(row_hashes), dtype="string")).set_axis(
        pd.Index(list(positions), dtype=int))


def _batch(source: SourceConfig, pii: PiiConfig, rows_read: int, frame: pd.DataFrame, quarantine: list[dict],
           seen: dict[str, str], encoding: str | None, reused: int = 0) -> SourceBatch:
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
    return SourceBatch(source.name, rows_read, frame[keep].reset_index(drop=True), _quarantine(quarantine, pii),
                       dupes, encoding, reused)


def describe_kinds() -> dict[str, dict[str, list[str]]]:
    """What each registered source kind expects: required and optional canonical fields, and its own options."""
    return {name: {"required": list(k.required), "optional": list(k.optional), "options": list(k.options.model_fields)}
            for name, k in kinds.kinds().items()}


def source_paths(pattern: str, base_dir: Path) -> list[Path]:
    """The paths a source's ``path`` names, relative to ``base_dir``: a glob may be in any part
    (``exports_*/x.csv``, ``**/*.csv``); a path without one is returned when it exists (a file or not: reading
    it says what it is)."""
    p = Path(pattern)
    p = p if p.is_absolute() else base_dir / p
    if not glob.has_magic(pattern):
        return [p] if p.exists() or p.is_symlink() else []
    # the directories that exist as written are taken literally (a "[" in a folder's name is not a pattern);
    # the parts after them are the glob
    anchor, parts = Path(p.anchor), p.parts[1:]
    while len(parts) > 1 and (anchor / parts[0]).is_dir():
        anchor, parts = anchor / parts[0], parts[1:]
    return sorted(anchor.glob(str(Path(*parts))))


def check_sources(sources: list[SourceConfig], base_dir: Path) -> list[str]:
    """What stops a run before any work: a source whose path matches nothing (unless ``allow_empty``), a path
    that is not a regular file, and one file read by two sources (it would be counted twice)."""
    problems, owner = [], {}
    for source in sources:
        paths = source_paths(source.path, base_dir)
        if not paths and not source.allow_empty:
            problems.append(f"source {source.name!r}: no file matches {source.path!r} (relative to {base_dir}); "
                            "fix the path, or set allow_empty: true on the source")
        for path in paths:
            try:
                check_regular(path)
            except SourceFileError as exc:
                problems.append(f"source {source.name!r}: {exc}")
                continue
            first = owner.setdefault(path.resolve(), source.name)
            if first != source.name:
                problems.append(f"sources {first!r} and {source.name!r} both read {path}; every row would be "
                                "counted twice: give each file to one source")
    return problems


def _raw(record: dict, sort: bool = False) -> str:
    return json.dumps(record, ensure_ascii=False, default=str, sort_keys=sort)


def _q(source: SourceConfig, path: str, number: int, reason: str, raw: str | dict) -> dict:
    """A quarantined row; ``raw``: the line as read, or the record (redacted value by value by ``_quarantine``)."""
    return {"source_name": source.name, "source_path": path, "row_number": number, "reason": reason, "raw": raw}


def _clean(text: str, pii: PiiConfig) -> str:
    # the raw row is kept for a person to fix it, but never with PII in it, nor in the reason (which may quote a
    # value from a shifted column): both are redacted in the form items are (entities decoded, NFKC, no
    # zero-width characters), so ＠, &#64; and full-width digits hide nothing; a lone surrogate is kept as its
    # escape, so the row is storable as UTF-8
    return redact_pii(decode_text(_storable(text)), pii, handles=True)


def _storable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _clean_value(value: object, pii: PiiConfig) -> object:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    cleaned = _clean(text, pii)
    return value if cleaned == text and not isinstance(value, str) else cleaned  # a number stays a number


def _quarantine(rows: list[dict], pii: PiiConfig) -> pd.DataFrame:
    rows = [{**row, "reason": _clean(row["reason"], pii),
             "raw": _clean(row["raw"], pii) if isinstance(row["raw"], str) else json.dumps(
                 {_clean(str(k), pii): _clean_value(v, pii) for k, v in row["raw"].items()}, ensure_ascii=False,
                 default=str)} for row in rows]
    return pd.DataFrame(rows, columns=list(QUARANTINE_COLUMNS))
