"""The Runnable protocol and its compositions (as ``langchain_core.runnables``).

``Runnable`` gives every component ``invoke``/``ainvoke``, ``batch``/``abatch``,
``stream``/``astream``, ``transform``/``atransform`` and ``astream_events``, and
``|`` builds a ``RunnableSequence``. Compositions here: ``RunnableSequence``,
``RunnableLambda``, ``RunnableParallel``, ``RunnablePassthrough`` (with
``assign``), ``RunnableBinding`` (``bind``, ``with_config``).

Differences from LangChain, on purpose:
* ``batch`` uses one process-wide thread pool and the calling thread also works
  (no pool is created per call, and nested batches cannot deadlock);
  ``max_concurrency`` bounds the items in flight.
* ``on_chain_start`` always receives ``serialized={"id": [...], "name": ...}``
  (LangChain 1.x passes ``None`` for sequences), and a streamed sequence
  (``stream``/``astream``) reports its real input at start (LangChain sends
  ``{"input": ""}`` first); ``transform``, whose input is a stream, defers it
  as LangChain.
"""

from __future__ import annotations

import contextvars
import inspect
import itertools
import threading
from functools import partial
from concurrent.futures import ThreadPoolExecutor, as_completed
from queue import Queue
from abc import ABC, abstractmethod
from typing import (
    Any, AsyncIterator, Awaitable, Callable, Generic, Iterator, Mapping, Optional, Sequence, TypeVar, Union,
    get_args,
)

from pydantic import BaseModel, ConfigDict

from hookchain._lazy import lazy_import
from hookchain.callbacks.manager import AsyncCallbackManager, CallbackManager
from hookchain.messages import BaseMessageChunk
from hookchain.messages.base import all_of_class
from hookchain.outputs import ChatGenerationChunk, GenerationChunk
from hookchain.runnables.utils import (
    AddableDict, AnyConfigurableField, ConfigurableField, ConfigurableFieldSpec, _aclose, _aclosing, _close, _closing,
    get_unique_config_specs,
)
from hookchain.runnables.config import (
    POOL_WORKERS,
    RunnableConfig,
    _shared_executor,
    call_in_context,
    ensure_config,
    get_config_list,
    merge_configs,
    patch_config,
    run_in_executor,
    var_child_runnable_config,
)

asyncio = lazy_import("asyncio")  # loaded on first use: sync-only programs never pay for it

__all__ = [
    "Runnable", "RunnableSequence", "RunnableLambda", "RunnableParallel", "RunnableMap",
    "RunnablePassthrough", "RunnableAssign", "RunnablePick", "RunnableBinding", "RunnableEach", "RunnableGenerator",
    "RunnableSerializable", "chain", "coerce_to_runnable",
]

Input = TypeVar("Input", contravariant=True)
Output = TypeVar("Output", covariant=True)
Other = TypeVar("Other")


_SERIALIZED: dict[tuple[type, str], dict[str, Any]] = {}


def _add_up(chunks: Sequence[Any]) -> tuple[Any, bool]:
    """``(total, True)`` for the ``+`` of ``chunks`` (at least one), or
    ``(last chunk, False)`` once two cannot be added. Chunks whose ``+`` takes
    a list (message and generation chunks) add in one pass, strings join;
    others add pairwise."""
    first = chunks[0]
    if len(chunks) == 1:
        return first, True
    for kind in (BaseMessageChunk, ChatGenerationChunk, GenerationChunk):
        if isinstance(first, kind) and all_of_class(chunks, kind):
            return first + list(chunks[1:]), True
    if first.__class__ is str:
        try:
            return "".join(chunks), True
        except TypeError:
            pass
    final = first
    for chunk in chunks[1:]:
        try:
            final = final + chunk
        except TypeError:
            return chunks[-1], False
    return final, True


def _merge_all(chunks: list[Any]) -> Any:
    """The total of streamed ``chunks`` (``None`` for none), as LangChain's
    stream runs: added up with ``+`` (message chunks in one pass,
    ``AddableDict`` key by key); once two cannot be added (plain dicts,
    say), the latest chunk."""
    return _add_up(chunks)[0] if chunks else None


_BATCH = 1024  # chunks a _Total holds before adding them to its running total


class _Total:
    """The ``_merge_all`` of a stream's chunks, added up as they arrive: at most
    ``BATCH`` chunks wait to be added, so a stream of a million chunks keeps
    its running total and a batch, not every chunk (LangChain adds each chunk
    to the total at once; adding in batches costs the same per chunk as
    adding all at the end).

    A per-chunk loop may inline ``add``: ``chunks.append(chunk)``, then
    ``compact()`` once ``len(chunks) > BATCH`` (``chunks`` stays the same list)."""

    __slots__ = ("chunks", "_failed")
    BATCH = _BATCH

    def __init__(self) -> None:
        self.chunks: list[Any] = []
        self._failed = False  # two chunks did not add: the total is the latest chunk

    def add(self, chunk: Any) -> None:
        chunks = self.chunks
        chunks.append(chunk)
        if len(chunks) > _BATCH:
            self.compact()

    def compact(self) -> None:
        """Add up the chunks waiting (they become one)."""
        chunks = self.chunks
        if self._failed:
            del chunks[:-1]
            return
        total, added = _add_up(chunks)
        self._failed = not added
        chunks[:] = (total,)

    def value(self) -> Any:
        """The total so far (``None`` before the first chunk)."""
        if len(self.chunks) > 1:
            self.compact()
        return self.chunks[0] if self.chunks else None


def _tap(rm: Any, aiter: AsyncIterator[Any]) -> AsyncIterator[Any]:
    # astream_events' handler observes the output stream of chain runs.
    for handler in rm.handlers:
        tap = getattr(handler, "tap_output_aiter", None)
        if tap is not None:
            return tap(rm.run_id, aiter)
    return aiter


def _tap_iter(rm: Any, it: Iterator[Any]) -> Iterator[Any]:
    # The same for a sync stream (a nested ``stream()`` inside an async run).
    for handler in rm.handlers:
        tap = getattr(handler, "tap_output_iter", None)
        if tap is not None:
            return tap(rm.run_id, it)
    return it


_NONE = object()


def _recorded(first: Any, rest: Iterator[Any], seen: Optional[_Total]) -> Iterator[Any]:
    """``first`` then ``rest`` (nothing if ``first`` is ``_NONE``), each chunk
    also added to ``seen`` (unless ``None``)."""
    if first is _NONE:
        return
    for chunk in itertools.chain((first,), rest):
        if seen is not None:
            seen.add(chunk)
        yield chunk


async def _arecorded(first: Any, rest: AsyncIterator[Any], seen: Optional[_Total]) -> AsyncIterator[Any]:
    if first is _NONE:
        return
    if seen is not None:
        seen.add(first)
    yield first
    async for chunk in rest:
        if seen is not None:
            seen.add(chunk)
        yield chunk


class _Deferred:
    """The input side of a run whose input is a stream: the input iterator
    (closed after the run's own stream on error), its first chunk (the
    ``inputs`` of ``on_chain_error``, as LangChain) and the chunks seen (their
    ``+``: the ``inputs`` of ``on_chain_end``)."""

    __slots__ = ("input", "first", "seen")

    def __init__(self, input: Any, first: Any, seen: Optional[_Total]) -> None:
        self.input, self.first, self.seen = input, first, seen

    def error_kwargs(self) -> dict[str, Any]:
        return {"inputs": None if self.first is _NONE else self.first}

    def end_kwargs(self) -> dict[str, Any]:
        return {"inputs": self.seen.value() if self.seen is not None else None}


def _run_stream(rm: Any, it: Iterator[Any], deferred: Optional[_Deferred] = None,
                start: Optional[Callable[[], tuple[Any, Iterator[Any]]]] = None) -> Iterator[Any]:
    """Yield ``it``'s chunks as the streamed run ``rm``: ``on_chain_end`` with
    their ``+`` total, or ``on_chain_error`` after closing ``it`` (and a
    deferred input stream), so that their runs end before this one. With
    ``start``, ``(rm, it)`` come from calling it when iteration begins (one
    generator less per chunk than a generator delegating to this one)."""
    if start is not None:
        rm, it = start()
    total = _Total() if rm.handlers else None  # the output only handlers see
    chunks = total.chunks if total is not None else None
    stream = _tap_iter(rm, it) if rm.handlers else it
    try:
        for chunk in stream:
            yield chunk
            if chunks is not None:  # total.add(chunk), inline: once per chunk
                chunks.append(chunk)
                if len(chunks) > _BATCH:
                    total.compact()
    except BaseException as e:
        try:
            _close(stream)
            _close(it)
            if deferred is not None:
                _close(deferred.input)
        finally:
            rm.on_chain_error(e, **(deferred.error_kwargs() if deferred else {}))
        raise
    if total is not None:
        rm.on_chain_end(total.value(), **(deferred.end_kwargs() if deferred else {}))


async def _arun_stream(rm: Any, it: AsyncIterator[Any], deferred: Optional[_Deferred] = None) -> AsyncIterator[Any]:
    """Async ``_run_stream``."""
    total = _Total() if rm.handlers else None
    chunks = total.chunks if total is not None else None
    stream = _tap(rm, it) if rm.handlers else it
    try:
        async for chunk in stream:
            yield chunk
            if chunks is not None:  # as _run_stream
                chunks.append(chunk)
                if len(chunks) > _BATCH:
                    total.compact()
    except BaseException as e:
        try:  # even if cancelled meanwhile
            await _aclose(stream)
            await _aclose(it)
            if deferred is not None:
                await _aclose(deferred.input)
        finally:
            await rm.on_chain_error(e, **(deferred.error_kwargs() if deferred else {}))
        raise
    if total is not None:
        await rm.on_chain_end(total.value(), **(deferred.end_kwargs() if deferred else {}))


