"""Same input and config on two fresh stores: the same clusters, issue ids, ranks and report bytes."""

import pandas as pd

from tests.conftest import sample_config
from tests.run_snapshot import assert_same_run, snapshot_run


def test_two_fresh_stores_give_the_same_store_and_report(fresh_run, tmp_path, prefect_harness):
    from flows.nightly import nightly

    config = sample_config(tmp_path)
    summary = nightly(str(config))
    got, expected = snapshot_run(config, summary), fresh_run["snapshot"]
    assert summary["run_id"] != fresh_run["summary"]["run_id"]
    # the parts named in the promise first, for a readable failure; then every file and table
    for table in ("assignments", "issues"):
        assert len(expected["tables"][table]) > 0
    pd.testing.assert_frame_equal(got["tables"]["assignments"][["item_id", "issue_id"]],
                                  expected["tables"]["assignments"][["item_id", "issue_id"]])
    assert got["tables"]["issues"]["issue_id"].tolist() == expected["tables"]["issues"]["issue_id"].tolist()
    assert got["files"]["pain_points.csv"] == expected["files"]["pain_points.csv"]
    assert_same_run(got, expected)
