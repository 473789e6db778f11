"""How `make test`'s two xdist workers share the suite: the tests that read one of the stores built once per session
go to one worker as one unit, so each store is built once per suite, not once per worker; every other test is a
unit of its own. Two units: the sample's stores (conftest.sample_runs, fresh_run, sample_backfill) and the
partitioned run (conftest.partitioned_run). (xdist's ``xdist_group`` marker does not group under pytest 9.2:
xdist 3.8 renames the nodeid through an attribute pytest no longer reads.)"""

from __future__ import annotations

import ast
from pathlib import Path

# unit -> the session fixtures whose tests it holds
GROUPS = {"sample_stores": frozenset({"sample_runs", "fresh_run", "sample_backfill"}),
          "partitioned_run": frozenset({"partitioned_run"})}


def grouped_tests(root: Path, test_dir: Path) -> dict[str, str]:
    """Node id (without parameters) -> unit, for the test functions under ``test_dir`` that use a unit's
    fixtures, also through a fixture of their own module that uses one. A test that uses two units' fixtures
    goes to the first in GROUPS."""
    found: dict[str, str] = {}
    for path in sorted(test_dir.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        args = {node.name: {a.arg for a in node.args.args} for node in tree.body if isinstance(node, ast.FunctionDef)}
        module = path.relative_to(root).as_posix()
        for unit, fixtures in GROUPS.items():
            needs, grew = set(fixtures), True
            while grew:  # the module's fixtures that use the unit's fixtures, transitively
                grew = False
                for name, used in args.items():
                    if name not in needs and used & needs:
                        needs.add(name)
                        grew = True
            for name, used in args.items():
                if name.startswith("test_") and used & needs:
                    found.setdefault(f"{module}::{name}", unit)
    return found


def make_scheduler(config, log):
    """xdist's load-by-scope scheduler, with each unit's tests as one scope and each other test its own."""
    from xdist.scheduler import LoadScopeScheduling

    root = Path(config.rootpath)
    grouped = grouped_tests(root, root / "tests")

    class StoresTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return grouped.get(nodeid.split("[", 1)[0], nodeid)

    return StoresTogether(config, log)
