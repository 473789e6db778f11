"""Every registered source kind keeps the source contract, found by the registry (nothing here names a kind): a
new kind is one module in nlp/sources/kinds, and these tests take it up from the fields it declares. Each file is
a tiny hand-written CSV built from those fields, with a value per canonical field below."""

import csv
import sys
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

import nlp.sources
import nlp.sources.kinds
from nlp.config import IngestConfig, SourceConfig, SourceOptions
from nlp.schema import ITEM_COLUMNS, conform
from nlp.sources import describe_kinds, read_source
from nlp.sources.kinds import kind, kind_modules, kinds

INGEST = IngestConfig()
NOW = pd.Timestamp("2026-11-24", tz="UTC")
TEXTS = ["配送が遅い。もう三日も待っている", "The parcel arrived crushed"]
# one readable value per canonical field a kind may declare (text and source_id differ row to row)
VALUES = {"created_at": "2026-11-01 10:00", "rating": "2", "product": "P-01", "author": "taro_y",
          "customer_id": "C001", "answered": "no", "platform": "x", "reach": "1200", "likes": "3",
          "subject": "配送について", "channel": "メール", "first_response_at": "2026-11-01 12:00",
          "resolved_at": "2026-11-02 09:00", "contact_count": "2", "reopened": "no", "csat": "3", "nps": "6",
          "ces": "5", "touchpoint": "購入後"}
NAMES = sorted(kinds())
REQUIRED = [(name, field) for name in NAMES for field in kind(name).required]


def _value(field: str, row: int) -> str:
    if field == "text":
        return TEXTS[row]
    if field == "source_id":
        return f"id-{row}"
    assert field in VALUES, f"add a value for the declared field {field!r} to VALUES"
    return VALUES[field]


def _write(path: Path, fields, rows: int = 2, **values) -> Path:
    """A CSV whose header is ``my_<field>`` for each field, one row per text; ``values`` overrides a field."""
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow([f"my_{field}" for field in fields])
        out.writerows([[values.get(field, _value(field, r)) for field in fields] for r in range(rows)])
    return path


def _read(name: str, path: Path, fields, mapped=None, **options):
    columns = {field: f"my_{field}" for field in (fields if mapped is None else mapped)}
    src = SourceConfig(name="src", kind=name, path=str(path), columns=columns, **options)
    batch = read_source(src, INGEST, path.parent, now=NOW)
    assert batch.rows_read == len(batch.items) + batch.duplicates_in_file + len(batch.quarantine)  # none lost
    return batch


def _assert_canonical(items: pd.DataFrame) -> None:
    assert list(items.columns) == [*ITEM_COLUMNS, "row_hash"]
    canonical = conform(items)
    assert [str(t) for t in items[list(ITEM_COLUMNS)].dtypes] == [str(t) for t in canonical.dtypes]


@pytest.mark.parametrize("declared", ["required", "accepts"], ids=["required-columns", "every-field"])
@pytest.mark.parametrize("name", NAMES)
def test_every_kind_reads_its_columns_into_the_canonical_schema(tmp_path, name, declared):
    fields = getattr(kind(name), declared)
    batch = _read(name, _write(tmp_path / "in.csv", fields), fields)
    assert batch.quarantine.empty and len(batch.items) == 2
    _assert_canonical(batch.items)
    assert batch.items["source_kind"].tolist() == [name, name] and str(batch.items["created_at"].dt.tz) == "UTC"
    if declared == "required":  # (a ticket's Japanese subject makes the English row Japanese)
        assert batch.items["lang"].tolist() == ["ja", "en"]
    if "source_id" in fields:
        assert batch.items["source_id"].tolist() == ["id-0", "id-1"]


@pytest.mark.parametrize("name", NAMES)
def test_a_kinds_field_function_gives_only_canonical_columns(name):
    declared = kind(name)
    src = SourceConfig(name="src", kind=name, path="unused.csv")
    extra = declared.fields(lambda field, all_=False: _value(field, 0), src, INGEST)
    assert set(extra) <= set(ITEM_COLUMNS) - {"item_id", "source_kind", "source_name", "text", "created_at"}
    assert set(declared.scored_by) <= set(extra)


