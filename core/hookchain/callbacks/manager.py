"""Callback managers and the run tree (as ``langchain_core.callbacks.manager``).

A ``CallbackManager`` holds the handlers, tags and metadata that apply to the
runs it starts; ``on_chain_start``/``on_chat_model_start``/... open a run and
return a run manager (``CallbackManagerForChainRun``, ``CallbackManagerForLLMRun``
...) bound to the new ``run_id``. ``run_manager.get_child(tag)`` gives the
manager for nested runs: it carries the *inheritable* handlers, tags and
metadata, with ``parent_run_id`` set, which is how the run tree is built.

Every event goes through one loop, ``_dispatch`` (sync) or ``_adispatch``
(async); streamed tokens through the same loop prepared once per run
(``token_sink``). It skips handlers that do not override the event or set its
``ignore_*`` flag, isolates handler failures (logged with the handler's class
and event; re-raised only when ``raise_error`` is true), and in async runs
awaits async handlers and hands sync ones, in order, to a delivery thread
unless ``run_inline`` (a stuck one is abandoned after its timeout).

Handlers enabled by config (``enable_handler``) join every root run in the
process as inheritable handlers, beside constructor and runtime callbacks.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import uuid
from collections import OrderedDict
from queue import SimpleQueue
from random import getrandbits as _getrandbits
from typing import Any, Optional, Sequence, TypeVar, Union

from hookchain import _upcalls
from hookchain.callbacks.base import AsyncCallbackHandler, BaseCallbackHandler, _HandlerBase
from hookchain._lazy import lazy_import
from hookchain.hookspecs import CALLBACK_EVENTS

asyncio = lazy_import("asyncio")  # loaded on first use: sync-only programs never pay for it

__all__ = [
    "BaseCallbackManager", "CallbackManager", "AsyncCallbackManager",
    "BaseRunManager", "CallbackManagerForLLMRun", "AsyncCallbackManagerForLLMRun",
    "CallbackManagerForChainRun", "AsyncCallbackManagerForChainRun",
    "CallbackManagerForToolRun", "AsyncCallbackManagerForToolRun",
    "CallbackManagerForRetrieverRun", "AsyncCallbackManagerForRetrieverRun",
    "enable_handler", "disable_handler", "enabled_handlers", "set_handler_timeout",
    "dispatch_custom_event", "adispatch_custom_event",
]

logger = logging.getLogger("hookchain.callbacks")

# Copy-on-write: runs read ``_enabled`` without a lock; writers replace it
# under ``_enabled_lock``.
_enabled: tuple[_HandlerBase, ...] = ()
_enabled_lock = threading.RLock()
_autoload_pending = True
_autoload_lock = threading.Lock()


def enable_handler(handler: _HandlerBase) -> None:
    """Attach ``handler`` to every root run started in this process from now on
    (what a config file's ``[handlers.NAME]`` table does). If it implements
    chat-model hooks (``@hookimpl`` methods), they start wrapping model calls.
    Safe to call from several threads while runs are in flight."""
    global _enabled
    handler = _as_handler(handler)
    with _enabled_lock:
        if handler not in _enabled:
            from hookchain import model_hooks

            model_hooks.enable(handler)
            _enabled = (*_enabled, handler)


def disable_handler(handler: _HandlerBase) -> None:
    """Detach a handler attached with ``enable_handler``; unknown handlers are
    ignored. Safe to call from several threads while runs are in flight."""
    global _enabled
    from hookchain import model_hooks

    with _enabled_lock:
        if not isinstance(handler, _HandlerBase):  # another library's handler: its adapter
            handler = next((h for h in _enabled if h == handler), handler)
        model_hooks.disable(handler)
        _enabled = tuple(h for h in _enabled if h is not handler)


def enabled_handlers() -> tuple[_HandlerBase, ...]:
    """The handlers attached to every root run (config-enabled), in order."""
    _autoload()
    return _enabled


def _autoload() -> None:
    # The first root run of the process reads the config file once (see
    # hookchain.config.autoload); afterwards this is one global lookup.
    global _autoload_pending
    if _autoload_pending:
        with _autoload_lock:
            if _autoload_pending:
                _autoload_pending = False
                _upcalls.first_run()  # hookchain.config.autoload: installed by the package


def _check_handler(handler: Any) -> None:
    if not isinstance(handler, _HandlerBase):
        raise TypeError(
            f"callbacks must be BaseCallbackHandler or AsyncCallbackHandler instances, "
            f"got {type(handler).__name__}: subclass hookchain.callbacks.BaseCallbackHandler"
        )


def _as_handler(handler: Any) -> _HandlerBase:
    """``handler`` itself, or for another library's handler (a ``langchain_core``
    one...) the hookchain handler a plugin's ``adapt_callback_handler`` hook
    gives for it; raises ``TypeError`` when none does."""
    if isinstance(handler, _HandlerBase):
        return handler
    adapted = _upcalls.adapt_handler(handler)
    _check_handler(handler if adapted is None else adapted)
    return adapted


# --------------------------------------------------------------------------- #
# Dispatch: the one hot loop
# --------------------------------------------------------------------------- #


#: Seconds an async handler (or a sync one sent to the executor in an async run)
#: may take per event before it is abandoned and logged as failed; ``None``: no
#: limit. A handler's own ``timeout`` attribute overrides it. Set by the
#: config's ``handler_timeout`` key or ``set_handler_timeout``.
handler_timeout: Optional[float] = None

_logged: "OrderedDict[tuple[int, Any], None]" = OrderedDict()
_LOGGED_MAX = 4096


def set_handler_timeout(seconds: Optional[float]) -> None:
    """Set the default per-event time limit (seconds) of handlers in async runs
    and of async handlers in sync runs; ``None`` removes it. Raises
    ``ValueError`` for a negative number."""
    global handler_timeout
    if seconds is not None and seconds < 0:
        raise ValueError(f"handler timeout must be >= 0 seconds or None, got {seconds!r}")
    handler_timeout = seconds


def _timeout(handler: _HandlerBase) -> Optional[float]:
    own = handler.timeout
    return own if own is not None else handler_timeout


def _failed(handler: _HandlerBase, event: str, error: Exception, run_id: Any = None) -> None:
    """A handler failed: re-raise if it asked to (``raise_error``), else log it,
    once per handler and run (later failures in the same run are counted at
    debug level only). The set of logged pairs is bounded: nothing is kept per
    finished run."""
    if handler.raise_error:
        raise error
    key = (id(handler), run_id)
    if key in _logged:
        logger.debug("Error in %s.%s callback (again in run %s): %r", type(handler).__name__, event, run_id, error)
        return
    _logged[key] = None
    if len(_logged) > _LOGGED_MAX:
        _logged.popitem(last=False)
    logger.warning(
        "Error in %s.%s callback: %r (run %s; the run goes on; further errors of this handler in this run are not logged)",
        type(handler).__name__, event, error, run_id,
    )


def _chat_to_llm_start(handler: _HandlerBase, args: tuple, kwargs: dict[str, Any]) -> Any:
    # As LangChain: a handler without on_chat_model_start gets on_llm_start with
    # the messages rendered as strings.
    from hookchain.messages import get_buffer_string

    serialized, messages = args
    return handler.on_llm_start(serialized, [get_buffer_string(m) for m in messages], **kwargs)


_local = threading.local()
_helper_loop: Optional[asyncio.AbstractEventLoop] = None


def _helper() -> asyncio.AbstractEventLoop:
    """A private event loop on a daemon thread, started once, for async handlers
    called from sync code that runs inside another event loop."""
    global _helper_loop
    with _autoload_lock:
        if _helper_loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="hookchain-async-handlers", daemon=True).start()
            _helper_loop = loop
    return _helper_loop


def _run_coroutine(coro: Any, timeout: Optional[float] = None) -> None:
    """Run an async handler's coroutine from sync code to completion, within
    ``timeout`` seconds: on this thread's private loop (kept for reuse), or on
    the helper loop when this thread already runs a loop."""
    if timeout is not None:
        coro = asyncio.wait_for(coro, timeout)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        loop = getattr(_local, "loop", None)
        if loop is None or loop.is_closed():
            loop = _local.loop = asyncio.new_event_loop()
        loop.run_until_complete(contextvars.copy_context().run(asyncio.ensure_future, coro, loop=loop))
        return
    asyncio.run_coroutine_threadsafe(coro, _helper()).result()


def _call_sync(handler: _HandlerBase, event: str, args: tuple, kwargs: dict[str, Any]) -> None:
    """Deliver one event to one handler from sync code, isolating its failure."""
    try:
        if event in handler._hc_async_events:
            _run_coroutine(getattr(handler, event)(*args, **kwargs), _timeout(handler))
        else:
            getattr(handler, event)(*args, **kwargs)
    except NotImplementedError as e:
        if event != "on_chat_model_start":
            _failed(handler, event, e, kwargs.get("run_id"))
        elif not handler.ignore_llm:  # the fallback is an LLM event (as LangChain)
            try:
                result = _chat_to_llm_start(handler, args, kwargs)
                if asyncio.iscoroutine(result):
                    _run_coroutine(result, _timeout(handler))
            except Exception as e2:  # noqa: BLE001
                _failed(handler, "on_llm_start", e2, kwargs.get("run_id"))
    except Exception as e:  # noqa: BLE001 - isolation is the point
        _failed(handler, event, e, kwargs.get("run_id"))


def _dispatch(handlers: Sequence[_HandlerBase], event: str, args: tuple, kwargs: dict[str, Any]) -> None:
    if _pending:
        _drain()
    flag = CALLBACK_EVENTS[event]
    for handler in handlers:
        if event in handler._hc_events and (flag is None or not getattr(handler, flag)):
            if event in handler._hc_async_events or event == "on_chat_model_start":
                _call_sync(handler, event, args, kwargs)
                continue
            try:  # _call_sync's common case inline: this loop runs per streamed token
                getattr(handler, event)(*args, **kwargs)
            except Exception as e:  # noqa: BLE001 - isolation is the point
                _failed(handler, event, e, kwargs.get("run_id"))


def _bounded(awaitable: Any, handler: _HandlerBase) -> Any:
    timeout = _timeout(handler)
    return awaitable if timeout is None else asyncio.wait_for(awaitable, timeout)


# Sync handlers in async runs: their calls go, in order, to one delivery
# thread, so the event loop never blocks on them and pays no thread hop per
# event. A root run's end (or error) waits until its events were delivered, so
# every handler call of a run has happened when ``ainvoke`` returns; a sync
# dispatch (e.g. from a sync lambda in a worker thread) first waits for the
# pending deliveries, so each handler sees its events in order.
#
# Whoever waits for the delivery thread watches the call in progress: a call
# that outlives its handler's timeout is abandoned. Its thread is left to
# finish that call alone and then ends; a fresh thread takes over the queue
# (the other handlers keep their order), and the handler gets no events until
# the abandoned call returns: a stuck handler costs its timeout once. A run
# started by a handler on the delivery thread delivers inline: it cannot wait
# for the thread it runs on.
_deliveries: "SimpleQueue[Any]" = SimpleQueue()
_worker: Optional["_Worker"] = None
_pending = 0  # calls queued and neither done nor abandoned
_pending_lock = threading.Lock()
_stuck: dict[int, _HandlerBase] = {}  # handlers with an abandoned call in progress, by id
_POLL = 0.05  # seconds between looks at the call in progress while waiting
_own_timeouts = False  # a handler with its own ``timeout`` was delivered (else only ``handler_timeout`` applies)


class _Worker(threading.Thread):
    """The thread delivering queued sync-handler calls (one serves the queue at a time)."""

    def __init__(self) -> None:
        super().__init__(name="hookchain-sync-handlers", daemon=True)
        #: ``(handler, event, start time, reply)`` of the call in progress.
        self.call: Optional[tuple[Any, ...]] = None
        self.abandoned = False

    def run(self) -> None:
        global _pending
        while True:
            item = _deliveries.get()
            if len(item) == 1:  # a drain marker from sync code
                item[0].set()
                continue
            if len(item) == 2:  # a flush marker from a root run's end
                _reply(item, None)
                continue
            ctx, handler, event, args, kwargs, reply = item
            error: Optional[BaseException] = None
            if _stuck and id(handler) in _stuck:
                error = asyncio.TimeoutError(
                    f"{type(handler).__name__}.{event} skipped: an earlier call of this handler has not returned")
                if reply is None:
                    _failed(handler, event, error, kwargs.get("run_id"))
            else:
                self.call = (handler, event, time.monotonic(), reply)
                try:
                    ctx.run(_call_sync, handler, event, args, kwargs)
                except BaseException as e:  # noqa: BLE001 - the worker must survive
                    error = e
            with _pending_lock:
                self.call = None
                if self.abandoned:  # its waiter gave up on this call and started a new thread
                    _stuck.pop(id(handler), None)
                    logger.info("%s.%s returned after being abandoned; it gets events again", type(handler).__name__, event)
                    return
                _pending -= 1
            if reply is not None:
                _reply(reply, error)
            elif error is not None:
                logger.warning("Error in %s.%s callback: %r", type(handler).__name__, event, error)


def _start_worker() -> None:
    """Start a delivery thread (with ``_pending_lock`` held)."""
    global _worker
    _worker = _Worker()
    _worker.start()


def _reply(reply: tuple[Any, Any], error: Optional[BaseException]) -> None:
    loop, future = reply
    try:
        loop.call_soon_threadsafe(_resolve, future, error)
    except RuntimeError:  # that loop is closed: nobody waits any more
        pass


def _resolve(future: "asyncio.Future[None]", error: Optional[BaseException]) -> None:
    if not future.done():
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


def _check_stuck() -> float:
    """Abandon the delivery thread's call in progress if it has outlived its
    handler's timeout (see above); returns the seconds to wait before looking again."""
    global _pending
    worker = _worker
    call = worker.call if worker is not None else None
    timeout = _timeout(call[0]) if call is not None else None
    if timeout is None:
        return _POLL
    left = call[2] + timeout - time.monotonic()
    if left > 0:
        return min(left, _POLL)
    with _pending_lock:
        if worker is not _worker or worker.call is not call:
            return 0.0  # it returned meanwhile, or was abandoned by another waiter
        worker.abandoned = True
        _pending -= 1
        handler, event, _, reply = call
        _stuck[id(handler)] = handler
        _start_worker()
    logger.warning(
        "%s.%s did not return within %s s: abandoned (the run goes on; the handler gets no events until it returns)",
        type(handler).__name__, event, timeout,
    )
    if reply is not None:
        _reply(reply, asyncio.TimeoutError(f"{type(handler).__name__}.{event} did not return within {timeout} s"))
    return 0.0