def _added_or_none(total: Any, chunk: Any) -> Any:
    """``total + chunk``, ``None`` from the first pair that cannot be added
    on: how LangChain's branch and fallback streams total their output."""
    if total is None:
        return None
    try:
        return total + chunk
    except TypeError:
        return None


def _chain_stream(rm: Any, chunks: Iterator[Any], *inner: Any) -> Iterator[Any]:
    """Yield ``chunks`` as the output of the chain run ``rm`` (a branch, a
    fallback), ended with their total as LangChain's ``RunnableBranch.stream``
    adds it (``_added_or_none``; ``None`` for no chunk), or with the error
    after closing ``chunks`` and the ``inner`` iterators it reads."""
    output: Any = _NONE
    try:
        for chunk in chunks:
            yield chunk
            output = chunk if output is _NONE else _added_or_none(output, chunk)
    except BaseException as e:
        try:
            for it in (chunks, *inner):
                _close(it)
        finally:
            rm.on_chain_error(e)
        raise
    rm.on_chain_end(None if output is _NONE else output)


async def _achain_stream(rm: Any, chunks: AsyncIterator[Any], *inner: Any) -> AsyncIterator[Any]:
    """Async ``_chain_stream``. As LangChain, ``astream_events`` sees the
    output stream of such a run only when it is the root run."""
    out = _tap(rm, chunks) if rm.handlers and rm.parent_run_id is None else chunks
    output: Any = _NONE
    try:
        async for chunk in out:
            yield chunk
            output = chunk if output is _NONE else _added_or_none(output, chunk)
    except BaseException as e:
        try:  # even if cancelled meanwhile
            for it in (out, chunks, *inner):
                await _aclose(it)
        finally:
            await rm.on_chain_error(e)
        raise
    await rm.on_chain_end(None if output is _NONE else output)


def _run_all(calls: Sequence[Callable[[], Any]], max_concurrency: Optional[int], return_exceptions: bool) -> list[Any]:
    """Run ``calls`` concurrently on the shared pool, the calling thread working
    too; at most ``max_concurrency`` at once. Results in order; the first error
    (by position) is raised unless ``return_exceptions``."""
    n = len(calls)
    results: list[Any] = [None] * n
    errors: list[Optional[BaseException]] = [None] * n
    # More helpers than pool threads could only wait in the pool's queue.
    helpers = min(n, max_concurrency or n, POOL_WORKERS + 1) - 1
    position = iter(range(n))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                i = next(position, None)
            if i is None:
                return
            try:
                results[i] = calls[i]()
            except Exception as e:  # noqa: BLE001 - reported below
                errors[i] = e

    futures = [_shared_executor().submit(contextvars.copy_context().run, work) for _ in range(helpers)]
    work()
    for f in futures:
        if not f.cancel():
            f.result()
    # A cancelled helper waits in the pool's queue until a worker drops it; the
    # cells it shares with this frame must not keep the batch's data alive.
    out, faults = results, errors
    del calls, results, errors
    for i, e in enumerate(faults):
        if e is not None:
            if not return_exceptions:
                raise e
            out[i] = e
    return out


def _as_completed(calls: Sequence[Callable[[], Any]], max_concurrency: Optional[int], return_exceptions: bool) -> Iterator[tuple[int, Any]]:
    """``(index, result)`` of ``calls`` as each finishes, at most
    ``max_concurrency`` at once. They run on a thread pool of their own (as
    LangChain's): the shared pool's threads may all be waiting on such
    iterators, and the consuming thread cannot help without holding back
    results that finished meanwhile. The first exception is raised unless
    ``return_exceptions``; leaving early cancels the calls not started."""
    def run(i: int) -> tuple[int, Any, bool]:
        try:
            return i, calls[i](), False
        except Exception as e:  # noqa: BLE001 - handed to the consumer
            return i, e, True

    if len(calls) == 1:
        results: Iterator[tuple[int, Any, bool]] = iter((run(0),))
        pool = None
    else:
        pool = ThreadPoolExecutor(min(len(calls), max_concurrency or POOL_WORKERS), thread_name_prefix="hookchain-as-completed")
        futures = [pool.submit(contextvars.copy_context().run, run, i) for i in range(len(calls))]
        results = (f.result() for f in as_completed(futures))
    try:
        for i, out, failed in results:
            if failed and not return_exceptions:
                raise out
            yield i, out
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


#: What ``Runnable``'s methods build that is defined in modules importing this
#: one (fallbacks, retry, configurable, graph: their classes subclass Runnable):
#: ``hookchain.runnables`` (the package, always imported before this module)
#: fills it in, so none of them is imported back from here (ARCHITECTURE.md).
_compositions: dict[str, Callable[..., Any]] = {}


