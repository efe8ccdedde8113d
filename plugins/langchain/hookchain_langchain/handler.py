"""Callback handlers across the bridge, both ways.

``adapt(lc_handler)`` makes a ``langchain_core`` ``BaseCallbackHandler`` (or
``AsyncCallbackHandler``) a hookchain handler: hookchain's events reach it with
LangChain's objects (messages, ``LLMResult``, ``ChatGenerationChunk``, prompt
values, converted by ``hookchain_langchain.convert``). hookchain calls this
through the plugin's ``adapt_callback_handler`` hook whenever such a handler is
passed in ``callbacks=``; ``[handlers.langchain] class = "module:Class"``
builds one from config (``langchain_handler``).

``as_langchain_handler(handler)`` is the other way: a hookchain handler as a
LangChain one, receiving LangChain's events with hookchain's objects.

Either adapter forwards only the events the wrapped handler implements (so the
dispatcher skips the others, and ``on_chat_model_start`` falls back to
``on_llm_start`` exactly as for the wrapped handler), reads the wrapped
handler's flags (``raise_error``, ``run_inline``, ``ignore_*``), hands other
attribute reads to it (``adapter.usage_metadata``), and equals it (``==``), so
one handler given twice is called once.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import langchain_core.callbacks.base as lc_base
from hookchain.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from hookchain.hookspecs import CALLBACK_EVENTS

from hookchain_langchain.convert import to_hookchain, to_langchain
from hookchain_langchain.options import check_options, load_class

__all__ = ["LangChainHandler", "HookchainHandler", "adapt", "as_langchain_handler", "langchain_handler"]

_FLAGS = ("raise_error", "run_inline", "ignore_llm", "ignore_chain", "ignore_agent", "ignore_retriever",
          "ignore_chat_model", "ignore_retry", "ignore_custom_event")


def _forwarder(event: str, convert: Callable[[Any], Any], asynchronous: bool) -> Callable[..., Any]:
    if asynchronous:
        async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            return await getattr(self.handler, event)(*convert(args), **convert(kwargs))
    else:
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            return getattr(self.handler, event)(*convert(args), **convert(kwargs))
    method.__name__ = event
    return method


def _flag(name: str) -> property:
    return property(lambda self: getattr(self.handler, name), doc=f"The wrapped handler's ``{name}``.")


class _Wrapping:
    """What both adapters share: the wrapped ``handler``, its flags, equality."""

    handler: Any

    def __init__(self, handler: Any) -> None:
        self.handler = handler

    def __eq__(self, other: object) -> bool:
        return other is self or other is self.handler or (isinstance(other, _Wrapping) and other.handler is self.handler)

    def __hash__(self) -> int:
        return hash(id(self.handler))

    def __getattr__(self, name: str) -> Any:  # attributes this adapter lacks: the wrapped handler's
        if name == "handler":
            raise AttributeError(name)
        return getattr(self.handler, name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.handler!r})"


def _subclass(base: type, name: str, wrapped: type, events: dict[str, bool], convert: Callable[[Any], Any]) -> type:
    namespace: dict[str, Any] = {event: _forwarder(event, convert, asynchronous) for event, asynchronous in events.items()}
    namespace.update({flag: _flag(flag) for flag in _FLAGS})
    namespace["__module__"] = __name__
    namespace["__doc__"] = f"{base.__doc__.splitlines()[0]} (for {wrapped.__module__}.{wrapped.__qualname__})"
    return type(name, (base,), namespace)


# --------------------------------------------------------------------------- #
# LangChain handlers inside hookchain
# --------------------------------------------------------------------------- #


class LangChainHandler(_Wrapping, BaseCallbackHandler):
    """A langchain_core callback handler receiving hookchain's events.

    Attributes:
        handler: the wrapped ``langchain_core`` handler.
    """


class _AsyncLangChainHandler(_Wrapping, AsyncCallbackHandler):
    """A langchain_core async callback handler receiving hookchain's events."""


_lc_adapters: dict[type, type] = {}


def _lc_events(cls: type) -> dict[str, bool]:
    """The events ``cls`` (a LangChain handler class) implements: ``{event: is async}``."""
    default = lc_base.AsyncCallbackHandler if issubclass(cls, lc_base.AsyncCallbackHandler) else lc_base.BaseCallbackHandler
    return {e: inspect.iscoroutinefunction(getattr(cls, e)) for e in CALLBACK_EVENTS
            if getattr(cls, e, None) is not getattr(default, e)}


def adapt(handler: Any) -> LangChainHandler:
    """``handler`` (a ``langchain_core`` ``BaseCallbackHandler`` instance) as a
    hookchain handler. Raises ``TypeError`` for anything else."""
    if not isinstance(handler, lc_base.BaseCallbackHandler):
        raise TypeError(f"expected a langchain_core BaseCallbackHandler, got {type(handler).__name__}")
    cls = type(handler)
    adapter = _lc_adapters.get(cls)
    if adapter is None:
        base = _AsyncLangChainHandler if issubclass(cls, lc_base.AsyncCallbackHandler) else LangChainHandler
        adapter = _lc_adapters[cls] = _subclass(base, "LangChainHandler", cls, _lc_events(cls), to_langchain)
    return adapter(handler)


def langchain_handler(**options: Any) -> LangChainHandler:
    """The ``langchain`` handler's factory: ``class`` (or ``class_``; ``"module:Class"``)
    names a ``langchain_core`` callback handler class, built with the other
    options. Raises ``hookchain.errors.OptionError`` for a missing or
    unimportable class (naming the package to install) or an option its
    constructor does not take."""
    spec = options.pop("class", None)
    spec = options.pop("class_", spec)
    what = "handler 'langchain'"
    cls = load_class(what, spec, lc_base.BaseCallbackHandler, "langchain_core.callbacks:StdOutCallbackHandler")
    check_options(what, cls, options)
    return adapt(cls(**options))


# --------------------------------------------------------------------------- #
# hookchain handlers inside LangChain
# --------------------------------------------------------------------------- #


class HookchainHandler(_Wrapping, lc_base.BaseCallbackHandler):
    """A hookchain callback handler receiving LangChain's events.

    Attributes:
        handler: the wrapped hookchain handler.
    """


class _AsyncHookchainHandler(_Wrapping, lc_base.AsyncCallbackHandler):
    """A hookchain async callback handler receiving LangChain's events."""


_hc_adapters: dict[type, type] = {}


def as_langchain_handler(handler: Any) -> HookchainHandler:
    """``handler`` (a hookchain ``BaseCallbackHandler``/``AsyncCallbackHandler``)
    as a ``langchain_core`` callback handler, for LangChain's ``callbacks=``.
    Raises ``TypeError`` for anything else."""
    if not isinstance(handler, BaseCallbackHandler):
        raise TypeError(f"expected a hookchain BaseCallbackHandler, got {type(handler).__name__}")
    cls = type(handler)
    adapter = _hc_adapters.get(cls)
    if adapter is None:
        base = _AsyncHookchainHandler if isinstance(handler, AsyncCallbackHandler) else HookchainHandler
        events = {e: e in cls._hc_async_events for e in cls._hc_events}
        adapter = _hc_adapters[cls] = _subclass(base, "HookchainHandler", cls, events, to_hookchain)
    return adapter(handler)
