"""How `make test`'s two xdist workers share the suite: every test that reads the sample's stores built once per
session (conftest.sample_runs, fresh_run, sample_backfill) goes to one worker as one unit, so each store is built
once per suite, not once per worker; every other test is a unit of its own. (xdist's ``xdist_group`` marker does
not group under pytest 9.2: xdist 3.8 renames the nodeid through an attribute pytest no longer reads.)"""

from __future__ import annotations

import ast
from pathlib import Path

SAMPLE_STORES = frozenset({"sample_runs", "fresh_run", "sample_backfill"})
GROUP = "sample_stores"


def sample_store_tests(root: Path, test_dir: Path) -> set[str]:
    """The node ids (without parameters) of the test functions under ``test_dir`` that use a sample store, also
    through a fixture of their own module that uses one."""
    found = set()
    for path in sorted(test_dir.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        args = {node.name: {a.arg for a in node.args.args} for node in tree.body if isinstance(node, ast.FunctionDef)}
        needs, grew = set(SAMPLE_STORES), True
        while grew:  # the module's fixtures that use a sample store, transitively
            grew = False
            for name, used in args.items():
                if name not in needs and used & needs:
                    needs.add(name)
                    grew = True
        module = path.relative_to(root).as_posix()
        found |= {f"{module}::{name}" for name, used in args.items() if name.startswith("test_") and used & needs}
    return found


def make_scheduler(config, log):
    """xdist's load-by-scope scheduler, with the sample-store tests as one scope and each other test its own."""
    from xdist.scheduler import LoadScopeScheduling

    root = Path(config.rootpath)
    grouped = sample_store_tests(root, root / "tests")

    class SampleStoresTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return GROUP if nodeid.split("[", 1)[0] in grouped else nodeid

    return SampleStoresTogether(config, log)
