"""The base of every config section: unknown keys are an error, values are frozen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, ValidationError, model_serializer


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _WithOptions(_Model):
    """A section whose ``options`` are typed by one of its fields (an embedder's backend, a source's kind) and are
    written beside its fields in YAML: ``{backend: st.v2, model: m, runtime: torch}``."""

    @model_serializer(mode="wrap")
    def _flat(self, handler: Any) -> dict[str, Any]:
        """The options beside the other fields, as YAML writes them."""
        out = handler(self)
        return {**{k: v for k, v in out.items() if k != "options"}, **out.get("options", {})}


def _fold_options(data: dict, fields: tuple[str, ...], model: type[BaseModel],
                  explain: Callable[[str, str], str], noun: str = "option") -> dict:
    """``data`` with every key that is not one of ``fields`` (nor ``options``) validated, with ``options``, as
    ``model``. An unknown ``noun`` or a bad option is a ValueError: ``explain(problems, allowed)``, where
    ``problems`` names each unknown or bad one and ``allowed`` the options ``model`` takes."""
    given, flat = data.get("options") or {}, {k: v for k, v in data.items() if k not in (*fields, "options")}
    if isinstance(given, model) and not flat:
        return data
    if isinstance(given, BaseModel):
        given = given.model_dump(exclude_unset=True)
    try:
        options = model.model_validate({**given, **flat})
    except ValidationError as exc:
        problems = [f"unknown {noun} {err['loc'][0]!r}" if err["type"] == "extra_forbidden" else
                    f"{'.'.join(map(str, err['loc'])) or 'options'}: {err['msg']}" for err in exc.errors()]
        allowed = ", ".join(f"{name} (default {field.default!r})" for name, field in model.model_fields.items())
        raise ValueError(explain("; ".join(problems), allowed or "no options")) from None
    return {**{k: data[k] for k in fields if k in data}, "options": options}


def _known_timezone(v: str) -> str:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {v!r}; use an IANA name such as Asia/Tokyo or UTC") from None
    return v
