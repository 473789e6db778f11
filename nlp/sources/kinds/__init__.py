"""Source kinds: the registry of kinds by name (review, social, ...), each one module of this package.

A kind's module registers its field function with ``register``: the canonical fields the kind requires and
accepts, the typed options a source of the kind takes (a SourceOptions subclass: ``platform:`` of a social
source) and how its rows differ (handles redacted, an answer kept without a text). The function turns one row
into the kind's own canonical fields. The registry finds the modules itself (every module here not named
``_x``), so adding a kind is adding a module; config validation and ``koe sources`` read it from here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from nlp.config import IngestConfig, SourceConfig, SourceOptions
from nlp.registry import import_modules
from nlp.sources.values import Get

KindFields = Callable[[Get, SourceConfig, IngestConfig], dict]


@dataclass(frozen=True)
class Kind:
    """A registered source kind: the canonical fields a source must map (``required``) and may map
    (``optional``), its field function (get, source, ingest) -> the kind's own canonical fields (a RowError for
    a value it cannot read), the pydantic model of its options, the module that declares it, whether @handles
    in its text are redacted, and the score fields that keep a row without a text (when one has a value)."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    fields: KindFields
    options: type[SourceOptions]
    module: str
    redact_handles: bool = False
    scored_by: tuple[str, ...] = ()

    @property
    def accepts(self) -> tuple[str, ...]:
        """Every canonical field a source of this kind may map, the required ones first."""
        return self.required + self.optional


_REGISTRY: dict[str, Kind] = {}


def register(name: str, *, required: tuple[str, ...], optional: tuple[str, ...],
             options: type[SourceOptions] = SourceOptions, redact_handles: bool = False,
             scored_by: tuple[str, ...] = ()) -> Callable[[KindFields], KindFields]:
    """Register ``fields(get, source, ingest)`` as source kind ``name`` (a decorator, used by the modules of this
    package); ``options``: the kind's options model (the base takes none)."""
    def deco(fields: KindFields) -> KindFields:
        _REGISTRY[name] = Kind(name, tuple(required), tuple(optional), fields, options,
                               fields.__module__, redact_handles, tuple(scored_by))
        return fields

    return deco


@lru_cache(maxsize=1)
def _discover() -> tuple[str, ...]:
    """Import every kind module of this package once; their full names."""
    return import_modules(__name__, __path__)


def kind_modules() -> tuple[str, ...]:
    """The kind modules of this package, by full name."""
    return _discover()


def kinds() -> dict[str, Kind]:
    """Every registered source kind by name, in order of name."""
    _discover()
    return dict(sorted(_REGISTRY.items()))


def kind(name: str) -> Kind:
    """The kind registered as ``name``; a ValueError naming the registered ones for any other."""
    _discover()
    found = _REGISTRY.get(name)  # looked up for every row: no sorting here
    if found is None:
        raise ValueError(f"unknown source kind {name!r}; expected one of {', '.join(kinds())}")
    return found
