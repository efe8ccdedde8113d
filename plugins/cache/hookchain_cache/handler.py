"""The ``cache`` handler: answers repeated chat model calls from a SQLite file.

Enable it in ``hookchain.toml``::

    [handlers.cache]
    path = "~/.cache/my-app/llm.sqlite"   # optional; default: the user cache dir

How it wraps a model call (the chat-model hooks, ``hookchain.hookspecs``):

* ``chat_model_cached``: computes the key (``hookchain_cache.key``) from the
  call as every ``chat_model_start`` hook left it, i.e. *after* the redact
  plugin masked the messages (redact's ``chat_model_start`` wraps every other
  start hook, and every start hook runs before any cache lookup), and returns the stored
  answer: a stored stream as its list of chunks (replayed chunk by chunk, with
  ``on_llm_new_token`` for each), a stored ``invoke`` as its result (one chunk
  to a stream).
* ``chat_model_chunk`` (``tryfirst``): while a call streams, records each chunk
  as the model produced it, before other plugins change it (redact's
  ``restore`` runs ``trylast``), so the cache never stores restored secrets.
* ``chat_model_end`` (``tryfirst``, same reason): stores the answer when it did
  not come from the cache (``call.from_cache``); a failed or abandoned call
  (``chat_model_error``, a stream closed early) stores nothing.

A database error is logged as a warning and the call goes on to the model.
The hooks run on the calling thread, also in async runs: the file is local and
each statement short.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict

import hookchain
from hookchain.callbacks import BaseCallbackHandler

from hookchain_cache.key import cache_key, model_label
from hookchain_cache.store import SQLiteCache, decode, default_path, encode_chunk, encode_result

__all__ = ["CacheHandler", "CacheOptions"]

logger = logging.getLogger("hookchain_cache")

_STATE = "hookchain_cache"  # this plugin's entry in call.state


class CacheOptions(BaseModel):
    """Options of the ``cache`` handler."""

    model_config = ConfigDict(extra="forbid")

    path: Optional[str] = None
    """The SQLite file (``~`` expanded; relative to the working directory).
    Default: ``cache.sqlite`` in the user cache dir (``platformdirs``), e.g.
    ``~/.cache/hookchain/cache.sqlite`` on Linux."""


class CacheHandler(BaseCallbackHandler):
    """A response cache for every chat model call, in a SQLite file.

    Attributes:
        path: the database file (``pathlib.Path``).
        store: the ``SQLiteCache``.
        hits, misses, writes, errors: counts for this process and handler.
    """

    options_model = CacheOptions

    def __init__(self, path: Optional[str] = None) -> None:
        self.store = SQLiteCache(path if path is not None else default_path())
        self.path = self.store.path
        self.hits = self.misses = self.writes = self.errors = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"CacheHandler(path={str(self.path)!r})"

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def _failed(self, what: str, error: Exception) -> None:
        self._count("errors")
        logger.warning("hookchain-cache: %s %s failed, the call goes on without the cache: %r", what, self.path, error)

    @staticmethod
    def _state(call: Any) -> dict[str, Any]:
        return call.state.setdefault(_STATE, {})

    def key_for(self, call: Any) -> str:
        """The key of ``call`` as it stands (messages, stop and kwargs as the hooks left them)."""
        return cache_key(call.model, call.messages, call.stop, call.kwargs)

    # -- the chat-model hooks --------------------------------------------- #
    @hookchain.hookimpl
    def chat_model_cached(self, call: Any) -> Any:
        state = self._state(call)
        state["key"] = key = self.key_for(call)
        try:
            found = self.store.get(key)
            answer = decode(*found) if found is not None else None
        except Exception as e:  # noqa: BLE001 - sqlite3.Error, CacheError, OSError, a damaged entry
            self._failed("reading", e)
            return None
        self._count("hits" if answer is not None else "misses")
        return answer

    @hookchain.hookimpl(tryfirst=True)
    def chat_model_chunk(self, call: Any, chunk: Any) -> None:
        if call.from_cache:
            return
        state = self._state(call)
        if state.get("unstorable"):
            return
        try:
            state.setdefault("chunks", []).append(encode_chunk(chunk))
        except (TypeError, ValueError) as e:  # not JSON: this answer is not cached
            state["unstorable"] = True
            logger.debug("hookchain-cache: a chunk cannot be stored (%r); the answer is not cached", e)

    @hookchain.hookimpl(tryfirst=True)
    def chat_model_end(self, call: Any, result: Any) -> None:
        if call.from_cache:
            return
        state = self._state(call)
        if state.get("unstorable"):
            return
        try:
            key = state.get("key") or self.key_for(call)
            if call.streaming:
                kind, value = "chunks", json.dumps(state.get("chunks", []), ensure_ascii=False)
            else:
                kind, value = "result", encode_result(result)
        except (TypeError, ValueError) as e:
            logger.debug("hookchain-cache: the answer cannot be stored (%r)", e)
            return
        try:
            self.store.put(key, kind, value, model_label(call.model))
        except Exception as e:  # noqa: BLE001 - sqlite3.Error, CacheError, OSError
            self._failed("writing", e)
            return
        self._count("writes")

    # -- for code and the CLI ---------------------------------------------- #
    def stats(self) -> dict[str, Any]:
        """``{"path", "exists", "entries", "size"}`` of the file, plus this
        process's ``hits``, ``misses``, ``writes`` and ``errors``."""
        return {**self.store.stats(), "hits": self.hits, "misses": self.misses, "writes": self.writes, "errors": self.errors}

    def clear(self) -> int:
        """Delete every entry; returns how many there were."""
        return self.store.clear()


def resolve_path(path: Optional[str]) -> str:
    """``path`` with ``~`` expanded, or the default path."""
    return os.path.expanduser(path) if path else str(default_path())