def _deliver(handler: _HandlerBase, event: str, args: tuple, kwargs: dict[str, Any], reply: Any = None) -> None:
    global _pending, _own_timeouts
    if handler.timeout is not None:
        _own_timeouts = True
    with _pending_lock:
        _pending += 1
        if _worker is None:
            _start_worker()
    _deliveries.put((contextvars.copy_context(), handler, event, args, kwargs, reply))


def _on_worker() -> bool:
    return type(threading.current_thread()) is _Worker


def _drain() -> None:
    """Block until the deliveries queued so far are done or abandoned (not on a
    delivery thread)."""
    if _pending and not _on_worker():
        done = threading.Event()
        _deliveries.put((done,))
        while not done.wait(_check_stuck()):
            pass


async def _delivered(future: "asyncio.Future[None]") -> None:
    """Await ``future``, resolved by the delivery thread, abandoning a call that
    outlives its timeout meanwhile; raises what the future holds."""
    if handler_timeout is None and not _own_timeouts:  # no call can be late: no watch
        return await future
    watch: list = []
    watch.append(future.get_loop().call_later(_check_stuck(), _watch, future, watch))
    try:
        await future
    finally:
        watch[0].cancel()


def _watch(future: "asyncio.Future[None]", watch: list) -> None:
    if not future.done():
        watch[0] = future.get_loop().call_later(_check_stuck(), _watch, future, watch)


