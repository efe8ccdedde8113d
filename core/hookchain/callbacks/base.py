"""Callback handler base classes (as ``langchain_core.callbacks.base``).

The event methods of ``BaseCallbackHandler`` and ``AsyncCallbackHandler`` are
built from ``hookchain.hookspecs`` when this module is imported: one no-op
method per callback-event hookspec, with the spec's signature and docstring.
The hookspec file is therefore the single source of truth; a handler overrides
the events it cares about, with LangChain's argument names.

Each subclass records, once at class creation, which events it overrides
(``_hc_events``) and which of those are coroutine functions
(``_hc_async_events``); the dispatcher skips every other handler for an event
without calling it. A subclass method whose name looks like an event but is not
one (``on_llm_new_tokens``) triggers a warning naming the known events.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any, Callable, ClassVar, Optional

from hookchain import hookspecs
from hookchain.hookspecs import CALLBACK_EVENTS

__all__ = ["BaseCallbackHandler", "AsyncCallbackHandler", "Callbacks"]

#: What ``callbacks=`` accepts: a list of handlers, a callback manager, or None.
Callbacks = Optional[Any]

_SELF = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _no_op(name: str, asynchronous: bool) -> Callable[..., Any]:
    spec = getattr(hookspecs, name)
    # As LangChain's, the default on_chat_model_start raises
    # NotImplementedError: the dispatcher then calls on_llm_start instead.
    fallback = name == "on_chat_model_start"
    if asynchronous:
        async def method(self: Any, *args: Any, **kwargs: Any) -> None:
            if fallback:
                raise NotImplementedError(f"{type(self).__name__} does not implement on_chat_model_start")
            return None
    else:
        def method(self: Any, *args: Any, **kwargs: Any) -> None:
            if fallback:
                raise NotImplementedError(f"{type(self).__name__} does not implement on_chat_model_start")
            return None
    sig = inspect.signature(spec)
    method.__signature__ = sig.replace(parameters=[_SELF, *sig.parameters.values()])  # type: ignore[attr-defined]
    method.__name__ = name
    method.__doc__ = spec.__doc__
    method._hc_no_op = True  # type: ignore[attr-defined]
    return method


class _HandlerBase:
    """Flags and bookkeeping shared by the sync and async handler bases."""

    #: Re-raise this handler's exceptions instead of logging them (stops the run).
    raise_error: bool = False
    #: In an async run, call this sync handler on the event loop thread instead
    #: of in an executor (as LangChain's ``run_inline``).
    run_inline: bool = False
    #: Seconds this handler may take per event in an async run (or as a
    #: coroutine in a sync run) before it is abandoned and logged as failed (a
    #: sync one then gets no events until the abandoned call returns);
    #: ``None``: the process default (``handler_timeout`` in the config).
    timeout: Optional[float] = None
    ignore_llm: bool = False
    ignore_chain: bool = False
    ignore_agent: bool = False
    ignore_retriever: bool = False
    ignore_chat_model: bool = False
    ignore_retry: bool = False
    ignore_custom_event: bool = False

    _hc_events: ClassVar[frozenset[str]] = frozenset()
    _hc_async_events: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        events, async_events = set(), set()
        for name in CALLBACK_EVENTS:
            method = getattr(cls, name, None)
            if method is None or getattr(method, "_hc_no_op", False):
                continue
            events.add(name)
            if inspect.iscoroutinefunction(method):
                async_events.add(name)
        if "on_llm_start" in events and "on_chat_model_start" not in events:
            # A handler with only on_llm_start gets it for chat models too,
            # through the default on_chat_model_start's NotImplementedError.
            events.add("on_chat_model_start")
            if inspect.iscoroutinefunction(cls.on_chat_model_start):  # type: ignore[attr-defined]
                async_events.add("on_chat_model_start")
        cls._hc_events = frozenset(events)
        cls._hc_async_events = frozenset(async_events)
        for attr in vars(cls):
            if attr.startswith("on_") and attr not in CALLBACK_EVENTS and callable(vars(cls)[attr]):
                warnings.warn(
                    f"{cls.__qualname__}.{attr} is not a callback event and will never be called; "
                    f"known events: {', '.join(CALLBACK_EVENTS)}",
                    stacklevel=2,
                )


class BaseCallbackHandler(_HandlerBase):
    """Base class for callback handlers; override the events you need.

    Events arrive with the positional arguments of their hookspec and LangChain's
    keyword arguments (``run_id``, ``parent_run_id``, ``tags``, and for start
    events ``metadata``, ``name``...). A handler that raises is logged and the run
    goes on, unless ``raise_error`` is true. Sync handlers may also implement an
    event as ``async def``; hookchain awaits it.
    """


class AsyncCallbackHandler(BaseCallbackHandler):
    """Base class for async callback handlers: every event method is a coroutine
    function, awaited on the run's event loop (or on a private loop in a sync run).

    A subclass of ``BaseCallbackHandler``, as LangChain's, so code that filters
    handlers with ``isinstance(h, BaseCallbackHandler)`` keeps them. Dispatch
    looks at each event method, not at the base class: an ``async def`` event is
    awaited, a plain ``def`` one is called as a sync handler's."""


for _name in CALLBACK_EVENTS:
    setattr(BaseCallbackHandler, _name, _no_op(_name, asynchronous=False))
    setattr(AsyncCallbackHandler, _name, _no_op(_name, asynchronous=True))
del _name