class Runnable(ABC, Generic[Input, Output]):
    """A unit of work that can be invoked, batched, streamed and composed.

    Subclasses implement ``invoke``; the other methods have defaults built on it
    (``ainvoke`` runs ``invoke`` in a thread, ``stream`` yields the single output).
    Generic in its input and output types, as LangChain's:
    ``class Length(Runnable[str, int])``, ``Runnable[dict, AIMessage]``.
    """

    # -- types ----------------------------------------------------------- #
    def _type_arg(self, index: int, which: str) -> Any:
        for base in type(self).__mro__:  # a pydantic RunnableSerializable[X, Y]
            args = (getattr(base, "__pydantic_generic_metadata__", None) or {}).get("args", ())
            if len(args) == 2:
                return args[index]
        for base in getattr(type(self), "__orig_bases__", ()):
            args = get_args(base)
            if len(args) == 2:
                return args[index]
        raise TypeError(f"{self.get_name()} has no inferable {which}; override the {which} property to give it")

    @property
    def InputType(self) -> Any:  # noqa: N802 - LangChain's name
        """The input type: ``X`` of ``Runnable[X, Y]`` in the class's bases, as
        LangChain. Raises ``TypeError`` if the class does not say."""
        return self._type_arg(0, "InputType")

    @property
    def OutputType(self) -> Any:  # noqa: N802 - LangChain's name
        """The output type: ``Y`` of ``Runnable[X, Y]`` (see ``InputType``)."""
        return self._type_arg(1, "OutputType")

    # -- naming / introspection -------------------------------------------- #
    def get_name(self, suffix: Optional[str] = None, *, name: Optional[str] = None) -> str:
        """The run name: ``name``, else the ``name`` attribute, else the class name.
        With ``suffix`` (as LangChain's): ``"PromptTemplate" + "Input"`` gives
        ``PromptTemplateInput``, a lowercase name ``my_func_input``."""
        name = name or getattr(self, "name", None) or type(self).__name__
        if not suffix:
            return name
        return name + suffix.title() if name[0].isupper() else f"{name}_{suffix.lower()}"

    @property
    def _serialized(self) -> dict[str, Any]:
        """``{"id": [module path..., class], "name": run name}``, built once per
        (class, name) and shared: handlers must treat it as read-only."""
        cls = type(self)
        name = self.get_name()
        key = (cls, name)
        found = _SERIALIZED.get(key)
        if found is None:
            found = _SERIALIZED[key] = {"id": [*cls.__module__.split("."), cls.__name__], "name": name}
        return found

    # -- run-time configuration and graph (runnables.configurable, .graph) -- #
    @property
    def config_specs(self) -> list[ConfigurableFieldSpec]:
        """The keys of ``config["configurable"]`` this runnable reads, with their
        types and defaults (as LangChain's): ``[]`` unless configurable fields
        or alternatives are in it."""
        return []

    def configurable_fields(self, **kwargs: AnyConfigurableField) -> "Runnable[Input, Output]":
        """A runnable whose fields ``kwargs`` names (``temperature=ConfigurableField(id="temp")``)
        are set per call from ``config["configurable"]``, as LangChain's
        (see ``RunnableConfigurableFields``). Fields: a pydantic runnable's
        (chat models), a prompt template's arguments. Raises ``ValueError``
        naming a field the runnable does not have."""
        return _compositions["configurable_fields"](default=self, fields=kwargs)

    def configurable_alternatives(
        self, which: ConfigurableField, *, default_key: str = "default", prefix_keys: bool = False,
        **kwargs: Union["Runnable[Input, Output]", Callable[[], "Runnable[Input, Output]"]],
    ) -> "Runnable[Input, Output]":
        """A runnable that runs this one, or the alternative in ``kwargs`` that
        ``config["configurable"][which.id]`` names, as LangChain's (see
        ``RunnableConfigurableAlternatives``); this one is ``default_key``."""
        return _compositions["configurable_alternatives"](
            which=which, default=self, alternatives=kwargs, default_key=default_key, prefix_keys=prefix_keys,
        )

    def get_graph(self, config: Optional[RunnableConfig] = None) -> Any:
        """A ``hookchain.runnables.graph.Graph`` of this runnable: input node,
        its parts, output node, as LangChain's (``draw_mermaid()``,
        ``draw_ascii()``)."""
        return _compositions["graph"](self, config)

    # -- chain-run plumbing shared by the compositions ---------------------- #
    def _start_chain(self, config: RunnableConfig, input: Any, run_type: Optional[str] = None) -> Any:
        cm = CallbackManager.configure(config.get("callbacks"), None, False, config.get("tags"), None, config.get("metadata"))
        name = config.get("run_name") or self.get_name()
        if run_type:
            return cm.on_chain_start(self._serialized, input, run_id=config.pop("run_id", None), name=name, run_type=run_type)
        return cm.on_chain_start(self._serialized, input, run_id=config.pop("run_id", None), name=name)

    async def _astart_chain(self, config: RunnableConfig, input: Any, run_type: Optional[str] = None) -> Any:
        cm = AsyncCallbackManager.configure(config.get("callbacks"), None, False, config.get("tags"), None, config.get("metadata"))
        extra = {"run_type": run_type} if run_type else {}
        return await cm.on_chain_start(
            self._serialized, input, run_id=config.pop("run_id", None),
            name=config.get("run_name") or self.get_name(), **extra,
        )

    def _call_with_config(
        self, func: Callable[[Any, RunnableConfig, Any], Any], input: Any,
        config: Optional[RunnableConfig], run_type: Optional[str] = None,
    ) -> Any:
        """Run ``func(input, config, run_manager)`` as one chain run: start event,
        end event with its output, or error event then the error unchanged."""
        config = ensure_config(config)
        rm = self._start_chain(config, input, run_type)
        try:
            output = func(input, config, rm)
        except BaseException as e:
            rm.on_chain_error(e)
            raise
        rm.on_chain_end(output)
        return output

    async def _acall_with_config(
        self, func: Callable[[Any, RunnableConfig, Any], Awaitable[Any]], input: Any,
        config: Optional[RunnableConfig], run_type: Optional[str] = None,
    ) -> Any:
        config = ensure_config(config)
        rm = await self._astart_chain(config, input, run_type)
        try:
            output = await func(input, config, rm)
        except BaseException as e:
            await rm.on_chain_error(e)
            raise
        await rm.on_chain_end(output)
        return output

    def _stream_with_config(
        self, func: Callable[[Any, RunnableConfig, Any], Iterator[Any]], input: Any, config: Optional[RunnableConfig],
    ) -> Iterator[Any]:
        """Run ``func(input, config, run_manager)`` (a generator) as one chain run
        whose output is the ``+`` of its chunks. Closing the stream early ends
        the run with ``on_chain_error(GeneratorExit)``."""
        def start() -> tuple[Any, Iterator[Any]]:  # when iteration begins, as a generator's body would
            own = ensure_config(config)
            rm = self._start_chain(own, input)
            return rm, func(input, own, rm)

        return _run_stream(None, None, start=start)  # type: ignore[arg-type]

    async def _astream_with_config(
        self, func: Callable[[Any, RunnableConfig, Any], AsyncIterator[Any]], input: Any, config: Optional[RunnableConfig],
    ) -> AsyncIterator[Any]:
        config = ensure_config(config)
        rm = await self._astart_chain(config, input)
        async with _aclosing(_arun_stream(rm, func(input, config, rm))) as chunks:
            async for chunk in chunks:
                yield chunk

    # A run whose input is itself a stream (``transform``) cannot know its input
    # when it starts: as LangChain's ``_transform_stream_with_config``, it starts
    # once the first input chunk is there, with ``{"input": ""}``
    # (``defers_inputs=False``, LangChain's value), and reports the ``+`` of the
    # input chunks as ``inputs=`` of ``on_chain_end`` (of ``on_chain_error``: the
    # first input chunk, as LangChain).
    #: ``defers_inputs`` of the deferred start (``True`` for ``RunnableGenerator``, as LangChain).
    _defers_inputs = False

    def _deferred_start(self, cm: Any, config: RunnableConfig, run_type: Optional[str]) -> Any:
        extra = {"run_type": run_type} if run_type else {}
        return cm.on_chain_start(self._serialized, {"input": ""}, run_id=config.pop("run_id", None),
                                 name=config.get("run_name") or self.get_name(), defers_inputs=self._defers_inputs, **extra)

    def _transform_stream_with_config(
        self, input: Iterator[Any], func: Callable[[Iterator[Any], RunnableConfig, Any], Iterator[Any]],
        config: Optional[RunnableConfig], run_type: Optional[str] = None,
    ) -> Iterator[Any]:
        """Run ``func(input_chunks, config, run_manager)`` (a generator over the
        input stream ``input``) as one streamed chain run with a deferred input
        (see above). Closing it early ends the run with
        ``on_chain_error(GeneratorExit)``, after closing ``input``."""
        config = ensure_config(config)
        input = iter(input)
        first = next(input, _NONE)  # as LangChain: the run starts once the first input chunk is there
        cm = CallbackManager.configure(config.get("callbacks"), None, False, config.get("tags"), None, config.get("metadata"))
        rm = self._deferred_start(cm, config, run_type)
        seen = _Total() if rm.handlers else None  # the inputs only handlers see
        yield from _run_stream(rm, func(_recorded(first, input, seen), config, rm), _Deferred(input, first, seen))

    async def _atransform_stream_with_config(
        self, input: AsyncIterator[Any], func: Callable[[AsyncIterator[Any], RunnableConfig, Any], AsyncIterator[Any]],
        config: Optional[RunnableConfig], run_type: Optional[str] = None,
    ) -> AsyncIterator[Any]:
        """Async ``_transform_stream_with_config``."""
        config = ensure_config(config)
        input = input.__aiter__()
        try:
            first = await input.__anext__()
        except StopAsyncIteration:
            first = _NONE
        cm = AsyncCallbackManager.configure(config.get("callbacks"), None, False, config.get("tags"), None, config.get("metadata"))
        rm = await self._deferred_start(cm, config, run_type)
        seen = _Total() if rm.handlers else None
        async with _aclosing(_arun_stream(rm, func(_arecorded(first, input, seen), config, rm), _Deferred(input, first, seen))) as chunks:
            async for chunk in chunks:
                yield chunk

    # -- the protocol ------------------------------------------------------ #
    @abstractmethod
    def invoke(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Output:
        """Transform one input into one output."""

    async def ainvoke(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Output:
        """Async ``invoke``; by default ``invoke`` in a worker thread (context carried)."""
        return await run_in_executor(config, self.invoke, input, config, **kwargs)

    def batch(
        self, inputs: Sequence[Input], config: Optional[Union[RunnableConfig, Sequence[RunnableConfig]]] = None,
        *, return_exceptions: bool = False, **kwargs: Any,
    ) -> list[Output]:
        """``invoke`` each input, concurrently; outputs in input order.

        ``config`` is one config for all or a list with one per input.
        ``max_concurrency`` in it bounds the inputs in flight. With
        ``return_exceptions`` an input's exception is returned in its place,
        otherwise the first one (by position) is raised after all have run.
        """
        if not inputs:
            return []
        configs = get_config_list(config, len(inputs))
        calls = [lambda i=i, c=c: self.invoke(i, c, **kwargs) for i, c in zip(inputs, configs)]
        return _run_all(calls, configs[0].get("max_concurrency"), return_exceptions)

    async def abatch(
        self, inputs: Sequence[Input], config: Optional[Union[RunnableConfig, Sequence[RunnableConfig]]] = None,
        *, return_exceptions: bool = False, **kwargs: Any,
    ) -> list[Output]:
        """``ainvoke`` each input as concurrent tasks (at most ``max_concurrency``
        at once); same contract as ``batch``."""
        if not inputs:
            return []
        calls = self._ainvoke_each(inputs, get_config_list(config, len(inputs)), return_exceptions, kwargs)
        return [out for _, out in await asyncio.gather(*calls)]

    def _ainvoke_each(self, inputs: Sequence[Any], configs: list[RunnableConfig], return_exceptions: bool,
                      kwargs: dict[str, Any]) -> list[Awaitable[tuple[int, Any]]]:
        """One ``(index, ainvoke output)`` coroutine per input, at most
        ``max_concurrency`` running at once; with ``return_exceptions`` an
        exception is the output."""
        limit = configs[0].get("max_concurrency")
        semaphore = asyncio.Semaphore(limit) if limit else None

        async def one(i: int, input: Any, cfg: RunnableConfig) -> tuple[int, Any]:
            try:
                if semaphore is None:
                    return i, await self.ainvoke(input, cfg, **kwargs)
                async with semaphore:
                    return i, await self.ainvoke(input, cfg, **kwargs)
            except Exception as e:
                if return_exceptions:
                    return i, e
                raise

        return [one(i, v, c) for i, (v, c) in enumerate(zip(inputs, configs))]

    def batch_as_completed(
        self, inputs: Sequence[Input], config: Optional[Union[RunnableConfig, Sequence[RunnableConfig]]] = None,
        *, return_exceptions: bool = False, **kwargs: Any,
    ) -> Iterator[tuple[int, Any]]:
        """``invoke`` each input concurrently (as ``batch``), yielding
        ``(index, output)`` as each one finishes, as LangChain's
        ``batch_as_completed``. With ``return_exceptions`` an input's exception
        is yielded as its output; otherwise the first one raised ends the
        iteration. The inputs run on a thread pool of their own, as
        LangChain's; closing the iterator early leaves those not yet started
        unrun."""
        if not inputs:
            return
        configs = get_config_list(config, len(inputs))
        calls = [lambda i=i, c=c: self.invoke(i, c, **kwargs) for i, c in zip(inputs, configs)]
        yield from _as_completed(calls, configs[0].get("max_concurrency"), return_exceptions)

    async def abatch_as_completed(
        self, inputs: Sequence[Input], config: Optional[Union[RunnableConfig, Sequence[RunnableConfig]]] = None,
        *, return_exceptions: bool = False, **kwargs: Any,
    ) -> AsyncIterator[tuple[int, Any]]:
        """Async ``batch_as_completed``: ``ainvoke`` each input as a task (at
        most ``max_concurrency`` at once), yielding ``(index, output)`` as each
        finishes. Closing the iterator early cancels the tasks still running."""
        if not inputs:
            return
        calls = self._ainvoke_each(inputs, get_config_list(config, len(inputs)), return_exceptions, kwargs)
        tasks = [asyncio.ensure_future(call) for call in calls]
        try:
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def stream(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Iterator[Output]:
        """Yield the output in chunks; by default one chunk, the ``invoke`` output."""
        yield self.invoke(input, config, **kwargs)

    async def astream(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> AsyncIterator[Output]:
        """Async ``stream``; by default one chunk, the ``ainvoke`` output."""
        yield await self.ainvoke(input, config, **kwargs)

    def transform(self, input: Iterator[Input], config: Optional[RunnableConfig] = None, **kwargs: Any) -> Iterator[Output]:
        """Stream the output for a streamed input: by default the input chunks are
        added up first, then ``stream`` runs on the total."""
        chunks = list(input)
        if chunks:
            yield from self.stream(_merge_all(chunks), config, **kwargs)

    async def atransform(self, input: AsyncIterator[Input], config: Optional[RunnableConfig] = None, **kwargs: Any) -> AsyncIterator[Output]:
        """Async ``transform``."""
        chunks = [chunk async for chunk in input]
        if chunks:
            async with _aclosing(self.astream(_merge_all(chunks), config, **kwargs)) as outputs:
                async for out in outputs:
                    yield out

    def astream_events(
        self, input: Input, config: Optional[RunnableConfig] = None, *, version: str = "v2", **kwargs: Any,
    ) -> AsyncIterator[dict[str, Any]]:
        """Stream the run's events as dicts with LangChain's v2 schema: ``event``
        (``on_chain_start``, ``on_chat_model_stream``...), ``name``, ``run_id``,
        ``parent_ids``, ``tags``, ``metadata``, ``data``. Filters:
        ``include_names``/``include_types``/``include_tags`` and their
        ``exclude_`` forms. ``version="v1"`` is accepted and answered in the v2
        schema. Raises ``ValueError`` for other versions."""
        from hookchain.runnables.events import astream_events

        return astream_events(self, input, config, version=version, **kwargs)

    # -- composition ------------------------------------------------------- #
    def __or__(self, other: Any) -> "RunnableSequence":
        return RunnableSequence(self, coerce_to_runnable(other))

    def __ror__(self, other: Any) -> "RunnableSequence":
        return RunnableSequence(coerce_to_runnable(other), self)

    def pipe(self, *others: Any, name: Optional[str] = None) -> "RunnableSequence":
        """``self | others[0] | ...`` as one sequence."""
        return RunnableSequence(self, *others, name=name)

    def bind(self, **kwargs: Any) -> "RunnableBinding":
        """A runnable that calls this one with ``kwargs`` added (e.g. ``stop=[...]``)."""
        return RunnableBinding(bound=self, kwargs=kwargs)

    def with_config(self, config: Optional[RunnableConfig] = None, **kwargs: Any) -> "RunnableBinding":
        """A runnable that calls this one with ``config`` merged under each call's config."""
        return RunnableBinding(bound=self, config={**(config or {}), **kwargs})  # type: ignore[typeddict-item]

    def assign(self, **kwargs: Any) -> "RunnableSequence":
        """``self | RunnablePassthrough.assign(**kwargs)``, as LangChain's
        ``Runnable.assign``: this runnable's dict output with keys added, each
        computed from that output by a runnable (or function, or dict of them).
        The output must be a dict (``TypeError`` otherwise)."""
        return self | RunnableAssign(RunnableParallel(kwargs))

    def pick(self, keys: Union[str, list[str]]) -> "RunnableSequence":
        """``self | RunnablePick(keys)``, as LangChain's ``Runnable.pick``: one
        key's value (a str) or a dict of the keys present (a list) of this
        runnable's dict output."""
        return self | RunnablePick(keys)

    def map(self) -> "RunnableEach":
        """A ``RunnableEach``: this runnable over each item of a list input
        (one ``batch``), as LangChain's ``Runnable.map``."""
        return RunnableEach(bound=self)

    def with_listeners(
        self, *, on_start: Optional[Callable[..., None]] = None, on_end: Optional[Callable[..., None]] = None,
        on_error: Optional[Callable[..., None]] = None,
    ) -> "RunnableBinding":
        """This runnable with listeners of its run, as LangChain's
        ``with_listeners``: each is called with the run's
        ``hookchain.tracers.Run`` (``id``, ``name``, ``inputs``, ``outputs``,
        ``error``, ``start_time``/``end_time``...), and with the call's config
        too if it takes a ``config`` argument; ``on_start`` when the run starts,
        ``on_end`` when it ends, ``on_error`` when it fails. A listener that
        raises is logged, as any failing handler; the run goes on."""
        from hookchain.tracers.root_listeners import RootListenersTracer

        return RunnableBinding(bound=self, config_factories=[lambda config: {"callbacks": [RootListenersTracer(
            config=config, on_start=on_start, on_end=on_end, on_error=on_error)]}])

    def with_alisteners(
        self, *, on_start: Optional[Callable[..., Awaitable[None]]] = None,
        on_end: Optional[Callable[..., Awaitable[None]]] = None,
        on_error: Optional[Callable[..., Awaitable[None]]] = None,
    ) -> "RunnableBinding":
        """``with_listeners`` for ``async def`` listeners (awaited), as
        LangChain's ``with_alisteners``."""
        from hookchain.tracers.root_listeners import AsyncRootListenersTracer

        return RunnableBinding(bound=self, config_factories=[lambda config: {"callbacks": [AsyncRootListenersTracer(
            config=config, on_start=on_start, on_end=on_end, on_error=on_error)]}])

    def with_fallbacks(
        self, fallbacks: Sequence[Any], *, exceptions_to_handle: tuple[type[BaseException], ...] = (Exception,),
        exception_key: Optional[str] = None,
    ) -> "Runnable":
        """A ``RunnableWithFallbacks``: this runnable, then each of
        ``fallbacks`` in turn while the previous one raises one of
        ``exceptions_to_handle``; with ``exception_key`` (a str), dict inputs
        of the fallbacks get the previous exception under that key. As
        LangChain's ``with_fallbacks``; see ``hookchain.runnables.fallbacks``."""
        return _compositions["fallbacks"](self, fallbacks, exceptions_to_handle=exceptions_to_handle, exception_key=exception_key)

    def with_retry(
        self, *, retry_if_exception_type: tuple[type[BaseException], ...] = (Exception,),
        wait_exponential_jitter: bool = True, stop_after_attempt: int = 3,
        exponential_jitter_params: Optional[dict[str, float]] = None,
    ) -> "Runnable":
        """A ``RunnableRetry``: this runnable retried (``invoke``, ``batch`` and
        their async forms) while it raises one of ``retry_if_exception_type``,
        at most ``stop_after_attempt`` attempts in all, waiting between them
        with tenacity's ``wait_exponential_jitter`` (``exponential_jitter_params``:
        ``initial``/``max``/``exp_base``/``jitter`` in seconds) unless
        ``wait_exponential_jitter=False``. As LangChain's ``with_retry``; attempts
        after the first run with tag ``retry:attempt:N``."""
        return _compositions["retry"](
            bound=self, retry_exception_types=retry_if_exception_type, wait_exponential_jitter=wait_exponential_jitter,
            max_attempt_number=stop_after_attempt, exponential_jitter_params=exponential_jitter_params,
        )


def coerce_to_runnable(thing: Any) -> Runnable:
    """A runnable from a runnable, a callable (``RunnableLambda``) or a dict of
    them (``RunnableParallel``). Raises ``TypeError`` for anything else."""
    if isinstance(thing, Runnable):
        return thing
    if callable(thing):
        return RunnableLambda(thing)
    if isinstance(thing, Mapping):
        return RunnableParallel(thing)
    raise TypeError(
        f"cannot compose a {type(thing).__name__} into a chain; use a Runnable, a function or a dict of them"
    )


_STEP_TAGS = tuple(f"seq:step:{i + 1}" for i in range(32))  # a sequence's child run tags, built once


class RunnableSequence(Runnable):
    """Steps run one after the other, each output the next input (``a | b | c``).

    A chain run wraps the steps; step ``i`` runs with tag ``seq:step:i``
    (1-based). Streaming passes through every step's ``transform``, so output
    streams as soon as the last step streams.
    """

    def __init__(self, *steps: Any, name: Optional[str] = None) -> None:
        flat: list[Runnable] = []
        for step in steps:
            step = coerce_to_runnable(step)
            flat.extend(step.steps if isinstance(step, RunnableSequence) and step.name is None else [step])
        if len(flat) < 2:
            raise ValueError(f"a RunnableSequence needs at least 2 steps, got {len(flat)}")
        self.steps: list[Runnable] = flat
        self.name = name

    @property
    def InputType(self) -> Any:  # noqa: N802
        return self.steps[0].InputType

    @property
    def OutputType(self) -> Any:  # noqa: N802
        return self.steps[-1].OutputType

    @property
    def first(self) -> Runnable:
        return self.steps[0]

    @property
    def last(self) -> Runnable:
        return self.steps[-1]

    @property
    def middle(self) -> list[Runnable]:
        return self.steps[1:-1]

    def __repr__(self) -> str:
        return "\n| ".join(repr(s) for s in self.steps)

    @property
    def config_specs(self) -> list[ConfigurableFieldSpec]:
        return get_unique_config_specs(spec for step in self.steps for spec in step.config_specs)

    def _step_config(self, config: RunnableConfig, rm: Any, i: int) -> RunnableConfig:
        return patch_config(config, callbacks=rm.get_child(_STEP_TAGS[i] if i < len(_STEP_TAGS) else f"seq:step:{i + 1}"))

    def invoke(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Output:
        def run(value: Any, config: RunnableConfig, rm: Any) -> Any:
            for i, step in enumerate(self.steps):
                value = step.invoke(value, self._step_config(config, rm, i), **(kwargs if i == 0 else {}))
            return value

        return self._call_with_config(run, input, config)

    async def ainvoke(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Output:
        async def run(value: Any, config: RunnableConfig, rm: Any) -> Any:
            for i, step in enumerate(self.steps):
                value = await step.ainvoke(value, self._step_config(config, rm, i), **(kwargs if i == 0 else {}))
            return value

        return await self._acall_with_config(run, input, config)

    # batch: one run per input, then each step's own batch over the inputs
    # still going (so a model's batch is used), as LangChain.
    @staticmethod
    def _step_done(values: list[Any], alive: list[int], outputs: list[Any], return_exceptions: bool) -> tuple[list[int], list[int]]:
        """Record a step's ``outputs`` of the inputs ``alive``: (still going, failed)."""
        going, failed = [], []
        for i, out in zip(alive, outputs):
            values[i] = out
            (failed if return_exceptions and isinstance(out, Exception) else going).append(i)
        return going, failed

    def batch(self, inputs: Sequence[Input], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any) -> list[Output]:
        if not inputs:
            return []
        configs = get_config_list(config, len(inputs))
        rms = [self._start_chain(c, i) for c, i in zip(configs, inputs)]
        values, alive = list(inputs), list(range(len(inputs)))
        try:
            for s, step in enumerate(self.steps):
                outs = step.batch([values[i] for i in alive], [self._step_config(configs[i], rms[i], s) for i in alive],
                                  return_exceptions=return_exceptions, **(kwargs if s == 0 else {}))
                alive, failed = self._step_done(values, alive, outs, return_exceptions)
                for i in failed:
                    rms[i].on_chain_error(values[i])
        except BaseException as e:
            for i in alive:
                rms[i].on_chain_error(e)
            raise
        for i in alive:
            rms[i].on_chain_end(values[i])
        return values

    async def abatch(self, inputs: Sequence[Input], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any) -> list[Output]:
        if not inputs:
            return []
        configs = get_config_list(config, len(inputs))
        rms = [await self._astart_chain(c, i) for c, i in zip(configs, inputs)]
        values, alive = list(inputs), list(range(len(inputs)))
        try:
            for s, step in enumerate(self.steps):
                outs = await step.abatch([values[i] for i in alive], [self._step_config(configs[i], rms[i], s) for i in alive],
                                         return_exceptions=return_exceptions, **(kwargs if s == 0 else {}))
                alive, failed = self._step_done(values, alive, outs, return_exceptions)
                for i in failed:
                    await rms[i].on_chain_error(values[i])
        except BaseException as e:
            for i in alive:
                await rms[i].on_chain_error(e)
            raise
        for i in alive:
            await rms[i].on_chain_end(values[i])
        return values

    def stream(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Iterator[Output]:
        return self._stream_with_config(lambda value, c, rm: self._pipe(iter((value,)), c, rm, kwargs), input, config)

    def _pipe(self, input: Iterator[Any], config: RunnableConfig, rm: Any, kwargs: dict[str, Any]) -> Iterator[Any]:
        """The input stream through every step's ``transform``."""
        steps: list[Iterator[Any]] = [input]
        for i, step in enumerate(self.steps):
            steps.append(step.transform(steps[-1], self._step_config(config, rm, i), **(kwargs if i == 0 else {})))
        try:
            yield from steps[-1]
        finally:  # every step's run ends before the sequence's, the last step's first
            for it in reversed(steps):
                _close(it)

    async def _apipe(self, input: AsyncIterator[Any], config: RunnableConfig, rm: Any, kwargs: dict[str, Any]) -> AsyncIterator[Any]:
        steps: list[AsyncIterator[Any]] = [input]
        for i, step in enumerate(self.steps):
            steps.append(step.atransform(steps[-1], self._step_config(config, rm, i), **(kwargs if i == 0 else {})))
        try:
            async for chunk in steps[-1]:
                yield chunk
        finally:  # every step's run ends before the sequence's, the last step's first
            for it in reversed(steps):
                await _aclose(it)

    def transform(self, input: Iterator[Input], config: Optional[RunnableConfig] = None, **kwargs: Any) -> Iterator[Output]:
        """Pipe a streamed input through every step's ``transform`` as one run
        with a deferred input, as LangChain: chunks flow through as they arrive."""
        return self._transform_stream_with_config(input, lambda it, c, rm: self._pipe(it, c, rm, kwargs), config)

    def atransform(self, input: AsyncIterator[Input], config: Optional[RunnableConfig] = None, **kwargs: Any) -> AsyncIterator[Output]:
        """Async ``transform``."""
        return self._atransform_stream_with_config(input, lambda it, c, rm: self._apipe(it, c, rm, kwargs), config)

    def astream(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> AsyncIterator[Output]:
        async def source(value: Any) -> AsyncIterator[Any]:
            yield value

        return self._astream_with_config(lambda value, c, rm: self._apipe(source(value), c, rm, kwargs), input, config)


def _iter_in_context(child: RunnableConfig, func: Callable[..., Iterator[Any]], *args: Any, **kwargs: Any) -> Iterator[Any]:
    """The chunks of the generator ``func(*args, **kwargs)``, which runs (each
    step of it) with ``child`` as the context's current child config, so that
    runnables it invokes join the run tree."""
    ctx = contextvars.copy_context()
    ctx.run(var_child_runnable_config.set, child)
    gen = ctx.run(func, *args, **kwargs)
    try:
        while True:
            try:
                yield ctx.run(next, gen)
            except StopIteration:
                return
    finally:
        gen.close()


async def _aiter_in_context(child: RunnableConfig, func: Callable[..., AsyncIterator[Any]], *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
    """Async ``_iter_in_context`` for an async generator function."""
    previous = var_child_runnable_config.set(child).old_value
    try:
        async with _aclosing(func(*args, **kwargs)) as chunks:
            async for chunk in chunks:
                yield chunk
    finally:
        # Not reset(token): closing from the garbage collector's task runs
        # this in another context.
        var_child_runnable_config.set(None if previous is contextvars.Token.MISSING else previous)


def _accepts_config(func: Callable[..., Any]) -> bool:
    try:
        return "config" in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


class RunnableLambda(Runnable):
    """A function as a runnable: ``func(input)`` or ``func(input, config)``.

    ``func`` may be sync or ``async def`` (or both: ``RunnableLambda(f, afunc=g)``);
    a generator function streams its yields. Code inside ``func`` that invokes
    other runnables joins this run's tree automatically. If ``func`` returns a
    runnable, it is invoked with the same input (``recursion_limit`` bounds that).
    """

    def __init__(self, func: Callable[..., Any], afunc: Optional[Callable[..., Any]] = None, name: Optional[str] = None) -> None:
        if not callable(func):
            raise TypeError(f"RunnableLambda needs a callable, got {type(func).__name__}")
        if inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func):
            self.func, self.afunc = None, func
        else:
            self.func, self.afunc = func, afunc
        fn = self.func or self.afunc
        self._pass_config = _accepts_config(fn)
        self._is_gen = inspect.isgeneratorfunction(self.func) if self.func else False
        self._is_agen = inspect.isasyncgenfunction(self.afunc) if self.afunc else False
        fn_name = getattr(fn, "__name__", None)
        self.name = name or (fn_name if fn_name and fn_name != "<lambda>" else "RunnableLambda")

    def __repr__(self) -> str:
        return f"RunnableLambda({self.name})"

    def _hint(self, which: str) -> Any:
        """``func``'s annotation (as written, not resolved: as LangChain) of its
        first parameter (``which="input"``) or of its return (``"return"``);
        ``Any`` when absent."""
        func = self.func or self.afunc
        annotations = getattr(func, "__annotations__", None) or {}
        if which == "input":
            try:
                which = next(iter(inspect.signature(func).parameters))
            except (StopIteration, TypeError, ValueError):
                return Any
        return annotations.get(which, Any)

    @property
    def InputType(self) -> Any:  # noqa: N802
        return self._hint("input")

    @property
    def OutputType(self) -> Any:  # noqa: N802
        return self._hint("return")

    def _args(self, input: Any, config: RunnableConfig) -> tuple:
        return (input, config) if self._pass_config else (input,)

    def _child(self, config: RunnableConfig, rm: Any) -> RunnableConfig:
        return patch_config(config, callbacks=rm.get_child())

    def _followed(self, output: Any, config: RunnableConfig) -> Optional[RunnableConfig]:
        """The config to run ``output`` with if it is a runnable (``None`` if not)."""
        if not isinstance(output, Runnable):
            return None
        limit = config.get("recursion_limit", 25)
        if limit <= 0:
            raise RecursionError(f"recursion_limit reached in {self.name}; raise it in the config")
        return patch_config(config, recursion_limit=limit - 1)

    def _call(self, value: Any, child: RunnableConfig, kwargs: dict[str, Any]) -> Any:
        """``func``'s output, run in the run's context (a generator's yields added up)."""
        if self._is_gen:
            return call_in_context(child, lambda: _merge_all(list(self.func(*self._args(value, child), **kwargs))))
        return call_in_context(child, self.func, *self._args(value, child), **kwargs)

    def _run(self, value: Any, config: RunnableConfig, rm: Any, **kwargs: Any) -> Any:
        child = self._child(config, rm)
        out = self._call(value, child, kwargs)
        follow = self._followed(out, child)
        return out if follow is None else out.invoke(value, follow)

    async def _arun(self, value: Any, config: RunnableConfig, rm: Any, **kwargs: Any) -> Any:
        child = self._child(config, rm)
        if self.afunc is None:
            # The function in a thread (as LangChain): the run's handlers are
            # called as in any async run, in their own context, so a context
            # variable they set does not reach ``func``.
            out = await run_in_executor(None, self._call, value, child, kwargs)
        else:
            token = var_child_runnable_config.set(child)
            try:
                if self._is_agen:
                    out = _merge_all([chunk async for chunk in self.afunc(*self._args(value, child), **kwargs)])
                else:
                    out = await self.afunc(*self._args(value, child), **kwargs)
            finally:
                var_child_runnable_config.reset(token)
        follow = self._followed(out, child)  # a returned runnable runs its async path (as LangChain)
        return out if follow is None else await out.ainvoke(value, follow)

    def invoke(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Output:
        """``func(input)`` (or ``func(input, config)``) as one chain run; ``kwargs``
        (e.g. from ``bind``) are passed on to ``func``, as LangChain."""
        if self.func is None:
            raise TypeError(f"{self.name} has only an async function; use ainvoke/astream")
        return self._call_with_config(partial(self._run, **kwargs) if kwargs else self._run, input, config)

    async def ainvoke(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Output:
        return await self._acall_with_config(partial(self._arun, **kwargs) if kwargs else self._arun, input, config)

    def _streamer(self, kwargs: dict[str, Any]) -> Callable[[Any, RunnableConfig, Any], Iterator[Any]]:
        """``(value, config, run_manager) -> chunks``: what ``stream`` runs."""
        if not self._is_gen:
            # One chunk, but as a streamed run (as LangChain), so that
            # astream_events reports it with on_chain_stream.
            def one(value: Any, config: RunnableConfig, rm: Any) -> Iterator[Any]:
                if self.func is None:
                    raise TypeError(f"{self.name} has only an async function; use ainvoke/astream")
                yield self._run(value, config, rm, **kwargs)

            return one

        def run(value: Any, config: RunnableConfig, rm: Any) -> Iterator[Any]:
            child = self._child(config, rm)
            return _iter_in_context(child, self.func, *self._args(value, child), **kwargs)

        return run

    def stream(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Iterator[Output]:
        return self._stream_with_config(self._streamer(kwargs), input, config)

    def transform(self, input: Iterator[Input], config: Optional[RunnableConfig] = None, **kwargs: Any) -> Iterator[Output]:
        """As LangChain: one run with a deferred input that adds up the input
        chunks, then streams ``func``'s output for the total."""
        streamer = self._streamer(kwargs)

        def run(chunks: Iterator[Any], config: RunnableConfig, rm: Any) -> Iterator[Any]:
            values = list(chunks)
            if values:
                yield from streamer(_merge_all(values), config, rm)

        return self._transform_stream_with_config(input, run, config)

    def _astreamer(self, kwargs: dict[str, Any]) -> Callable[[Any, RunnableConfig, Any], AsyncIterator[Any]]:
        """``(value, config, run_manager) -> chunks``: what ``astream`` runs."""
        if not self._is_agen:
            # One chunk, but as a streamed run (as LangChain), so that
            # astream_events reports it with on_chain_stream.
            async def one(value: Any, config: RunnableConfig, rm: Any) -> AsyncIterator[Any]:
                yield await self._arun(value, config, rm, **kwargs)

            return one

        def run(value: Any, config: RunnableConfig, rm: Any) -> AsyncIterator[Any]:
            child = self._child(config, rm)
            return _aiter_in_context(child, self.afunc, *self._args(value, child), **kwargs)

        return run

    def astream(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> AsyncIterator[Output]:
        return self._astream_with_config(self._astreamer(kwargs), input, config)

    def atransform(self, input: AsyncIterator[Input], config: Optional[RunnableConfig] = None, **kwargs: Any) -> AsyncIterator[Output]:
        """Async ``transform``."""
        streamer = self._astreamer(kwargs)

        async def run(chunks: AsyncIterator[Any], config: RunnableConfig, rm: Any) -> AsyncIterator[Any]:
            values = [chunk async for chunk in chunks]
            if values:
                async with _aclosing(streamer(_merge_all(values), config, rm)) as outputs:
                    async for chunk in outputs:
                        yield chunk

        return self._atransform_stream_with_config(input, run, config)


class RunnableParallel(Runnable):
    """Runs several runnables on the same input; output is a dict of their outputs.

    Built from a dict inside a sequence (``prompt | {"a": m1, "b": m2}``) or
    directly. Branch ``key`` runs with tag ``map:key:KEY``; branches run
    concurrently (threads for ``invoke``, tasks for ``ainvoke``).
    """

    def __init__(self, steps: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> None:
        merged = {**(steps or {}), **kwargs}
        if not merged:
            raise ValueError("RunnableParallel needs at least one branch")
        self.steps: dict[str, Runnable] = {k: coerce_to_runnable(v) for k, v in merged.items()}
        self.name = None

    def get_name(self, suffix: Optional[str] = None, *, name: Optional[str] = None) -> str:
        return super().get_name(suffix, name=name or self.name or f"RunnableParallel<{','.join(self.steps)}>")

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{k}: {v!r}" for k, v in self.steps.items()) + "}"

    @property
    def config_specs(self) -> list[ConfigurableFieldSpec]:
        return get_unique_config_specs(spec for step in self.steps.values() for spec in step.config_specs)

    @property
    def InputType(self) -> Any:  # noqa: N802
        return next(iter(self.steps.values())).InputType

    @property
    def OutputType(self) -> Any:  # noqa: N802
        return dict[str, Any]

    def _branch_configs(self, config: RunnableConfig, rm: Any) -> list[tuple[str, Runnable, RunnableConfig]]:
        return [(k, step, patch_config(config, callbacks=rm.get_child(f"map:key:{k}"))) for k, step in self.steps.items()]

    def invoke(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> dict[str, Any]:
        def run(value: Any, config: RunnableConfig, rm: Any) -> dict[str, Any]:
            branches = self._branch_configs(config, rm)
            calls = [lambda s=s, c=c: s.invoke(value, c) for _, s, c in branches]
            outputs = _run_all(calls, config.get("max_concurrency"), False)
            return {k: out for (k, _, _), out in zip(branches, outputs)}

        return self._call_with_config(run, input, config)

    async def ainvoke(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> dict[str, Any]:
        async def run(value: Any, config: RunnableConfig, rm: Any) -> dict[str, Any]:
            branches = self._branch_configs(config, rm)
            outputs = await asyncio.gather(*(s.ainvoke(value, c) for _, s, c in branches))
            return {k: out for (k, _, _), out in zip(branches, outputs)}

        return await self._acall_with_config(run, input, config)

    def stream(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Yield ``{key: chunk}`` as each branch streams; branches run
        concurrently on the shared pool. Closing early stops every branch."""

        def run(value: Any, config: RunnableConfig, rm: Any) -> Iterator[dict[str, Any]]:
            branches = self._branch_configs(config, rm)
            if len(branches) == 1:
                key, step, cfg = branches[0]
                with _closing(step.stream(value, cfg)) as chunks:
                    for chunk in chunks:
                        yield AddableDict({key: chunk})
                return
            queue: "Queue[Any]" = Queue()
            stop = threading.Event()
            done = object()

            def pump(key: str, step: Runnable, cfg: RunnableConfig) -> None:
                it = step.stream(value, cfg)
                try:
                    for chunk in it:
                        if stop.is_set():
                            break
                        queue.put((key, chunk, None))
                except BaseException as e:  # noqa: BLE001 - handed to the consumer
                    queue.put((key, None, e))
                finally:
                    _close(it)
                    queue.put(done)

            pool = _shared_executor()
            futures = [pool.submit(contextvars.copy_context().run, pump, *branch) for branch in branches]
            try:
                remaining = len(futures)
                while remaining:
                    item = queue.get()
                    if item is done:
                        remaining -= 1
                        continue
                    key, chunk, error = item
                    if error is not None:
                        raise error
                    yield AddableDict({key: chunk})
            finally:
                stop.set()
                for f in futures:
                    f.cancel()

        return self._stream_with_config(run, input, config)

    def astream(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        """Async ``stream``: one task per branch, chunks yielded as they arrive."""

        async def run(value: Any, config: RunnableConfig, rm: Any) -> AsyncIterator[dict[str, Any]]:
            queue: asyncio.Queue = asyncio.Queue()
            done = object()

            async def pump(key: str, step: Runnable, cfg: RunnableConfig) -> None:
                try:
                    async with _aclosing(step.astream(value, cfg)) as chunks:
                        async for chunk in chunks:
                            await queue.put((key, chunk, None))
                except Exception as e:  # noqa: BLE001 - handed to the consumer
                    await queue.put((key, None, e))
                finally:
                    await queue.put(done)

            tasks = [asyncio.ensure_future(pump(*branch)) for branch in self._branch_configs(config, rm)]
            try:
                remaining = len(tasks)
                while remaining:
                    item = await queue.get()
                    if item is done:
                        remaining -= 1
                        continue
                    key, chunk, error = item
                    if error is not None:
                        raise error
                    yield AddableDict({key: chunk})
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

        return self._astream_with_config(run, input, config)


RunnableMap = RunnableParallel


def _identity(value: Any, config: RunnableConfig, rm: Any) -> Any:
    return value


async def _aidentity(value: Any, config: RunnableConfig, rm: Any) -> Any:
    return value


def _pass_chunks(chunks: Iterator[Any], config: RunnableConfig, rm: Any) -> Iterator[Any]:
    return chunks


def _apass_chunks(chunks: AsyncIterator[Any], config: RunnableConfig, rm: Any) -> AsyncIterator[Any]:
    return chunks


class RunnablePassthrough(Runnable):
    """Returns its input unchanged; ``RunnablePassthrough.assign(k=runnable)``
    adds keys computed from the input dict.

    ``func`` (sync) / ``afunc`` (``async def``) are called with the input (and
    the config, if they take a ``config`` argument) for a side effect, before
    the run; their result is ignored, as LangChain's.
    """

    def __init__(self, func: Optional[Callable[..., Any]] = None, afunc: Optional[Callable[..., Any]] = None,
                 *, name: Optional[str] = None) -> None:
        if func is not None and inspect.iscoroutinefunction(func):
            func, afunc = None, func
        for f in (func, afunc):
            if f is not None and not callable(f):
                raise TypeError(f"RunnablePassthrough needs a callable, got {type(f).__name__}")
        self.func, self.afunc, self.name = func, afunc, name

    @property
    def InputType(self) -> Any:  # noqa: N802
        return Any

    OutputType = InputType

    @staticmethod
    def _side(f: Callable[..., Any], input: Any, config: Optional[RunnableConfig], kwargs: dict[str, Any]) -> Any:
        return f(input, ensure_config(config), **kwargs) if _accepts_config(f) else f(input, **kwargs)

    def invoke(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Output:
        if self.func is not None:
            self._side(self.func, input, config, kwargs)
        return self._call_with_config(_identity, input, config)

    async def ainvoke(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Output:
        if self.afunc is not None:
            await self._side(self.afunc, input, config, kwargs)
        elif self.func is not None:
            self._side(self.func, input, config, kwargs)
        return await self._acall_with_config(_aidentity, input, config)

    def transform(self, input: Iterator[Input], config: Optional[RunnableConfig] = None, **kwargs: Any) -> Iterator[Output]:
        """Pass the chunks on as they arrive, as one run with a deferred input
        (as LangChain); ``func`` is then called with their ``+`` total."""
        chunks: list[Any] = []
        for chunk in self._transform_stream_with_config(input, _pass_chunks, config):
            yield chunk
            if self.func is not None:
                chunks.append(chunk)
        if chunks:
            self._side(self.func, _merge_all(chunks), config, kwargs)

    async def atransform(self, input: AsyncIterator[Input], config: Optional[RunnableConfig] = None, **kwargs: Any) -> AsyncIterator[Output]:
        """Async ``transform``: ``afunc`` (else ``func``) called with the total."""
        side = self.afunc or self.func
        chunks: list[Any] = []
        async with _aclosing(self._atransform_stream_with_config(input, _apass_chunks, config)) as stream:
            async for chunk in stream:
                yield chunk
                if side is not None:
                    chunks.append(chunk)
        if chunks:
            result = self._side(side, _merge_all(chunks), config, kwargs)
            if self.afunc is not None:
                await result

    @classmethod
    def assign(cls, **kwargs: Any) -> "RunnableAssign":
        """A runnable returning ``{**input, key: runnable.invoke(input) ...}``."""
        return RunnableAssign(RunnableParallel(kwargs))


class RunnableAssign(Runnable):
    """Adds the outputs of a ``RunnableParallel`` to its dict input."""

    def __init__(self, mapper: RunnableParallel) -> None:
        self.mapper = mapper
        self.name = None

    def get_name(self, suffix: Optional[str] = None, *, name: Optional[str] = None) -> str:
        return super().get_name(suffix, name=name or self.name or f"RunnableAssign<{','.join(self.mapper.steps)}>")

    @property
    def config_specs(self) -> list[ConfigurableFieldSpec]:
        return self.mapper.config_specs

    def _check(self, value: Any) -> None:
        if not isinstance(value, dict):
            raise TypeError(f"RunnablePassthrough.assign needs a dict input, got {type(value).__name__}")

    def invoke(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> dict[str, Any]:
        def run(value: Any, config: RunnableConfig, rm: Any) -> dict[str, Any]:
            self._check(value)
            return {**value, **self.mapper.invoke(value, patch_config(config, callbacks=rm.get_child()))}

        return self._call_with_config(run, input, config)

    async def ainvoke(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> dict[str, Any]:
        async def run(value: Any, config: RunnableConfig, rm: Any) -> dict[str, Any]:
            self._check(value)
            return {**value, **await self.mapper.ainvoke(value, patch_config(config, callbacks=rm.get_child()))}

        return await self._acall_with_config(run, input, config)

    # Streaming as LangChain's: the input's own keys stream through as they
    # arrive (those the mapper sets left out), then the mapper's output chunks.
    def _assigned(self, chunks: Iterator[Any], config: RunnableConfig, rm: Any) -> Iterator[Any]:
        seen = []
        for chunk in chunks:
            self._check(chunk)
            seen.append(chunk)
            rest = AddableDict({k: v for k, v in chunk.items() if k not in self.mapper.steps})
            if rest:
                yield rest
        if seen:
            with _closing(self.mapper.transform(iter(seen), patch_config(config, callbacks=rm.get_child()))) as mapped:
                yield from mapped

    async def _aassigned(self, chunks: AsyncIterator[Any], config: RunnableConfig, rm: Any) -> AsyncIterator[Any]:
        seen = []
        async for chunk in chunks:
            self._check(chunk)
            seen.append(chunk)
            rest = AddableDict({k: v for k, v in chunk.items() if k not in self.mapper.steps})
            if rest:
                yield rest
        if seen:
            async def again() -> AsyncIterator[Any]:
                for chunk in seen:
                    yield chunk

            async with _aclosing(self.mapper.atransform(again(), patch_config(config, callbacks=rm.get_child()))) as mapped:
                async for chunk in mapped:
                    yield chunk

    def stream(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Stream the input's keys, then the assigned keys as they stream."""
        return self._stream_with_config(lambda value, c, rm: self._assigned(iter((value,)), c, rm), input, config)

    def astream(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        """Async ``stream``."""
        async def source(value: Any) -> AsyncIterator[Any]:
            yield value

        return self._astream_with_config(lambda value, c, rm: self._aassigned(source(value), c, rm), input, config)

    def transform(self, input: Iterator[Input], config: Optional[RunnableConfig] = None, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """``stream`` for a streamed input (a run with a deferred input, as LangChain)."""
        return self._transform_stream_with_config(input, self._assigned, config)

    def atransform(self, input: AsyncIterator[Input], config: Optional[RunnableConfig] = None, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        """Async ``transform``."""
        return self._atransform_stream_with_config(input, self._aassigned, config)


class RunnablePick(Runnable):
    """Picks keys of its dict input, as LangChain's ``RunnablePick``:
    ``keys`` a str gives that key's value (``None`` if absent); a list gives
    an ``AddableDict`` of the listed keys present (``None`` if none is).
    Raises ``ValueError`` for an input that is not a dict. Streams pick each
    input chunk (chunks picking nothing are skipped)."""

    def __init__(self, keys: Union[str, list[str]], name: Optional[str] = None) -> None:
        if not isinstance(keys, (str, list)):
            raise TypeError(f"RunnablePick keys must be a str or a list of str, got {type(keys).__name__}")
        self.keys = keys
        self.name = name

    def get_name(self, suffix: Optional[str] = None, *, name: Optional[str] = None) -> str:
        keys = ",".join([self.keys] if isinstance(self.keys, str) else self.keys)
        return super().get_name(suffix, name=name or self.name or f"RunnablePick<{keys}>")

    def _pick(self, value: Any, config: Any = None, rm: Any = None) -> Any:
        if not isinstance(value, dict):
            raise ValueError(f"{self.get_name()} needs a dict input, got {type(value).__name__}")
        if isinstance(self.keys, str):
            return value.get(self.keys)
        picked = {k: value[k] for k in self.keys if k in value}
        return AddableDict(picked) if picked else None

    async def _apick(self, value: Any, config: Any = None, rm: Any = None) -> Any:
        return self._pick(value)

    def invoke(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Any:
        return self._call_with_config(self._pick, input, config)

    async def ainvoke(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Any:
        return await self._acall_with_config(self._apick, input, config)

    def _picked(self, chunks: Iterator[Any], config: RunnableConfig, rm: Any) -> Iterator[Any]:
        for chunk in chunks:
            picked = self._pick(chunk)
            if picked is not None:
                yield picked

    async def _apicked(self, chunks: AsyncIterator[Any], config: RunnableConfig, rm: Any) -> AsyncIterator[Any]:
        async for chunk in chunks:
            picked = self._pick(chunk)
            if picked is not None:
                yield picked

    def stream(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Iterator[Any]:
        return self._stream_with_config(lambda value, c, rm: self._picked(iter((value,)), c, rm), input, config)

    def astream(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> AsyncIterator[Any]:
        async def source(value: Any) -> AsyncIterator[Any]:
            yield value

        return self._astream_with_config(lambda value, c, rm: self._apicked(source(value), c, rm), input, config)

    def transform(self, input: Iterator[Input], config: Optional[RunnableConfig] = None, **kwargs: Any) -> Iterator[Any]:
        """Pick each chunk as it arrives (a run with a deferred input, as LangChain)."""
        return self._transform_stream_with_config(input, self._picked, config)

    def atransform(self, input: AsyncIterator[Input], config: Optional[RunnableConfig] = None, **kwargs: Any) -> AsyncIterator[Any]:
        """Async ``transform``."""
        return self._atransform_stream_with_config(input, self._apicked, config)


class RunnableBinding(Runnable):
    """Another runnable with fixed call ``kwargs`` and a default ``config``
    (what ``bind`` and ``with_config`` return). It adds no run of its own."""

    def __init__(
        self, *, bound: Runnable, kwargs: Optional[dict[str, Any]] = None, config: Optional[RunnableConfig] = None,
        config_factories: Sequence[Callable[[RunnableConfig], RunnableConfig]] = (),
    ) -> None:
        if type(bound) is RunnableBinding:  # flatten bind().with_config()... (not a subclass: RunnableRetry)
            kwargs = {**bound.kwargs, **(kwargs or {})}
            config = merge_configs(bound.config, config)
            config_factories = [*bound.config_factories, *config_factories]
            bound = bound.bound
        self.bound = bound
        self.kwargs = kwargs or {}
        self.config: RunnableConfig = config or {}
        #: Functions of each call's merged config giving more config to merge
        #: in (as LangChain's ``config_factories``; ``with_listeners`` uses one).
        self.config_factories = list(config_factories)
        self.name = None

    def get_name(self, suffix: Optional[str] = None, *, name: Optional[str] = None) -> str:
        return self.bound.get_name(suffix, name=name)

    @property
    def InputType(self) -> Any:  # noqa: N802
        return self.bound.InputType

    @property
    def OutputType(self) -> Any:  # noqa: N802
        return self.bound.OutputType

    def __repr__(self) -> str:
        return f"RunnableBinding(bound={self.bound!r}, kwargs={self.kwargs!r}, config={self.config!r})"

    @property
    def config_specs(self) -> list[ConfigurableFieldSpec]:
        return self.bound.config_specs

    def _merge(self, config: Optional[RunnableConfig]) -> RunnableConfig:
        merged = merge_configs(self.config, config) if self.config else (config or {})
        if self.config_factories:
            merged = merge_configs(merged, *(factory(merged) for factory in self.config_factories))  # type: ignore[arg-type]
        return merged  # type: ignore[return-value]

    def invoke(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Output:
        return self.bound.invoke(input, self._merge(config), **{**self.kwargs, **kwargs})

    async def ainvoke(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Output:
        return await self.bound.ainvoke(input, self._merge(config), **{**self.kwargs, **kwargs})

    def batch(self, inputs: Sequence[Input], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any) -> list[Output]:
        configs = [self._merge(c) for c in get_config_list(config, len(inputs))] if inputs else []
        return self.bound.batch(inputs, configs, return_exceptions=return_exceptions, **{**self.kwargs, **kwargs})

    async def abatch(self, inputs: Sequence[Input], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any) -> list[Output]:
        configs = [self._merge(c) for c in get_config_list(config, len(inputs))] if inputs else []
        return await self.bound.abatch(inputs, configs, return_exceptions=return_exceptions, **{**self.kwargs, **kwargs})

    # The bound runnable's own iterators, handed out as they are: closing one
    # closes the bound runnable's runs at once.
    def stream(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Iterator[Output]:
        return self.bound.stream(input, self._merge(config), **{**self.kwargs, **kwargs})

    def astream(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> AsyncIterator[Output]:
        return self.bound.astream(input, self._merge(config), **{**self.kwargs, **kwargs})

    def transform(self, input: Iterator[Input], config: Optional[RunnableConfig] = None, **kwargs: Any) -> Iterator[Output]:
        return self.bound.transform(input, self._merge(config), **{**self.kwargs, **kwargs})

    def atransform(self, input: AsyncIterator[Input], config: Optional[RunnableConfig] = None, **kwargs: Any) -> AsyncIterator[Output]:
        return self.bound.atransform(input, self._merge(config), **{**self.kwargs, **kwargs})


class RunnableEach(Runnable):
    """``bound`` over each item of a list input, as LangChain's
    ``RunnableEach`` (what ``Runnable.map`` returns): one chain run whose
    children are ``bound.batch``'s runs; the output is the list of outputs.
    The first item's exception is raised (``batch``'s contract)."""

    def __init__(self, *, bound: Runnable, name: Optional[str] = None) -> None:
        self.bound = coerce_to_runnable(bound)
        self.name = name

    @property
    def config_specs(self) -> list[ConfigurableFieldSpec]:
        return self.bound.config_specs

    def get_name(self, suffix: Optional[str] = None, *, name: Optional[str] = None) -> str:
        return super().get_name(suffix, name=name or self.name or f"RunnableEach<{self.bound.get_name()}>")

    def __repr__(self) -> str:
        return f"RunnableEach(bound={self.bound!r})"

    @property
    def InputType(self) -> Any:  # noqa: N802
        return list[self.bound.InputType]  # type: ignore[name-defined]

    @property
    def OutputType(self) -> Any:  # noqa: N802
        return list[self.bound.OutputType]  # type: ignore[name-defined]

    def invoke(self, input: Sequence[Any], config: Optional[RunnableConfig] = None, **kwargs: Any) -> list[Any]:
        def run(items: Sequence[Any], config: RunnableConfig, rm: Any) -> list[Any]:
            return self.bound.batch(list(items), [patch_config(config, callbacks=rm.get_child()) for _ in items], **kwargs)

        return self._call_with_config(run, input, config)

    async def ainvoke(self, input: Sequence[Any], config: Optional[RunnableConfig] = None, **kwargs: Any) -> list[Any]:
        async def run(items: Sequence[Any], config: RunnableConfig, rm: Any) -> list[Any]:
            configs = [patch_config(config, callbacks=rm.get_child()) for _ in items]
            return await self.bound.abatch(list(items), configs, **kwargs)

        return await self._acall_with_config(run, input, config)


class RunnableGenerator(Runnable):
    """A generator function over the input stream as a runnable, as
    LangChain's ``RunnableGenerator``: ``transform(chunks)`` receives an
    iterator of input chunks and yields output chunks (``atransform``: an
    async iterator, an async generator function). Either may take a
    ``config`` keyword argument; runnables they invoke join the run tree.

    ``stream``/``astream`` feed the one input as a one-chunk stream;
    ``invoke``/``ainvoke`` return the ``+`` of the output chunks (``None`` for
    none). The run's input is deferred, as LangChain's (``{"input": ""}`` at
    start, the chunks' ``+`` as ``inputs=`` of ``on_chain_end``).

    Raises ``TypeError`` when ``transform`` is not a (sync or async) generator
    function; ``NotImplementedError`` for a sync call of an async-only
    generator (and the reverse), as LangChain.
    """

    _defers_inputs = True

    def __init__(self, transform: Callable[..., Any], atransform: Optional[Callable[..., Any]] = None,
                 *, name: Optional[str] = None) -> None:
        self._sync: Optional[Callable[..., Iterator[Any]]] = None
        self._async: Optional[Callable[..., AsyncIterator[Any]]] = atransform
        if inspect.isasyncgenfunction(transform):
            self._async = transform
        elif inspect.isgeneratorfunction(transform):
            self._sync = transform
        else:
            raise TypeError(
                f"RunnableGenerator needs a generator function (def ... yield), got {type(transform).__name__}"
            )
        named = atransform if atransform is not None else transform
        self.name = name or getattr(named, "__name__", None) or "RunnableGenerator"

    def __repr__(self) -> str:
        return f"RunnableGenerator({self.name})"

    @property
    def InputType(self) -> Any:  # noqa: N802
        return Any

    OutputType = InputType

    def _kwargs(self, func: Callable[..., Any], child: RunnableConfig, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {**kwargs, "config": child} if _accepts_config(func) else kwargs

    def transform(self, input: Iterator[Input], config: Optional[RunnableConfig] = None, **kwargs: Any) -> Iterator[Output]:
        if self._sync is None:
            raise NotImplementedError(f"{self!r} only supports async methods; use astream/ainvoke")
        func = self._sync

        def run(chunks: Iterator[Any], config: RunnableConfig, rm: Any) -> Iterator[Any]:
            child = patch_config(config, callbacks=rm.get_child())
            return _iter_in_context(child, func, chunks, **self._kwargs(func, child, kwargs))

        return self._transform_stream_with_config(input, run, config)

    def atransform(self, input: AsyncIterator[Input], config: Optional[RunnableConfig] = None, **kwargs: Any) -> AsyncIterator[Output]:
        if self._async is None:
            raise NotImplementedError(f"{self!r} only supports sync methods; use stream/invoke")
        func = self._async

        def run(chunks: AsyncIterator[Any], config: RunnableConfig, rm: Any) -> AsyncIterator[Any]:
            child = patch_config(config, callbacks=rm.get_child())
            return _aiter_in_context(child, func, chunks, **self._kwargs(func, child, kwargs))

        return self._atransform_stream_with_config(input, run, config)

    def stream(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Iterator[Output]:
        return self.transform(iter((input,)), config, **kwargs)

    def astream(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> AsyncIterator[Output]:
        async def source() -> AsyncIterator[Any]:
            yield input

        return self.atransform(source(), config, **kwargs)

    def invoke(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Output:
        final: Any = None
        for chunk in self.stream(input, config, **kwargs):
            final = chunk if final is None else final + chunk
        return final

    async def ainvoke(self, input: Input, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Output:
        final: Any = None
        async with _aclosing(self.astream(input, config, **kwargs)) as chunks:
            async for chunk in chunks:
                final = chunk if final is None else final + chunk
        return final


def chain(func: Callable[..., Any]) -> RunnableLambda:
    """Decorator: ``func`` as a ``RunnableLambda`` named after it, as
    LangChain's ``@chain``. Runnables invoked inside ``func`` are child runs."""
    return RunnableLambda(func)


class RunnableSerializable(BaseModel, Runnable[Input, Output]):
    """A runnable that is also a pydantic model (as LangChain's): declare its
    options as fields, implement ``invoke``. ``name`` is the run name."""

    # defer_build (inherited by every subclass): a class's pydantic validator
    # is built when it first validates, not when it is defined, so the model
    # classes a process defines but never builds (BaseChatModel, BaseLLM, the
    # plugins' other models) cost no schema building at start-up.
    model_config = ConfigDict(arbitrary_types_allowed=True, defer_build=True)

    name: Optional[str] = None