async def _flush() -> None:
    """Wait until every event handed to the delivery thread so far was delivered
    (or its call abandoned)."""
    if not _pending or _on_worker():
        return
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    _deliveries.put((loop, future))
    await _delivered(future)


async def _call_and_wait(handler: _HandlerBase, event: str, args: tuple, kwargs: dict[str, Any]) -> None:
    """Deliver one call on the delivery thread and wait for it (for handlers
    that may stop the run, or whose async methods must stay in order with it)."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    _deliver(handler, event, args, kwargs, (loop, future))
    try:
        await _delivered(future)
    except asyncio.TimeoutError as e:
        _failed(handler, event, e, kwargs.get("run_id"))


async def _acall(handler: _HandlerBase, event: str, args: tuple, kwargs: dict[str, Any]) -> None:
    try:
        await _bounded(getattr(handler, event)(*args, **kwargs), handler)
    except NotImplementedError as e:
        if event != "on_chat_model_start":
            _failed(handler, event, e, kwargs.get("run_id"))
        elif not handler.ignore_llm:
            try:
                result = _chat_to_llm_start(handler, args, kwargs)
                if asyncio.iscoroutine(result):
                    await _bounded(result, handler)
            except Exception as e2:  # noqa: BLE001
                _failed(handler, "on_llm_start", e2, kwargs.get("run_id"))
    except Exception as e:  # noqa: BLE001
        _failed(handler, event, e, kwargs.get("run_id"))


async def _adispatch(handlers: Sequence[_HandlerBase], event: str, args: tuple, kwargs: dict[str, Any]) -> None:
    flag = CALLBACK_EVENTS[event]
    for handler in handlers:
        if event not in handler._hc_events or (flag is not None and getattr(handler, flag)):
            continue
        if event in handler._hc_async_events:
            await _acall(handler, event, args, kwargs)
        elif handler.run_inline:
            _call_sync(handler, event, args, kwargs)
        elif _on_worker():  # a run started by a handler being delivered
            contextvars.copy_context().run(_call_sync, handler, event, args, kwargs)
        elif handler.raise_error or handler._hc_async_events:
            await _call_and_wait(handler, event, args, kwargs)
        else:
            _deliver(handler, event, args, kwargs)


_UUID4_BITS = (0x4 << 76) | (0x2 << 62)  # version 4, RFC 4122 variant
_UUID4_MASK = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)


_new_uuid = _new_object = object.__new__
_set = object.__setattr__
_UUID = uuid.UUID
_UNKNOWN = uuid.SafeUUID.unknown


def _new_run_id() -> uuid.UUID:
    """A random version-4 UUID from ``random.getrandbits``, built without
    ``UUID.__init__``'s argument parsing (4x cheaper than ``uuid.uuid4``):
    run ids must be unique, not secret."""
    u = _new_uuid(_UUID)
    _set(u, "int", (_getrandbits(128) & _UUID4_MASK) | _UUID4_BITS)
    _set(u, "is_safe", _UNKNOWN)
    return u


# --------------------------------------------------------------------------- #
# Run managers: one per run
# --------------------------------------------------------------------------- #


class BaseRunManager:
    """The handlers, tags and metadata of one run, bound to its ``run_id``."""

    __slots__ = (
        "run_id", "handlers", "inheritable_handlers", "parent_run_id",
        "tags", "inheritable_tags", "metadata", "inheritable_metadata",
    )
    _child_manager: type["BaseCallbackManager"]

    def __init__(
        self,
        *,
        run_id: uuid.UUID,
        handlers: list[_HandlerBase],
        inheritable_handlers: list[_HandlerBase],
        parent_run_id: Optional[uuid.UUID] = None,
        tags: Optional[list[str]] = None,
        inheritable_tags: Optional[list[str]] = None,
        metadata: Optional[dict[str, Any]] = None,
        inheritable_metadata: Optional[dict[str, Any]] = None,
    ) -> None:
        self.run_id = run_id
        self.handlers = handlers
        self.inheritable_handlers = inheritable_handlers
        self.parent_run_id = parent_run_id
        self.tags = tags if tags is not None else []
        self.inheritable_tags = inheritable_tags if inheritable_tags is not None else []
        self.metadata = metadata if metadata is not None else {}
        self.inheritable_metadata = inheritable_metadata if inheritable_metadata is not None else {}

    @classmethod
    def get_noop_manager(cls: type[_RM]) -> _RM:
        """A run manager with no handlers (for calling ``_generate`` directly)."""
        return cls(run_id=_new_run_id(), handlers=[], inheritable_handlers=[])

    def get_child(self, tag: Optional[str] = None) -> "BaseCallbackManager":
        """The manager for runs nested in this one: inheritable handlers, tags and
        metadata, ``parent_run_id`` = this run, plus ``tag`` (not inherited further)."""
        child = _new_manager(
            self._child_manager, self.inheritable_handlers, self.inheritable_handlers, self.run_id,
            self.inheritable_tags, self.inheritable_tags, self.inheritable_metadata, self.inheritable_metadata,
        )
        if tag is not None:
            child.tags.append(tag)
        return child

    def _event_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {"run_id": self.run_id, "parent_run_id": self.parent_run_id, "tags": self.tags, **kwargs}

    # Events any run can emit. In async managers ``_emit`` is a coroutine
    # function, so these return awaitables there.
    def on_text(self, text: str, **kwargs: Any) -> Any:
        """Emit ``on_text`` for this run."""
        return self._emit("on_text", (text,), kwargs)

    def on_retry(self, retry_state: Any, **kwargs: Any) -> Any:
        """Emit ``on_retry`` for this run (``retry_state``: e.g. tenacity's ``RetryCallState``)."""
        return self._emit("on_retry", (retry_state,), kwargs)

    def _emit(self, event: str, args: tuple, kwargs: dict[str, Any]) -> Any:
        if self.handlers:
            _dispatch(self.handlers, event, args, self._event_kwargs(kwargs))

    def dispatch_sync(self, event: str, args: tuple, kwargs: dict[str, Any]) -> None:
        """Deliver ``event(*args, **kwargs)`` to this run's handlers from sync
        code, even for an async run (async handlers run to completion); for
        layers above this one (``hookchain.model_hooks``)."""
        if self.handlers:
            _dispatch(self.handlers, event, args, kwargs)


_RM = TypeVar("_RM", bound=BaseRunManager)


class _AsyncEmit:
    __slots__ = ()

    async def _emit(self, event: str, args: tuple, kwargs: dict[str, Any]) -> None:
        if self.handlers:  # type: ignore[attr-defined]
            await _adispatch(self.handlers, event, args, self._event_kwargs(kwargs))  # type: ignore[attr-defined]
        if _pending and self.parent_run_id is None and event.endswith(("_end", "_error")):  # type: ignore[attr-defined]
            await _flush()  # a root run ends: its sync handlers have all been called

    def get_sync(self) -> BaseRunManager:
        """The sync run manager for the same run (to call sync code from async code)."""
        sync_cls = _SYNC_OF[type(self)]
        return sync_cls(
            run_id=self.run_id, handlers=self.handlers, inheritable_handlers=self.inheritable_handlers,  # type: ignore[attr-defined]
            parent_run_id=self.parent_run_id, tags=self.tags, inheritable_tags=self.inheritable_tags,  # type: ignore[attr-defined]
            metadata=self.metadata, inheritable_metadata=self.inheritable_metadata,  # type: ignore[attr-defined]
        )


class _LLMRunEvents:
    __slots__ = ()

    def on_llm_new_token(self, token: str, *, chunk: Any = None, **kwargs: Any) -> Any:
        """Emit ``on_llm_new_token`` (``token``: the chunk's text; ``chunk``: the
        ``ChatGenerationChunk``). hookchain's ``BaseChatModel`` calls this for every
        chunk it streams, so a model never needs to."""
        return self._emit("on_llm_new_token", (token,), {"chunk": chunk, **kwargs})  # type: ignore[attr-defined]

    def on_llm_end(self, response: Any, **kwargs: Any) -> Any:
        """Emit ``on_llm_end`` with ``response`` (an ``LLMResult``)."""
        return self._emit("on_llm_end", (response,), kwargs)  # type: ignore[attr-defined]

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> Any:
        """Emit ``on_llm_error``; ``kwargs["response"]`` may carry a partial ``LLMResult``."""
        return self._emit("on_llm_error", (error,), kwargs)  # type: ignore[attr-defined]


class _ChainRunEvents:
    __slots__ = ()

    def on_chain_end(self, outputs: Any, **kwargs: Any) -> Any:
        """Emit ``on_chain_end`` with the run's ``outputs``."""
        return self._emit("on_chain_end", (outputs,), kwargs)  # type: ignore[attr-defined]

    def on_chain_error(self, error: BaseException, **kwargs: Any) -> Any:
        """Emit ``on_chain_error`` with ``error``."""
        return self._emit("on_chain_error", (error,), kwargs)  # type: ignore[attr-defined]

    def on_agent_action(self, action: Any, **kwargs: Any) -> Any:
        return self._emit("on_agent_action", (action,), kwargs)  # type: ignore[attr-defined]

    def on_agent_finish(self, finish: Any, **kwargs: Any) -> Any:
        return self._emit("on_agent_finish", (finish,), kwargs)  # type: ignore[attr-defined]


class _ToolRunEvents:
    __slots__ = ()

    def on_tool_end(self, output: Any, **kwargs: Any) -> Any:
        return self._emit("on_tool_end", (output,), kwargs)  # type: ignore[attr-defined]

    def on_tool_error(self, error: BaseException, **kwargs: Any) -> Any:
        return self._emit("on_tool_error", (error,), kwargs)  # type: ignore[attr-defined]


class _RetrieverRunEvents:
    __slots__ = ()

    def on_retriever_end(self, documents: Sequence[Any], **kwargs: Any) -> Any:
        return self._emit("on_retriever_end", (documents,), kwargs)  # type: ignore[attr-defined]

    def on_retriever_error(self, error: BaseException, **kwargs: Any) -> Any:
        return self._emit("on_retriever_error", (error,), kwargs)  # type: ignore[attr-defined]


class CallbackManagerForLLMRun(_LLMRunEvents, BaseRunManager):
    """Run manager of a chat model or LLM run; passed to ``_generate``."""
    __slots__ = ()

    def on_llm_new_token(self, token: str, *, chunk: Any = None, **kwargs: Any) -> None:
        """Emit ``on_llm_new_token`` (``token``: the chunk's text; ``chunk``: the
        ``ChatGenerationChunk``); ``_emit`` inlined, as it runs per token."""
        if self.handlers:
            _dispatch(self.handlers, "on_llm_new_token", (token,), {
                "run_id": self.run_id, "parent_run_id": self.parent_run_id, "tags": self.tags, "chunk": chunk, **kwargs})


class CallbackManagerForChainRun(_ChainRunEvents, BaseRunManager):
    """Run manager of a chain run (sequences, prompts, lambdas...)."""
    __slots__ = ()


class CallbackManagerForToolRun(_ToolRunEvents, BaseRunManager):
    __slots__ = ()


class CallbackManagerForRetrieverRun(_RetrieverRunEvents, BaseRunManager):
    __slots__ = ()


class AsyncCallbackManagerForLLMRun(_AsyncEmit, _LLMRunEvents, BaseRunManager):
    """Async run manager of a chat model run; passed to ``_agenerate``/``_astream``;
    its event methods are awaited."""
    __slots__ = ()


class AsyncCallbackManagerForChainRun(_AsyncEmit, _ChainRunEvents, BaseRunManager):
    __slots__ = ()


class AsyncCallbackManagerForToolRun(_AsyncEmit, _ToolRunEvents, BaseRunManager):
    __slots__ = ()


class AsyncCallbackManagerForRetrieverRun(_AsyncEmit, _RetrieverRunEvents, BaseRunManager):
    __slots__ = ()


class _StreamLLMRun(CallbackManagerForLLMRun):
    """What ``_stream`` receives: the run's manager, minus ``on_llm_new_token``,
    which the framework fires for every chunk itself (a model's own call, as in
    the seeds, would double it). ``on_retry``, ``on_text`` and custom events go
    through."""

    __slots__ = ()

    def on_llm_new_token(self, token: str, *, chunk: Any = None, **kwargs: Any) -> None:
        return None


class _AsyncStreamLLMRun(AsyncCallbackManagerForLLMRun):
    """``_StreamLLMRun`` for ``_astream``."""

    __slots__ = ()

    async def on_llm_new_token(self, token: str, *, chunk: Any = None, **kwargs: Any) -> None:
        return None


_TOKEN = "on_llm_new_token"
assert CALLBACK_EVENTS[_TOKEN] == "ignore_llm"  # read as an attribute below


def token_sink(rm: BaseRunManager) -> Optional[Any]:
    """What a model calls per streamed chunk instead of
    ``rm.on_llm_new_token(token, chunk=chunk)``: ``sink(token, chunk)`` fires
    the same events, to the same handlers, with the work that does not change
    within a run done once (which handlers override the event, their bound
    methods, the run's keywords). Each handler's ``ignore_llm`` is still read
    per token, as LangChain reads it per event. ``None`` when no handler of
    the run overrides ``on_llm_new_token`` (nothing to call). For an async run
    manager ``sink`` is a coroutine function."""
    takers = [h for h in rm.handlers if _TOKEN in h._hc_events]
    if not takers:
        return None
    run_id, parent_run_id, tags = rm.run_id, rm.parent_run_id, rm.tags
    is_async = isinstance(rm, _AsyncEmit)
    direct = [h for h in takers if (_TOKEN in h._hc_async_events) is is_async]
    if len(direct) < len(takers):  # sync handlers in async runs, coroutines in sync ones: the general path
        if is_async:
            async def adispatch(token: str, chunk: Any) -> None:
                await _adispatch(takers, _TOKEN, (token,), {
                    "run_id": run_id, "parent_run_id": parent_run_id, "tags": tags, "chunk": chunk})
            return adispatch

        def dispatch(token: str, chunk: Any) -> None:
            _dispatch(takers, _TOKEN, (token,), {"run_id": run_id, "parent_run_id": parent_run_id, "tags": tags, "chunk": chunk})
        return dispatch
    methods = [(h, getattr(h, _TOKEN)) for h in takers]
    if is_async:
        async def acall(token: str, chunk: Any) -> None:  # _acall's work for each handler
            for handler, method in methods:
                if not handler.ignore_llm:
                    try:
                        await _bounded(method(token, run_id=run_id, parent_run_id=parent_run_id, tags=tags, chunk=chunk), handler)
                    except Exception as e:  # noqa: BLE001 - isolation is the point
                        _failed(handler, _TOKEN, e, run_id)
        return acall

    def call(token: str, chunk: Any) -> None:  # _dispatch's work for each handler
        if _pending:
            _drain()
        for handler, method in methods:
            if not handler.ignore_llm:
                try:
                    method(token, run_id=run_id, parent_run_id=parent_run_id, tags=tags, chunk=chunk)
                except Exception as e:  # noqa: BLE001 - isolation is the point
                    _failed(handler, _TOKEN, e, run_id)
    return call


def for_stream(rm: Any) -> Any:
    """``rm`` as handed to ``_stream``/``_astream`` (see ``_StreamLLMRun``)."""
    cls = _AsyncStreamLLMRun if isinstance(rm, _AsyncEmit) else _StreamLLMRun
    return cls(
        run_id=rm.run_id, handlers=rm.handlers, inheritable_handlers=rm.inheritable_handlers,
        parent_run_id=rm.parent_run_id, tags=rm.tags, inheritable_tags=rm.inheritable_tags,
        metadata=rm.metadata, inheritable_metadata=rm.inheritable_metadata,
    )


_SYNC_OF = {
    _AsyncStreamLLMRun: _StreamLLMRun,
    AsyncCallbackManagerForLLMRun: CallbackManagerForLLMRun,
    AsyncCallbackManagerForChainRun: CallbackManagerForChainRun,
    AsyncCallbackManagerForToolRun: CallbackManagerForToolRun,
    AsyncCallbackManagerForRetrieverRun: CallbackManagerForRetrieverRun,
}


# --------------------------------------------------------------------------- #
# Callback managers: start runs
# --------------------------------------------------------------------------- #


class BaseCallbackManager:
    """Handlers, tags and metadata for the runs this manager starts.

    ``handlers`` apply to runs started here; ``inheritable_handlers`` also reach
    their children (runtime callbacks are inheritable, constructor callbacks are
    not), likewise tags and metadata.
    """

    __slots__ = (
        "handlers", "inheritable_handlers", "parent_run_id",
        "tags", "inheritable_tags", "metadata", "inheritable_metadata", "_config_handlers_at",
    )
    _chain_run: type[BaseRunManager]
    _llm_run: type[BaseRunManager]
    _tool_run: type[BaseRunManager]
    _retriever_run: type[BaseRunManager]
    #: ``configure`` leaves reading the config file to the first start event
    #: (async managers: it is read in a thread, off the event loop).
    _reads_config_later = False

    def __init__(
        self,
        handlers: Sequence[_HandlerBase] = (),
        inheritable_handlers: Optional[Sequence[_HandlerBase]] = None,
        parent_run_id: Optional[uuid.UUID] = None,
        *,
        tags: Optional[list[str]] = None,
        inheritable_tags: Optional[list[str]] = None,
        metadata: Optional[dict[str, Any]] = None,
        inheritable_metadata: Optional[dict[str, Any]] = None,
    ) -> None:
        self.handlers = list(handlers)
        self.inheritable_handlers = list(inheritable_handlers) if inheritable_handlers is not None else []
        self.parent_run_id = parent_run_id
        self.tags = tags if tags is not None else []
        self.inheritable_tags = inheritable_tags if inheritable_tags is not None else []
        self.metadata = metadata if metadata is not None else {}
        self.inheritable_metadata = inheritable_metadata if inheritable_metadata is not None else {}
        #: Where the config-enabled handlers go in ``handlers`` once the config
        #: file was read (an async root run started before that); else -1.
        self._config_handlers_at = -1

    @property
    def is_async(self) -> bool:
        return False

    def add_handler(self, handler: _HandlerBase, inherit: bool = True) -> None:
        """Add ``handler`` to the runs this manager starts (and their children if ``inherit``)."""
        handler = _as_handler(handler)
        if handler not in self.handlers:
            self.handlers.append(handler)
        if inherit and handler not in self.inheritable_handlers:
            self.inheritable_handlers.append(handler)

    def remove_handler(self, handler: _HandlerBase) -> None:
        if handler in self.handlers:
            self.handlers.remove(handler)
        if handler in self.inheritable_handlers:
            self.inheritable_handlers.remove(handler)

    def set_handlers(self, handlers: list[_HandlerBase], inherit: bool = True) -> None:
        self.handlers, self.inheritable_handlers = [], []
        for handler in handlers:
            self.add_handler(handler, inherit=inherit)

    def set_handler(self, handler: _HandlerBase, inherit: bool = True) -> None:
        self.set_handlers([handler], inherit=inherit)

    def add_tags(self, tags: Sequence[str], inherit: bool = True) -> None:
        for tag in tags:
            if tag in self.tags:
                self.remove_tags([tag])
        self.tags.extend(tags)
        if inherit:
            self.inheritable_tags.extend(tags)

    def remove_tags(self, tags: Sequence[str]) -> None:
        for tag in tags:
            if tag in self.tags:
                self.tags.remove(tag)
            if tag in self.inheritable_tags:
                self.inheritable_tags.remove(tag)

    def add_metadata(self, metadata: dict[str, Any], inherit: bool = True) -> None:
        self.metadata.update(metadata)
        if inherit:
            self.inheritable_metadata.update(metadata)

    def remove_metadata(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.metadata.pop(key, None)
            self.inheritable_metadata.pop(key, None)

    def copy(self: _CM) -> _CM:
        return type(self)(
            self.handlers, self.inheritable_handlers, self.parent_run_id,
            tags=list(self.tags), inheritable_tags=list(self.inheritable_tags),
            metadata=dict(self.metadata), inheritable_metadata=dict(self.inheritable_metadata),
        )

    @classmethod
    def configure(
        cls: type[_CM],
        inheritable_callbacks: Any = None,
        local_callbacks: Any = None,
        verbose: bool = False,
        inheritable_tags: Optional[Sequence[str]] = None,
        local_tags: Optional[Sequence[str]] = None,
        inheritable_metadata: Optional[dict[str, Any]] = None,
        local_metadata: Optional[dict[str, Any]] = None,
    ) -> _CM:
        """Build the manager for a run, as LangChain's ``CallbackManager.configure``.

        Args:
            inheritable_callbacks: runtime callbacks (a list of handlers, or the
                parent run's manager from ``get_child``).
            local_callbacks: constructor callbacks of the runnable (list or manager);
                they apply to its own runs only.
            verbose: accepted for LangChain compatibility; hookchain has no
                implicit stdout tracer (enable the ``stdout`` handler instead).
            inheritable_tags, local_tags, inheritable_metadata, local_metadata:
                tags and metadata, inherited by child runs or not.

        A root run (no parent manager) also gets the config-enabled handlers.
        Raises ``TypeError`` if a callback is not a handler instance.
        """
        if isinstance(inheritable_callbacks, BaseCallbackManager):
            parent = inheritable_callbacks
            manager = _new_manager(
                cls, parent.handlers, parent.inheritable_handlers, parent.parent_run_id,
                parent.tags, parent.inheritable_tags, parent.metadata, parent.inheritable_metadata,
            )
        else:
            handlers = [h if isinstance(h, _HandlerBase) else _as_handler(h) for h in inheritable_callbacks] if inheritable_callbacks else []
            config_handlers_at = len(handlers) if _autoload_pending and cls._reads_config_later else -1
            if config_handlers_at < 0:
                for handler in enabled_handlers():
                    if handler not in handlers:
                        handlers.append(handler)
            manager = cls(handlers, handlers)
            manager._config_handlers_at = config_handlers_at
        if local_callbacks:
            local = local_callbacks.handlers if isinstance(local_callbacks, BaseCallbackManager) else local_callbacks
            for handler in local:
                if handler not in manager.handlers:
                    manager.add_handler(handler, inherit=False)
        if inheritable_tags:
            manager.add_tags(inheritable_tags)
        if local_tags:
            manager.add_tags(local_tags, inherit=False)
        if inheritable_metadata:
            manager.add_metadata(inheritable_metadata)
        if local_metadata:
            manager.add_metadata(local_metadata, inherit=False)
        return manager

    # -- starting runs ------------------------------------------------------ #
    def _run_manager(self, cls: type[_RM], run_id: Optional[uuid.UUID]) -> _RM:
        # ``cls(run_id=..., handlers=...)`` without the keyword call: once per run.
        rm = _new_object(cls)
        rm.run_id = run_id or _new_run_id()
        rm.handlers, rm.inheritable_handlers, rm.parent_run_id = self.handlers, self.inheritable_handlers, self.parent_run_id
        rm.tags, rm.inheritable_tags = self.tags, self.inheritable_tags
        rm.metadata, rm.inheritable_metadata = self.metadata, self.inheritable_metadata
        return rm

    def _start_kwargs(self, rm: BaseRunManager, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {"run_id": rm.run_id, "parent_run_id": self.parent_run_id, "tags": self.tags, "metadata": self.metadata, **kwargs}

    def _started(self, rm: _RM, event: str, args: tuple, kwargs: dict[str, Any]) -> _RM:
        if self.handlers:
            _dispatch(self.handlers, event, _own_serialized(args), self._start_kwargs(rm, kwargs))
        return rm

    def _started_many(self, rms: list[_RM], event: str, args_list: list[tuple], kwargs: dict[str, Any]) -> list[_RM]:
        if self.handlers:
            for rm, args in zip(rms, args_list):
                _dispatch(self.handlers, event, _own_serialized(args), self._start_kwargs(rm, kwargs))
        return rms

    def on_chain_start(self, serialized: Optional[dict[str, Any]], inputs: Any, run_id: Optional[uuid.UUID] = None, **kwargs: Any) -> Any:
        """Open a chain run; returns its run manager (awaitable in async managers)."""
        return self._started(self._run_manager(self._chain_run, run_id), "on_chain_start", (serialized, inputs), kwargs)

    def on_chat_model_start(self, serialized: dict[str, Any], messages: list[list[Any]], run_id: Optional[uuid.UUID] = None, **kwargs: Any) -> Any:
        """Open one chat model run per message list; returns their run managers
        (``run_id`` is used for the first)."""
        if len(messages) == 1:  # one model call: the common case, without the comprehensions
            return self._started_many([self._run_manager(self._llm_run, run_id)], "on_chat_model_start",
                                      [(serialized, [messages[0]])], kwargs)
        rms = [self._run_manager(self._llm_run, run_id if i == 0 else None) for i in range(len(messages))]
        return self._started_many(rms, "on_chat_model_start", [(serialized, [m]) for m in messages], kwargs)

    def on_llm_start(self, serialized: dict[str, Any], prompts: list[str], run_id: Optional[uuid.UUID] = None, **kwargs: Any) -> Any:
        """Open one LLM run per prompt string; returns their run managers."""
        rms = [self._run_manager(self._llm_run, run_id if i == 0 else None) for i in range(len(prompts))]
        return self._started_many(rms, "on_llm_start", [(serialized, [p]) for p in prompts], kwargs)

    def on_tool_start(self, serialized: dict[str, Any], input_str: str, run_id: Optional[uuid.UUID] = None, **kwargs: Any) -> Any:
        """Open a tool run; returns its run manager."""
        return self._started(self._run_manager(self._tool_run, run_id), "on_tool_start", (serialized, input_str), kwargs)

    def on_retriever_start(self, serialized: dict[str, Any], query: str, run_id: Optional[uuid.UUID] = None, **kwargs: Any) -> Any:
        """Open a retriever run; returns its run manager."""
        return self._started(self._run_manager(self._retriever_run, run_id), "on_retriever_start", (serialized, query), kwargs)

    def on_custom_event(self, name: str, data: Any, run_id: Optional[uuid.UUID] = None, **kwargs: Any) -> Any:
        """Emit a custom event on behalf of run ``run_id`` (default: this manager's parent run)."""
        if self.handlers:
            _dispatch(self.handlers, "on_custom_event", (name, data), {
                "run_id": run_id or self.parent_run_id, "tags": self.tags, "metadata": self.metadata, **kwargs})


_CM = TypeVar("_CM", bound=BaseCallbackManager)


def _new_manager(cls: type[_CM], handlers: list, inheritable_handlers: list, parent_run_id: Optional[uuid.UUID],
                 tags: list, inheritable_tags: list, metadata: dict, inheritable_metadata: dict) -> _CM:
    """``cls(handlers, inheritable_handlers, parent_run_id, tags=..., ...)`` with
    copies of the lists and dicts given, without ``__init__``'s keyword call
    (a manager is built per nested run)."""
    manager = _new_object(cls)
    manager.handlers, manager.inheritable_handlers = list(handlers), list(inheritable_handlers)
    manager.parent_run_id, manager._config_handlers_at = parent_run_id, -1
    manager.tags, manager.inheritable_tags = list(tags), list(inheritable_tags)
    manager.metadata, manager.inheritable_metadata = dict(metadata), dict(inheritable_metadata)
    return manager


def _own_serialized(args: tuple) -> tuple:
    """``args`` of a start event with a copy of ``serialized`` (its dict and its
    ``id`` list): runnables cache one per class and name, and a handler that
    changes what it was given must not change it for later runs (LangChain
    builds it per run)."""
    serialized = args[0]
    if type(serialized) is not dict:
        return args
    own = serialized.copy()
    ids = own.get("id")
    if type(ids) is list:
        own["id"] = ids.copy()
    return (own, *args[1:])


class CallbackManager(BaseCallbackManager):
    """Sync callback manager."""

    __slots__ = ()
    _chain_run = CallbackManagerForChainRun
    _llm_run = CallbackManagerForLLMRun
    _tool_run = CallbackManagerForToolRun
    _retriever_run = CallbackManagerForRetrieverRun


class AsyncCallbackManager(BaseCallbackManager):
    """Async callback manager: its ``on_*_start`` methods are awaited and return
    async run managers."""

    __slots__ = ()
    _chain_run = AsyncCallbackManagerForChainRun
    _llm_run = AsyncCallbackManagerForLLMRun
    _tool_run = AsyncCallbackManagerForToolRun
    _retriever_run = AsyncCallbackManagerForRetrieverRun
    _reads_config_later = True

    @property
    def is_async(self) -> bool:
        return True

    async def _add_config_handlers(self) -> None:
        """Read the config file in a thread (the first root run of the process
        must not do file I/O on the event loop), then add its handlers where
        ``configure`` would have (after the runtime callbacks, inherited). The
        run managers share these lists, so the run being started gets them."""
        at, self._config_handlers_at = self._config_handlers_at, -1
        if _autoload_pending:
            await asyncio.to_thread(_autoload)
        for handler in _enabled:
            if handler not in self.handlers:
                self.handlers.insert(at, handler)
                at += 1
            if handler not in self.inheritable_handlers:
                self.inheritable_handlers.append(handler)

    async def _started(self, rm: _RM, event: str, args: tuple, kwargs: dict[str, Any]) -> _RM:  # type: ignore[override]
        if self._config_handlers_at >= 0:
            await self._add_config_handlers()
        if self.handlers:
            await _adispatch(self.handlers, event, _own_serialized(args), self._start_kwargs(rm, kwargs))
        return rm

    async def _started_many(self, rms: list[_RM], event: str, args_list: list[tuple], kwargs: dict[str, Any]) -> list[_RM]:  # type: ignore[override]
        if self._config_handlers_at >= 0:
            await self._add_config_handlers()
        if self.handlers:
            for rm, args in zip(rms, args_list):
                await _adispatch(self.handlers, event, _own_serialized(args), self._start_kwargs(rm, kwargs))
        return rms

    async def on_custom_event(self, name: str, data: Any, run_id: Optional[uuid.UUID] = None, **kwargs: Any) -> None:  # type: ignore[override]
        if self.handlers:
            await _adispatch(self.handlers, "on_custom_event", (name, data), {
                "run_id": run_id or self.parent_run_id, "tags": self.tags, "metadata": self.metadata, **kwargs})


for _rm in (CallbackManagerForLLMRun, CallbackManagerForChainRun, CallbackManagerForToolRun, CallbackManagerForRetrieverRun):
    _rm._child_manager = CallbackManager
for _rm in _SYNC_OF:
    _rm._child_manager = AsyncCallbackManager
del _rm


# --------------------------------------------------------------------------- #
# Custom events
# --------------------------------------------------------------------------- #


def _current_manager(config: Optional[dict[str, Any]]) -> BaseCallbackManager:
    from hookchain.runnables.config import ensure_config

    callbacks = ensure_config(config).get("callbacks")
    if not isinstance(callbacks, BaseCallbackManager) or callbacks.parent_run_id is None:
        raise RuntimeError(
            "dispatch_custom_event must be called from inside a run (e.g. a RunnableLambda's "
            "function), or be given that run's config: dispatch_custom_event(name, data, config=config)"
        )
    return callbacks


def dispatch_custom_event(name: str, data: Any, *, config: Optional[dict[str, Any]] = None) -> None:
    """Send ``on_custom_event(name, data)`` to the handlers of the current run
    (as LangChain's ``dispatch_custom_event``); shows up in ``astream_events``.

    Raises ``RuntimeError`` outside a run.
    """
    manager = _current_manager(config)
    if manager.handlers:
        _dispatch(manager.handlers, "on_custom_event", (name, data), {
            "run_id": manager.parent_run_id, "tags": manager.tags, "metadata": manager.metadata})


async def adispatch_custom_event(name: str, data: Any, *, config: Optional[dict[str, Any]] = None) -> None:
    """Async form of ``dispatch_custom_event``: async handlers are awaited."""
    manager = _current_manager(config)
    if manager.handlers:
        await _adispatch(manager.handlers, "on_custom_event", (name, data), {
            "run_id": manager.parent_run_id, "tags": manager.tags, "metadata": manager.metadata})
