"""Typed configuration dataclasses serialised to JSON; unknown keys and wrong types raise."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar

from tablegraph.utils import TableGraphError

T = TypeVar("T", bound="TypedConfig")


def _check(name: str, value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        for a in args:
            try:
                return _check(name, value, a)
            except TableGraphError:
                continue
        raise TableGraphError(f"config field {name!r}: {value!r} is not {hint}")
    if hint is type(None):
        if value is None:
            return None
        raise TableGraphError(f"config field {name!r}: expected null, got {value!r}")
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise TableGraphError(f"config field {name!r}: expected a list, got {value!r}")
        inner = args[0] if args else Any
        return [_check(name, v, inner) for v in value]
    if origin is dict:
        if not isinstance(value, dict):
            raise TableGraphError(f"config field {name!r}: expected an object, got {value!r}")
        return dict(value)
    if isinstance(hint, type) and issubclass(hint, TypedConfig):
        if not isinstance(value, dict):
            raise TableGraphError(f"config field {name!r}: expected an object")
        return hint.from_dict(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, bool):
        raise TableGraphError(f"config field {name!r}: expected int, got {value!r}")
    if isinstance(hint, type) and not isinstance(value, hint):
        raise TableGraphError(f"config field {name!r}: expected {hint.__name__}, got {value!r}")
    return value


class TypedConfig:
    """Mixin for dataclass configs: `to_dict()` and a strict `from_dict()`."""

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            out[f.name] = v.to_dict() if isinstance(v, TypedConfig) else v
        return out

    @classmethod
    def from_dict(cls: type[T], d: dict[str, Any]) -> T:
        hints = typing.get_type_hints(cls)
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(d) - names)
        if unknown:
            raise TableGraphError(f"{cls.__name__}: unknown config keys {unknown}")
        kwargs = {k: _check(k, v, hints[k]) for k, v in d.items()}
        return cls(**kwargs)  # type: ignore[call-arg]
