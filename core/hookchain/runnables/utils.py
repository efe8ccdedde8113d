"""Small helpers of the runnables package (as ``langchain_core.runnables.utils``)."""

from __future__ import annotations

from typing import Any

__all__ = ["AddableDict"]


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
