"""JSON and JSONL input files: each object a record, each line (JSONL) or array element (JSON) that is not
one a ``BadRow``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from nlp.sources.text import BadRow, FileRecords, Lines, SourceFileError, codec_label, kept_raw


def _has_surrogate(value: object) -> bool:
    """Whether a parsed JSON value holds a lone surrogate (from an escape like "\\ud800"), which no UTF-8 text
    can carry: it would fail every write."""
    if isinstance(value, str):
        return any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return False


_SURROGATE = "has an invalid Unicode escape (a lone surrogate such as \\ud800)"


def read_jsonl(path: Path, codec: str, name: str) -> FileRecords:
    # the columns are those of every object in the file: a first pass collects them, the second yields rows
    columns: dict[str, None] = {}
    for row in _jsonl_rows(path, codec, name):
        if not isinstance(row, BadRow):
            columns.update(dict.fromkeys(row[1]))
    return FileRecords(str(path), name, list(columns), _jsonl_rows(path, codec, name))


def _jsonl_rows(path: Path, codec: str, name: str) -> Iterator[tuple[int, dict] | BadRow]:
    lines = Lines(path, codec)
    try:
        for number, line in enumerate(lines, start=1):
            _, bad = lines.take()
            if not line.strip():
                continue
            raw = kept_raw(line.rstrip("\r\n"))
            if bad:
                yield BadRow(number, f"line is not valid {codec_label(name)} (its undecodable bytes are shown as "
                             "\ufffd)", raw)
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield BadRow(number, f"line is not valid JSON: {exc.msg}", raw)
                continue
            except RecursionError:
                yield BadRow(number, "line is not valid JSON: nested too deeply", raw[:1000])
                continue
            if not isinstance(obj, dict):
                yield BadRow(number, "line is not a JSON object", raw)
            elif _has_surrogate(obj):
                yield BadRow(number, f"line {_SURROGATE}", raw)  # the line itself holds only the escape
            else:
                yield number, obj
    finally:
        lines.close()


def read_json(path: Path, text: str, encoding: str) -> FileRecords:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceFileError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise SourceFileError(f"{path}: not valid JSON (nested too deeply)") from None
    if isinstance(obj, dict):  # {"items": [...]} or {"data": [...]}
        lists = [v for v in obj.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise SourceFileError(f"{path}: expected a JSON array of objects (or one object holding one)")
        obj = lists[0]
    if not isinstance(obj, list):
        raise SourceFileError(f"{path}: expected a JSON array of objects")
    columns: dict[str, None] = {}
    for item in obj:
        if isinstance(item, dict) and not _has_surrogate(item):
            columns.update(dict.fromkeys(item))
    return FileRecords(str(path), encoding, list(columns), _json_rows(obj))


def _json_rows(obj: list) -> Iterator[tuple[int, dict] | BadRow]:
    for number, item in enumerate(obj, start=1):
        if not isinstance(item, dict):
            yield BadRow(number, "array element is not an object", kept_raw(json.dumps(item)))
        elif _has_surrogate(item):
            yield BadRow(number, f"array element {_SURROGATE}", kept_raw(json.dumps(item)))  # ASCII: escapes kept
        else:
            yield number, item
