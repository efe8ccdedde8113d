"""Small helpers of the runnables package (as ``langchain_core.runnables.utils``)."""

from __future__ import annotations

from itertools import groupby
from typing import Any, Iterable, Mapping, NamedTuple, Optional, Sequence, Union

__all__ = [
    "AddableDict", "ConfigurableField", "ConfigurableFieldSingleOption", "ConfigurableFieldMultiOption",
    "AnyConfigurableField", "ConfigurableFieldSpec", "get_unique_config_specs",
]


class AddableDict(dict):
    """A dict whose ``+`` merges key by key, as LangChain's ``AddableDict``:
    a key missing (or ``None``) on one side takes the other side's value,
    values present on both sides are added with ``+``. It is what streams of
    ``{key: chunk}`` dicts yield (``RunnableParallel``, the XML parser), so
    their chunks add up to the whole output.

    Raises ``TypeError`` naming the key when two values cannot be added.
    """

    def __add__(self, other: dict[str, Any]) -> "AddableDict":
        return _added(self, other)

    def __radd__(self, other: dict[str, Any]) -> "AddableDict":
        return _added(other, self)


def _added(left: dict[str, Any], right: dict[str, Any]) -> AddableDict:
    merged = AddableDict(left)
    for key, value in right.items():
        if merged.get(key) is None:
            merged[key] = value
        elif value is not None:
            try:
                merged[key] = merged[key] + value
            except TypeError as e:
                raise TypeError(
                    f"Cannot add incompatible types for key {key!r}: "
                    f"{type(merged[key]).__name__!r} and {type(value).__name__!r}."
                ) from e
    return merged


# --------------------------------------------------------------------------- #
# Configurable fields (as LangChain's, same names and field order)
# --------------------------------------------------------------------------- #


class ConfigurableField(NamedTuple):
    """A field whose value ``config["configurable"][id]`` sets at run time
    (``configurable_fields(temperature=ConfigurableField(id="temp"))``).

    ``name``/``description``/``annotation`` describe it in ``config_specs``
    (by default the field's own description and type); ``is_shared`` keeps
    its id unprefixed under ``configurable_alternatives(prefix_keys=True)``.
    """

    id: str
    name: Optional[str] = None
    description: Optional[str] = None
    annotation: Optional[Any] = None
    is_shared: bool = False

    def __hash__(self) -> int:
        return hash((self.id, self.annotation))


class ConfigurableFieldSingleOption(NamedTuple):
    """A field set to one of ``options`` (``{key: value}``), chosen by key with
    ``config["configurable"][id]``; ``default`` is the key used otherwise."""

    id: str
    options: Mapping[str, Any]
    default: str
    name: Optional[str] = None
    description: Optional[str] = None
    is_shared: bool = False

    def __hash__(self) -> int:
        return hash((self.id, tuple(self.options.keys()), self.default))


class ConfigurableFieldMultiOption(NamedTuple):
    """A list field set to several of ``options``, chosen by a list of keys
    with ``config["configurable"][id]``; ``default`` is the keys used otherwise."""

    id: str
    options: Mapping[str, Any]
    default: Sequence[str]
    name: Optional[str] = None
    description: Optional[str] = None
    is_shared: bool = False

    def __hash__(self) -> int:
        return hash((self.id, tuple(self.options.keys()), tuple(self.default)))


AnyConfigurableField = Union[ConfigurableField, ConfigurableFieldSingleOption, ConfigurableFieldMultiOption]


class ConfigurableFieldSpec(NamedTuple):
    """What ``Runnable.config_specs`` lists: one key of ``configurable`` with
    its type (``annotation``), ``default`` value, name and description."""

    id: str
    annotation: Any
    name: Optional[str] = None
    description: Optional[str] = None
    default: Any = None
    is_shared: bool = False
    dependencies: Optional[list[str]] = None


def get_unique_config_specs(specs: Iterable[ConfigurableFieldSpec]) -> list[ConfigurableFieldSpec]:
    """``specs`` sorted by id with repeats of the same spec dropped, as
    LangChain's. Raises ``ValueError`` naming the id when two different specs
    share it (two components configured under one id, differently)."""
    unique: list[ConfigurableFieldSpec] = []
    for spec_id, same in groupby(sorted(specs, key=lambda s: (s.id, *(s.dependencies or []))), lambda s: s.id):
        first, *others = same
        if any(other != first for other in others):
            raise ValueError(
                f"conflicting config specs for {spec_id!r}: {[first, *others]}; give the fields different ids"
            )
        unique.append(first)
    return unique
