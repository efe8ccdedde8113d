"""The cache key of a chat model call: a sha256 of canonical JSON.

What goes in (``key_material``):

* the model's class (module and qualified name) and ``_llm_type``;
* the model's ``_identifying_params`` and its options: every pydantic field as
  ``model_dump`` gives it (so an option a model forgets to report, e.g. the
  OpenAI model's ``model_kwargs`` or ``extra_body``, still counts), except the
  fields that cannot change the answer (``callbacks``, ``tags``, ``metadata``,
  ``name``, ``streaming``) and those a model excludes from dumps (clients);
* nothing but real secrets is left out: ``SecretStr`` / ``SecretBytes``
  values, wherever they are, so neither a key rotation nor the key itself
  reaches the cache. A plain string is kept whatever its name: a tool-call
  argument ``{"token": "ETH"}`` is not a credential, and two calls that differ
  only there must not share an entry;
* the messages as the model will see them (after every ``chat_model_start``
  hook, e.g. the redact plugin's masking): type and all fields except ``id``,
  ``response_metadata`` and ``usage_metadata`` (per-run bookkeeping that the
  model does not read);
* the stop sequences and the extra call options (``call.kwargs``).

Whether the call streams is *not* part of the key: a stored stream answers an
``invoke`` (chunks merged) and a stored ``invoke`` answers a stream (one chunk).

Canonical JSON: sorted keys, no whitespace, UTF-8: the same inputs give the
same key in every process. A value JSON cannot hold is
written as ``"<TypeName>"`` plus its ``repr`` (a repr with a memory address
makes the key unique, so such calls are simply never answered from the cache).
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from typing import Any, Optional, Sequence

from hookchain.messages import BaseMessage, message_to_dict

__all__ = ["KEY_VERSION", "key_material", "cache_key", "canonical_json", "model_label"]

#: Bumped when what goes into the key changes: older entries then never match.
KEY_VERSION = 2

_DROPPED_MESSAGE_FIELDS = ("id", "response_metadata", "usage_metadata")
#: ``BaseChatModel`` fields that do not change the answer (streaming: a stored
#: stream answers an invoke and the other way round).
_DROPPED_MODEL_FIELDS = frozenset({"callbacks", "tags", "metadata", "name", "streaming"})


def _is_secret(value: Any) -> bool:
    try:
        from pydantic import SecretBytes, SecretStr
    except ImportError:  # pragma: no cover - pydantic is a hookchain dependency
        return False
    return isinstance(value, (SecretStr, SecretBytes)) or type(value).__name__ in ("SecretStr", "SecretBytes", "Secret")


def _plain(value: Any) -> Any:
    """``value`` as JSON-ready data, secrets left out."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else repr(value)
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if not _is_secret(v)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value if not _is_secret(v)]
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True, default=str))
    if isinstance(value, bytes):
        return {"<bytes>": value.hex()}
    if isinstance(value, BaseMessage):
        return _message(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):  # a pydantic model (e.g. a response format)
        try:
            return {f"<{type(value).__name__}>": _plain(dump())}
        except Exception:  # noqa: BLE001 - fall through to repr
            pass
    if isinstance(value, type):
        return f"<class {value.__module__}.{value.__qualname__}>"
    if dataclasses.is_dataclass(value):
        return {f"<{type(value).__name__}>": _plain(dataclasses.asdict(value))}
    return {f"<{type(value).__name__}>": repr(value)}


def _message(message: BaseMessage) -> dict[str, Any]:
    data = message_to_dict(message)
    fields = {k: v for k, v in data["data"].items() if k not in _DROPPED_MESSAGE_FIELDS}
    return {"type": data["type"], "data": _plain(fields)}


def model_label(model: Any) -> str:
    """``module.QualName`` of the model's class."""
    cls = type(model)
    return f"{cls.__module__}.{cls.__qualname__}"


def _options(model: Any) -> dict[str, Any]:
    """The model's pydantic fields (``model_dump``), less ``_DROPPED_MODEL_FIELDS``."""
    dump = getattr(model, "model_dump", None)
    if not callable(dump):
        return {}
    try:
        return dump(exclude=_DROPPED_MODEL_FIELDS)
    except Exception:  # noqa: BLE001 - a serializer that fails: only this model object matches itself
        return {"<options>": f"unavailable {id(model)}"}


def key_material(model: Any, messages: Sequence[BaseMessage], stop: Optional[Sequence[str]],
                 kwargs: dict[str, Any]) -> dict[str, Any]:
    """Everything the key is computed from, as JSON-ready data (no secrets)."""
    try:
        params = dict(model._identifying_params)
    except Exception:  # noqa: BLE001 - a broken property: key on the class and options
        params = {"<identifying_params>": "unavailable"}
    try:
        llm_type = model._llm_type
    except Exception:  # noqa: BLE001
        llm_type = None
    return {
        "v": KEY_VERSION,
        "model": model_label(model),
        "llm_type": llm_type,
        "params": _plain(params),
        "options": _plain(_options(model)),
        "messages": [_message(m) for m in messages],
        "stop": list(stop) if stop is not None else None,
        "kwargs": _plain(dict(kwargs)),
    }


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def cache_key(model: Any, messages: Sequence[BaseMessage], stop: Optional[Sequence[str]], kwargs: dict[str, Any]) -> str:
    """The hex sha256 of ``key_material`` as canonical JSON."""
    return hashlib.sha256(canonical_json(key_material(model, messages, stop, kwargs)).encode("utf-8")).hexdigest()
