"""notebooks/explore.ipynb runs headless against a copy of the sample's store, so it cannot rot."""

import os
import re
import shutil
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tests.conftest import REPO, sample_config


def test_explore_notebook_executes(sample_runs, tmp_path, prefect_harness, monkeypatch):
    # a copy of the sample's store and reports (conftest.sample_runs): the notebook reads its last run, then runs
    # the flow once with a changed config on those cached vectors
    shutil.copytree(Path(sample_runs["config"]).parent, tmp_path, dirs_exist_ok=True)
    config = sample_config(tmp_path)
    monkeypatch.setenv("KOE_CONFIG", str(config))
    # the kernel talks to the harness's API, not a server of its own
    from prefect.settings import PREFECT_API_URL

    monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())
    nb = nbformat.read(REPO / "notebooks" / "explore.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}).execute()
    outputs = "".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                      for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs)
    assert "last run:" in outputs and "embedded this time: 0" in outputs
    assert re.search(r"app_version = 3\.2\.0: [1-9]\d* items", outputs)  # the segment filter found items
    assert any("svg" in str(o.get("data", {})) for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs)
    assert os.path.exists(tmp_path / "reports_notebook")
