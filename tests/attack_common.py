"""What the ingest and fault attack tests share (tests/test_attack_ingest.py, tests/test_attack_store.py): tiny
hand-written sources read for real, a store they are written to, and configs around them."""

import json

import pandas as pd
import yaml
from typer.testing import CliRunner

from nlp.config import IngestConfig, SourceConfig
from nlp.sources import read_source
from nlp.store import Store

cli = CliRunner()
NOW = pd.Timestamp("2026-11-24", tz="UTC")
MAP = {"source_id": "id", "created_at": "date", "text": "body"}
STAGES = {"stages": [{"key": "delivery", "name_ja": "配送", "name_en": "Delivery", "examples_ja": ["届かない"]}]}
SECRET = "taro.yamada@example.com"


def read_rows(path, ingest=IngestConfig(), **kw):
    src = SourceConfig(name="src", kind="review", path=str(path), columns=MAP, **kw)
    batch = read_source(src, ingest, path.parent, now=NOW)
    if batch.rows_read:  # a file that cannot be read at all is one quarantined row, with no row read
        assert batch.rows_read == len(batch.items) + batch.duplicates_in_file + len(batch.quarantine)
    return batch


def stored(tmp_path, batch):
    """The batch written to a real store (a row that cannot be stored fails here)."""
    store = Store(tmp_path / "s.duckdb")
    store.items.upsert(batch.items, "run")
    store.items.quarantine(batch.quarantine, "run")
    return store


def jsonl_file(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="ascii")  # ASCII: escapes kept
    return path


def config_file(tmp_path, sources, **sections) -> str:
    raw = {"sources": sources, "stages": STAGES, "store": {"path": str(tmp_path / "koe.duckdb")},
           "report": {"out_dir": str(tmp_path / "reports")}, **sections}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return str(path)


def pipeline(sources, **sections) -> dict:
    return {"sources": sources, "stages": STAGES, **sections}


def quarantined_text(tmp_path, text: str) -> str:
    """What the quarantine keeps of a row with this text and a date that cannot be read (raw and reason)."""
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"id": "q1", "date": "not a date", "body": text}) + "\n", encoding="utf-8")
    src = SourceConfig(name="s", kind="review", path=str(path), columns=MAP)
    quarantine = read_source(src, IngestConfig(), tmp_path, now=NOW).quarantine
    assert len(quarantine) == 1
    return json.loads(quarantine["raw"].iloc[0])["body"] + " " + quarantine["reason"].iloc[0]
