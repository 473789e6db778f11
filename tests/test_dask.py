"""runner: dask on a real distributed.LocalCluster (2 worker processes) gives what runner: local gives."""

import pandas as pd

from tests.conftest import PARTITION, sample_config
from tests.run_snapshot import snapshot_run


def test_dask_run_on_a_local_cluster_matches_the_local_run(tmp_path, partitioned_run):
    """The sample on the 2-worker cluster, cut into partitions of conftest.PARTITION so that both workers get
    some, gives the local run's store tables and report (conftest.partitioned_run: the same partitions)."""
    from flows.nightly import nightly

    config = sample_config(tmp_path, runner="dask", partition_size=PARTITION)
    dask_summary = nightly(str(config))
    dask = snapshot_run(config, dask_summary)
    local, local_summary = partitioned_run["snapshot"], partitioned_run["summary"]
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


_PROBE = r'''
import json, os, sys, time
from pathlib import Path
from prefect import flow, task
from prefect.server.api.server import SubprocessASGIServer
from prefect.settings import get_current_settings
from flows.runner import iter_partitions, partition_runner
from nlp.config import load_config

MARKS = Path(sys.argv[2])


@task
def where(args):
    (MARKS / str(args.kwargs["i"])).touch()  # this partition has reached a worker
    return {"pid": os.getpid(), "api": get_current_settings().api.url}


@flow
def probe(config):
    with partition_runner(load_config(config)) as runner:
        results = iter_partitions(runner, where, [{"i": i} for i in range(8)], ahead=2)
        seen = [next(results)]
        # a slow caller: wait until the submitted partitions have reached the workers (a loaded machine may take
        # a while), then longer still: the workers could run all 8 by now if they had them
        deadline = time.monotonic() + 30
        while len(list(MARKS.iterdir())) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(2)
        reached = len(list(MARKS.iterdir()))
        seen += list(results)
    return {"pid": os.getpid(), "server": SubprocessASGIServer().api_url, "workers": seen, "reached": reached}


print(json.dumps(probe(sys.argv[1])))
'''


def _probe(tmp_path) -> dict:
    """The probe flow above on koe's 2-worker LocalCluster, in a fresh interpreter (the session's test harness
    would set an API URL) with a Prefect home of its own."""
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    config = sample_config(tmp_path, runner="dask", partition_size=PARTITION)
    (tmp_path / "marks").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    done = subprocess.run([sys.executable, "-c", _PROBE, str(config), str(tmp_path / "marks")], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_local_cluster_workers_report_to_the_flows_ephemeral_api_and_get_a_few_partitions_at_a_time(tmp_path):
    """With no PREFECT_API_URL, the workers' task runs go to the flow's ephemeral server (each worker used to
    start one of its own); and only ``ahead`` partitions are out at once, so a slow caller does not leave every
    partition's arguments waiting in memory for their turn."""
    result = _probe(tmp_path)
    assert result["server"].startswith("http://127.0.0.1:")
    worker_pids = {w["pid"] for w in result["workers"]}
    assert worker_pids and result["pid"] not in worker_pids  # the tasks did run on the workers
    assert {w["api"] for w in result["workers"]} == {result["server"]}
    assert len(result["workers"]) == 8
    assert result["reached"] == 3  # 2 ahead, and the one submitted when the first was fetched
