"""What the registries of swappable parts share (embedding backends, source kinds): each part is one module of
a package, and the registry finds the modules itself."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable


def import_modules(package: str, path: Iterable[str]) -> tuple[str, ...]:
    """Import every module of ``package`` (found on ``path``, its ``__path__``) not named ``_x``, so each one
    registers itself; their full names, in order of name."""
    names = tuple(f"{package}.{m.name}" for m in pkgutil.iter_modules(path) if not m.name.startswith("_"))
    for name in names:
        importlib.import_module(name)
    return names
