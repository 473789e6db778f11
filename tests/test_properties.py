"""Property-based tests: normalisation, redaction and ingest never crash and never lose a row, whatever the text."""

import json

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlp.config import IngestConfig, SourceConfig
from nlp.language import detect_language
from nlp.normalize import normalize_text
from nlp.pii import redact_pii
from nlp.sources import read_source

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200)


@given(TEXT)
def test_normalize_is_idempotent_and_clean(text):
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert "\n" not in once and "\t" not in once and once == once.strip()


@given(TEXT)
def test_redaction_is_idempotent_and_language_is_known(text):
    once = redact_pii(text, handles=True)
    assert redact_pii(once, handles=True) == once
    assert detect_language(text) in {"ja", "en", "other"}


ROWS = st.lists(st.fixed_dictionaries({
    "id": st.text(max_size=8), "date": st.one_of(st.just("2026-11-01 10:00"), st.text(max_size=12)),
    "stars": st.one_of(st.just(""), st.integers(-2, 9).map(str), st.text(max_size=3)), "body": TEXT,
}), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ROWS)
def test_every_row_becomes_an_item_a_duplicate_or_a_quarantined_row(tmp_path, rows):
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    src = SourceConfig(name="p", kind="review", path=str(path),
                       columns={"source_id": "id", "created_at": "date", "rating": "stars", "text": "body"})
    batch = read_source(src, IngestConfig(), tmp_path, now=pd.Timestamp("2026-11-24", tz="UTC"))
    assert batch.rows_read == len(batch.items) + batch.duplicates_in_file + len(batch.quarantine) \
        or (not rows and len(batch.quarantine) == 1)  # an empty file is one quarantined file
    assert batch.items["item_id"].is_unique
    assert (batch.quarantine["reason"].str.len() > 0).all()
