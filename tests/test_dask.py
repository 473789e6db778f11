"""runner: dask on a real distributed.LocalCluster (2 worker processes) gives what runner: local gives."""

import pandas as pd

from tests.conftest import sample_config
from tests.run_snapshot import snapshot_run

# small partitions, so that the sample is cut into several and both workers get some
PARTITION = 128


def _run(tmp, runner: str) -> tuple[dict, dict]:
    from flows.nightly import nightly

    tmp.mkdir()
    config = sample_config(tmp, runner=runner, partition_size=PARTITION)
    summary = nightly(str(config))
    return summary, snapshot_run(config, summary)


def test_dask_run_on_a_local_cluster_matches_the_local_run(tmp_path, prefect_harness):
    local_summary, local = _run(tmp_path / "local", "local")
    dask_summary, dask = _run(tmp_path / "dask", "dask")
    assert local_summary["runner"] == {"kind": "local"}
    assert dask_summary["runner"]["kind"] == "dask" and dask_summary["runner"]["workers"] == 2
    assert local_summary["items"] > 4 * PARTITION  # several partitions were mapped
    for table in ("embeddings", "assignments", "clusters", "issues"):
        assert len(local["tables"][table]) > 0, table
        pd.testing.assert_frame_equal(dask["tables"][table], local["tables"][table], obj=table)
    assert sorted(dask["files"]) == sorted(local["files"])
    for name, text in local["files"].items():
        if name != "manifest.json":  # the manifest holds the config, which names the runner
            assert dask["files"][name] == text, name
