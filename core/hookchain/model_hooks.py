"""The chat-model hooks at run time: which plugins wrap model calls, and the
``ModelCall`` they receive.

Enabled objects (handlers whose methods carry ``@hookchain.hookimpl`` for the
``chat_model_*`` hookspecs) are registered in a plugin manager of their own,
separate from discovery's, so installed plugins stay inert until enabled.
``active`` is false while none is registered: ``BaseChatModel`` then skips the
hooks entirely (one attribute read per call).

A failing hook implementation is logged with the class that defines it and
the hook; the call goes on without the rest of that hook's implementations
(pluggy stops a hook call at the first exception). A handler with
``raise_error = True`` re-raises instead.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Optional

import pluggy

from hookchain import hookspecs

__all__ = ["ModelCall", "enable", "disable", "active", "enabled"]

logger = logging.getLogger("hookchain.model_hooks")

#: True while at least one enabled object implements a chat-model hook.
active = False
_pm: Optional[pluggy.PluginManager] = None
_lock = threading.Lock()


def _implements_hooks(obj: Any) -> bool:
    marker = f"{hookspecs.PROJECT_NAME}_impl"
    return any(getattr(getattr(obj, name, None), marker, None) is not None for name in hookspecs.CHAT_MODEL_HOOKS)


def enable(obj: Any) -> bool:
    """Register ``obj``'s chat-model hookimpls; ``False`` if it has none.
    Raises ``pluggy.PluginValidationError`` for an implementation whose
    arguments do not match the hookspec."""
    global _pm, active
    if not _implements_hooks(obj):
        return False
    with _lock:
        if _pm is None:
            _pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
            _pm.add_hookspecs(hookspecs)
        if not _pm.is_registered(obj):
            _pm.register(obj, name=f"{type(obj).__module__}.{type(obj).__qualname__}#{id(obj)}")
        active = True
    return True


def disable(obj: Any) -> None:
    """Unregister ``obj`` (no-op if it was not enabled)."""
    global active
    with _lock:
        if _pm is not None and _pm.is_registered(obj):
            _pm.unregister(obj)
            active = bool(_pm.get_plugins())


def enabled() -> list[Any]:
    """The objects whose chat-model hooks are enabled."""
    return list(_pm.get_plugins()) if _pm is not None else []


def _culprit(error: BaseException) -> Optional[Any]:
    """The enabled object whose hook method raised ``error`` (innermost frame)."""
    plugins = {id(p): p for p in enabled()}
    found = None
    tb = error.__traceback__
    while tb is not None:
        owner = tb.tb_frame.f_locals.get("self")
        if owner is not None and id(owner) in plugins and tb.tb_frame.f_code.co_name in hookspecs.CHAT_MODEL_HOOKS:
            found = owner
        tb = tb.tb_next
    return found


class ModelCall:
    """One chat model call, as the chat-model hooks see it.

    Attributes:
        model: the ``BaseChatModel`` being called.
        messages: ``list[BaseMessage]`` the model will see (mutable).
        stop: ``list[str] | None`` stop sequences (mutable).
        kwargs: ``dict`` of extra call options (mutable).
        run_manager: the run manager of this model run.
        streaming: whether the output is streamed chunk by chunk.
        is_async: whether the call runs on an event loop.
        from_cache: set when ``chat_model_cached`` answered.
        state: a dict plugins may use to pass data between their hooks.
    """

    __slots__ = ("model", "messages", "stop", "kwargs", "run_manager", "streaming", "is_async", "from_cache", "state")

    def __init__(self, model: Any, messages: list, stop: Optional[list[str]], kwargs: dict[str, Any],
                 run_manager: Any, streaming: bool, is_async: bool) -> None:
        self.model, self.messages, self.stop, self.kwargs = model, messages, stop, kwargs
        self.run_manager, self.streaming, self.is_async = run_manager, streaming, is_async
        self.from_cache = False
        self.state: dict[str, Any] = {}

    @property
    def run_id(self) -> Any:
        return self.run_manager.run_id

    def dispatch_custom_event(self, name: str, data: Any) -> None:
        """Send ``on_custom_event(name, data)`` on this model run to its handlers
        (sync handlers called, async ones run to completion)."""
        rm = self.run_manager
        rm.dispatch_sync("on_custom_event", (name, data), {"run_id": rm.run_id, "tags": rm.tags, "metadata": rm.metadata})

    def _call(self, hook: str, **kwargs: Any) -> Any:
        pm = _pm
        if pm is None:
            return None
        try:
            return getattr(pm.hook, hook)(call=self, **kwargs)
        except Exception as e:  # noqa: BLE001 - isolation is the point
            plugin = _culprit(e)
            if plugin is not None and getattr(plugin, "raise_error", False):
                raise
            owner = type(plugin).__name__ if plugin is not None else "a plugin"
            logger.warning("Error in %s.%s chat-model hook: %r", owner, hook, e)
            return None

    # The phases, called by BaseChatModel in this order.
    def start(self) -> None:
        self._call("chat_model_start")

    def cached(self) -> Any:
        result = self._call("chat_model_cached")
        self.from_cache = result is not None
        return result

    def chunk(self, chunk: Any) -> None:
        self._call("chat_model_chunk", chunk=chunk)

    def end(self, result: Any) -> None:
        self._call("chat_model_end", result=result)

    def error(self, error: BaseException) -> None:
        self._call("chat_model_error", error=error)
