"""Merging the parts of streamed chunks (private, as ``langchain_core.utils._merge``).

The rules are LangChain's, so a stream summed on hookchain gives the message it
gives on LangChain:

* dicts (``merge_dicts``): a key missing or ``None`` on the left takes the right
  value; a right ``None`` is ignored; values of different types raise
  ``TypeError``; strings concatenate (except an equal ``id``,
  ``output_version`` or ``model_provider``, and an ``lc_``-prefixed ``index``,
  which are kept); dicts merge recursively; lists merge with ``merge_lists``;
  equal values are kept; other ints add up (``index``, ``created`` and
  ``timestamp`` take the right value); differing booleans or other types raise
  ``TypeError``.
* lists (``merge_lists``): a dict element with an int (or ``lc_``-prefixed str)
  ``index`` merges into the left element with the same index and no conflicting
  ``id`` (the right element's ``type`` is dropped); everything else is appended.
* usage (``dict_int_op``): ints combine key by key, nested dicts recurse, other
  values raise ``ValueError``.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

_KEEP_EQUAL_STR = frozenset(("id", "output_version", "model_provider"))
_LAST_WINS_INT = frozenset(("index", "created", "timestamp"))


def merge_dicts(left: dict[str, Any], *others: dict[str, Any]) -> dict[str, Any]:
    """A new dict: ``left`` with each of ``others`` merged in (rules above).
    Raises ``TypeError`` for a key whose two values cannot be merged."""
    merged = dict(left)
    for right in others:
        for key, value in right.items():
            old = merged.get(key)
            if old is None:
                if value is not None or key not in merged:
                    merged[key] = value
            elif value is None:
                continue
            elif type(old) is not type(value):
                raise TypeError(
                    f"cannot merge key {key!r}: {type(old).__name__} {old!r} and "
                    f"{type(value).__name__} {value!r} (chunks must agree on each key's type)"
                )
            elif isinstance(old, str):
                if not ((key == "index" and old.startswith("lc_")) or (key in _KEEP_EQUAL_STR and old == value)):
                    merged[key] = old + value
            elif isinstance(old, dict):
                merged[key] = merge_dicts(old, value)
            elif isinstance(old, list):
                merged[key] = merge_lists(old, value)
            elif old == value:
                continue
            elif isinstance(old, int) and not isinstance(old, bool):
                merged[key] = value if key in _LAST_WINS_INT else old + value
            else:
                raise TypeError(
                    f"cannot merge key {key!r}: the chunks hold different {type(old).__name__} "
                    f"values {old!r} and {value!r}"
                )
    return merged


def _mergeable_index(element: Any) -> bool:
    if not isinstance(element, dict) or "index" not in element:
        return False
    index = element["index"]
    return isinstance(index, int) or (isinstance(index, str) and index.startswith("lc_"))


def _same_slot(left: Any, right: dict[str, Any]) -> bool:
    if not isinstance(left, dict) or "index" not in left or left["index"] != right["index"]:
        return False
    left_id, right_id = left.get("id"), right.get("id")
    return left_id in (None, "") or right_id in (None, "") or left_id == right_id


def _without_type(element: dict[str, Any], left_type: Any) -> dict[str, Any]:
    if element.get("type") == "non_standard" and "value" in element and left_type:
        value = {k: v for k, v in element["value"].items() if k != "type"}
        if left_type != "non_standard":
            return {"extras": value}
        return {"value": value, "index": element["index"]}
    return {k: v for k, v in element.items() if k != "type"} if "type" in element else element


def merge_lists(left: Optional[list], *others: Optional[list]) -> Optional[list]:
    """A new list: ``left`` with each of ``others`` merged in by element ``index``;
    ``None`` lists are skipped (``None`` only if all are)."""
    merged = None if left is None else list(left)
    for other in others:
        if other is None:
            continue
        if merged is None:
            merged = list(other)
            continue
        for element in other:
            if _mergeable_index(element):
                slot = next((i for i, e in enumerate(merged) if _same_slot(e, element)), None)
                if slot is not None:
                    merged[slot] = merge_dicts(merged[slot], _without_type(element, merged[slot].get("type")))
                    continue
            merged.append(element)
    return merged


def merge_obj(left: Any, right: Any) -> Any:
    """Merge two values of one type (``None`` yields the other): strings
    concatenate, dicts and lists merge, equal values are kept. Raises
    ``TypeError`` for different types, ``ValueError`` for unequal others."""
    if left is None or right is None:
        return left if left is not None else right
    if type(left) is not type(right):
        raise TypeError(f"cannot merge {type(left).__name__} {left!r} with {type(right).__name__} {right!r}")
    if isinstance(left, str):
        return left + right
    if isinstance(left, dict):
        return merge_dicts(left, right)
    if isinstance(left, list):
        return merge_lists(left, right)
    if left == right:
        return left
    raise ValueError(f"cannot merge {left!r} and {right!r}: only str, dict, list or equal values merge")


def dict_int_op(left: dict[str, Any], right: dict[str, Any], op: Callable[[int, int], int], depth: int = 0) -> dict[str, Any]:
    """``op`` applied key by key to the ints of two (nested) dicts, a missing key
    counting as 0; as LangChain's usage arithmetic. Raises ``ValueError`` for a
    value that is neither int nor dict, or nesting deeper than 100."""
    if depth >= 100:
        raise ValueError("usage dicts nested deeper than 100 levels")
    combined: dict[str, Any] = {}
    for key in {**left, **right}:
        a, b = left.get(key, 0), right.get(key, 0)
        if isinstance(a, int) and isinstance(b, int):
            combined[key] = op(a, b)
            continue
        a, b = left.get(key, {}), right.get(key, {})
        if isinstance(a, dict) and isinstance(b, dict):
            combined[key] = dict_int_op(a, b, op, depth + 1)
        else:
            kinds = [type(d[key]).__name__ for d in (left, right) if key in d]
            raise ValueError(f"usage key {key!r} holds {kinds}: only int and dict values add up")
    return combined