@pytest.mark.parametrize("mapped", [True, False], ids=["mapped", "same-named"])
@pytest.mark.parametrize(("name", "field"), REQUIRED)
def test_a_file_missing_a_required_column_quarantines_every_row_naming_it(tmp_path, name, field, mapped):
    present = [f for f in kind(name).required if f != field]
    path = _write(tmp_path / "in.csv", present)
    batch = _read(name, path, present, mapped=[*present, field] if mapped else present)
    assert batch.items.empty and len(batch.quarantine) == batch.rows_read == 2
    assert batch.quarantine["reason"].str.contains(repr(field), regex=False).all()
    assert batch.quarantine["row_number"].tolist() == [1, 2]  # each row kept, as read, for a person to fix
    assert all(f"my_{f}" in raw for raw in batch.quarantine["raw"] for f in present)


@pytest.mark.parametrize("name", [n for n in NAMES if kind(n).scored_by])
def test_a_scored_row_without_a_text_is_kept(tmp_path, name):
    fields = kind(name).accepts
    batch = _read(name, _write(tmp_path / "in.csv", fields, rows=1, text=""), fields)
    assert batch.quarantine.empty and batch.items["text"].tolist() == [""]


@pytest.mark.parametrize("name", NAMES)
def test_handles_are_redacted_where_the_kind_says(tmp_path, name):
    fields = kind(name).required
    batch = _read(name, _write(tmp_path / "in.csv", fields, rows=1, text="@yamada_taro 配送が遅い"), fields)
    assert ("[HANDLE]" in batch.items["text"].iloc[0]) == kind(name).redact_handles


@pytest.mark.parametrize("name", NAMES)
def test_every_kinds_options_are_typed_and_round_trip(name):
    options = kind(name).options
    assert issubclass(options, SourceOptions)
    written = {k: field.default for k, field in options.model_fields.items()}  # beside name, kind and path
    src = SourceConfig(name="src", kind=name, path="in.csv", **written)
    assert isinstance(src.options, options) and SourceConfig.model_validate(src.model_dump()) == src
    with pytest.raises(ValidationError, match=f"unknown key 'no_such_option'; a {name} source takes"):
        SourceConfig(name="src", kind=name, path="in.csv", no_such_option="x")


def test_koe_sources_describes_every_registered_kind():
    described = describe_kinds()
    assert list(described) == NAMES
    for name, fields in described.items():
        assert fields["required"] + fields["optional"] == list(kind(name).accepts)
        assert fields["options"] == list(kind(name).options.model_fields)


def test_the_registry_is_every_module_of_the_package():
    files = {f"nlp.sources.kinds.{p.stem}" for p in Path(nlp.sources.kinds.__file__).parent.glob("*.py")
             if not p.stem.startswith("_")}
    assert set(kind_modules()) == files == {k.module for k in kinds().values()}


def test_the_row_hash_covers_every_kinds_module():
    covered = {m.__name__ for m in nlp.sources._CODE_MODULES}
    assert set(kind_modules()) | {"nlp.sources.kinds", "nlp.sources.values"} <= covered


TOY = '''
from nlp.config import SourceOptions
from nlp.sources.kinds import register
from nlp.sources.values import as_text


class ToyOptions(SourceOptions):
    product: str | None = None


@register("toy", required=("text", "created_at"), optional=("product",), options=ToyOptions)
def toy_fields(get, source, ingest):
    return {"product": as_text(get("product")).strip() or source.options.product}
'''


def test_adding_a_kind_is_adding_a_module(tmp_path, monkeypatch):
    (tmp_path / "toy.py").write_text(TOY, encoding="utf-8")
    monkeypatch.setattr(nlp.sources.kinds, "__path__", [*nlp.sources.kinds.__path__, str(tmp_path)])
    nlp.sources.kinds._discover.cache_clear()
    try:
        assert "toy" in kinds() and kind("toy").module == "nlp.sources.kinds.toy"
        fields = ("text", "created_at")
        batch = _read("toy", _write(tmp_path / "in.csv", fields), fields, product="P-9")
        assert batch.items["product"].tolist() == ["P-9", "P-9"] and batch.quarantine.empty
        with pytest.raises(ValidationError, match="unknown key 'platform'; a toy source takes"):
            SourceConfig(name="src", kind="toy", path="in.csv", platform="x")
    finally:
        nlp.sources.kinds._REGISTRY.pop("toy", None)
        sys.modules.pop("nlp.sources.kinds.toy", None)
        nlp.sources.kinds._discover.cache_clear()
