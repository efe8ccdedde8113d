"""Listeners of a root run (as ``langchain_core.tracers.root_listeners``):
the callback handlers behind ``Runnable.with_listeners`` and
``with_alisteners``.

Such a handler is added to one call's callbacks; the first run it sees
starting is the root (the listened runnable's own run). Its listeners get
that run's ``Run`` record: ``on_start`` when it starts, ``on_end`` when it
ends, ``on_error`` when it fails. A listener taking a ``config`` argument
also gets the call's config, as LangChain's.
"""

from __future__ import annotations

import inspect
import traceback
from datetime import datetime, timezone
from typing import Any, Callable, Optional

from hookchain.callbacks.base import AsyncCallbackHandler, BaseCallbackHandler
from hookchain.tracers.schemas import Run

__all__ = ["RootListenersTracer", "AsyncRootListenersTracer"]

Listener = Callable[..., Any]


def _wrapped(value: Any, key: str) -> dict[str, Any]:
    # As LangChain's tracers: a chain's dict input/output as it is, else {key: value}.
    return value if isinstance(value, dict) else {key: value}


def _llm_outputs(response: Any) -> dict[str, Any]:
    dump = getattr(response, "model_dump", None)
    return dump() if dump is not None else {"output": response}


#: start event -> (run type, inputs from the event's arguments)
_STARTS: dict[str, tuple[Optional[str], Callable[[tuple, dict[str, Any]], dict[str, Any]]]] = {
    "on_chain_start": (None, lambda a, k: _wrapped(a[1], "input")),
    "on_chat_model_start": ("chat_model", lambda a, k: {"messages": a[1]}),
    "on_llm_start": ("llm", lambda a, k: {"prompts": a[1]}),
    "on_tool_start": ("tool", lambda a, k: {"input": a[1]}),
    "on_retriever_start": ("retriever", lambda a, k: {"query": a[1]}),
}
#: end event -> outputs from its first argument
_ENDS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "on_chain_end": lambda outputs: _wrapped(outputs, "output"),
    "on_llm_end": _llm_outputs,
    "on_tool_end": lambda output: {"output": output},
    "on_retriever_end": lambda documents: {"documents": documents},
}
_ERRORS = ("on_chain_error", "on_llm_error", "on_tool_error", "on_retriever_error")


def _stacktrace(error: BaseException) -> str:
    # As LangChain's tracers: the repr, then the formatted traceback.
    try:
        return (repr(error) + "\n\n".join(traceback.format_exception(error))).strip()
    except Exception:  # noqa: BLE001 - a broken __str__ still gives the repr
        return repr(error)


class _RootRun:
    """The bookkeeping both handlers share: the root's ``Run`` and which
    listener an event calls."""

    run_inline = True  # listeners run on the event loop thread in async runs (no executor hop)

    def __init__(self, *, config: Any, on_start: Optional[Listener], on_end: Optional[Listener],
                 on_error: Optional[Listener]) -> None:
        super().__init__()
        self.config = config
        self._on_start, self._on_end, self._on_error = on_start, on_end, on_error
        self.root_id: Any = None
        self.run: Optional[Run] = None

    def _call(self, listener: Optional[Listener]) -> Any:
        if listener is None:
            return None
        try:
            takes_config = "config" in inspect.signature(listener).parameters
        except (TypeError, ValueError):
            takes_config = False
        return listener(self.run, self.config) if takes_config else listener(self.run)

    def _event(self, event: str, args: tuple, kwargs: dict[str, Any]) -> Any:
        """The listener call (maybe a coroutine) this event makes, if any."""
        now = datetime.now(timezone.utc)
        if event in _STARTS:
            if self.root_id is not None:
                return None
            run_type, inputs = _STARTS[event]
            serialized = args[0] if isinstance(args[0], dict) else None
            self.root_id = kwargs.get("run_id")
            self.run = Run(
                id=self.root_id, name=kwargs.get("name") or (serialized or {}).get("name") or "Unnamed",
                run_type=run_type or kwargs.get("run_type") or "chain", start_time=now,
                inputs=inputs(args, kwargs), tags=list(kwargs.get("tags") or []),
                extra={"metadata": dict(kwargs.get("metadata") or {})}, serialized=serialized,
                events=[{"name": "start", "time": now}],
            )
            return self._call(self._on_start)
        if self.run is None or kwargs.get("run_id") != self.root_id:
            return None
        self.run.end_time = now
        if event in _ENDS:
            self.run.outputs = _ENDS[event](args[0])
            if "inputs" in kwargs:  # a deferred input, known at the end
                self.run.inputs = _wrapped(kwargs["inputs"], "input")
            self.run.events.append({"name": "end", "time": now})
            return self._call(self._on_end)
        self.run.error = _stacktrace(args[0])
        self.run.events.append({"name": "error", "time": now})
        return self._call(self._on_error)


def _sync_method(event: str) -> Callable[..., None]:
    def method(self: "_RootRun", *args: Any, **kwargs: Any) -> None:
        self._event(event, args, kwargs)

    method.__name__ = event
    return method


def _async_method(event: str) -> Callable[..., Any]:
    async def method(self: "_RootRun", *args: Any, **kwargs: Any) -> None:
        result = self._event(event, args, kwargs)
        if inspect.isawaitable(result):
            await result

    method.__name__ = event
    return method


_EVENTS = (*_STARTS, *_ENDS, *_ERRORS)

#: Calls sync listeners with the root run, as LangChain's ``RootListenersTracer``.
RootListenersTracer = type("RootListenersTracer", (_RootRun, BaseCallbackHandler), {
    "__module__": __name__, "__doc__": "Calls ``on_start``/``on_end``/``on_error`` (sync functions of the "
    "``Run``, and of the config if they take ``config``) for the first run it sees, as LangChain's.",
    **{e: _sync_method(e) for e in _EVENTS},
})

#: Awaits async listeners with the root run, as LangChain's ``AsyncRootListenersTracer``.
AsyncRootListenersTracer = type("AsyncRootListenersTracer", (_RootRun, AsyncCallbackHandler), {
    "__module__": __name__, "__doc__": "``RootListenersTracer`` for ``async def`` listeners (awaited; "
    "sync ones are called), as LangChain's ``AsyncRootListenersTracer``.",
    **{e: _async_method(e) for e in _EVENTS},
})
