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


_WHO_REPORTS = r'''
import json, os, sys
from prefect import flow, task
from prefect.server.api.server import SubprocessASGIServer
from prefect.settings import get_current_settings
from flows.runner import iter_partitions, partition_runner
from nlp.config import load_config


@task
def where(args):
    return {"pid": os.getpid(), "api": get_current_settings().api.url}


@flow
def probe(config):
    with partition_runner(load_config(config)) as runner:
        seen = list(iter_partitions(runner, where, [{"i": i} for i in range(6)]))
    return {"pid": os.getpid(), "server": SubprocessASGIServer().api_url, "workers": seen}


print(json.dumps(probe(sys.argv[1])))
'''


def test_local_cluster_workers_report_to_the_flows_ephemeral_api(tmp_path):
    """With no PREFECT_API_URL, the workers' task runs go to the flow's ephemeral server instead of each worker
    starting one of its own. A fresh interpreter: the session's test harness would set an API URL."""
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    config = sample_config(tmp_path, runner="dask", partition_size=PARTITION)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    done = subprocess.run([sys.executable, "-c", _WHO_REPORTS, str(config)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["server"].startswith("http://127.0.0.1:")
    worker_pids = {w["pid"] for w in result["workers"]}
    assert worker_pids and result["pid"] not in worker_pids  # the tasks did run on the workers
    assert {w["api"] for w in result["workers"]} == {result["server"]}
