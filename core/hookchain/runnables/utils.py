"""Small helpers of the runnables package (as ``langchain_core.runnables.utils``)."""

from __future__ import annotations

import contextvars
import threading
from collections import deque
from itertools import groupby
from typing import Any, AsyncIterator, Iterable, Iterator, Mapping, NamedTuple, Optional, Sequence, Union

__all__ = [
    "AddableDict", "ConfigurableField", "ConfigurableFieldSingleOption", "ConfigurableFieldMultiOption",
    "AnyConfigurableField", "ConfigurableFieldSpec", "get_unique_config_specs", "iterate_in_thread",
]


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


# --------------------------------------------------------------------------- #
# Configurable fields (as LangChain's, same names and field order)
# --------------------------------------------------------------------------- #


class ConfigurableField(NamedTuple):
    """A field whose value ``config["configurable"][id]`` sets at run time
    (``configurable_fields(temperature=ConfigurableField(id="temp"))``).

    ``name``/``description``/``annotation`` describe it in ``config_specs``
    (by default the field's own description and type); ``is_shared`` keeps
    its id unprefixed under ``configurable_alternatives(prefix_keys=True)``.
    """

    id: str
    name: Optional[str] = None
    description: Optional[str] = None
    annotation: Optional[Any] = None
    is_shared: bool = False

    def __hash__(self) -> int:
        return hash((self.id, self.annotation))


class ConfigurableFieldSingleOption(NamedTuple):
    """A field set to one of ``options`` (``{key: value}``), chosen by key with
    ``config["configurable"][id]``; ``default`` is the key used otherwise."""

    id: str
    options: Mapping[str, Any]
    default: str
    name: Optional[str] = None
    description: Optional[str] = None
    is_shared: bool = False

    def __hash__(self) -> int:
        return hash((self.id, tuple(self.options.keys()), self.default))


class ConfigurableFieldMultiOption(NamedTuple):
    """A list field set to several of ``options``, chosen by a list of keys
    with ``config["configurable"][id]``; ``default`` is the keys used otherwise."""

    id: str
    options: Mapping[str, Any]
    default: Sequence[str]
    name: Optional[str] = None
    description: Optional[str] = None
    is_shared: bool = False

    def __hash__(self) -> int:
        return hash((self.id, tuple(self.options.keys()), tuple(self.default)))


AnyConfigurableField = Union[ConfigurableField, ConfigurableFieldSingleOption, ConfigurableFieldMultiOption]


class ConfigurableFieldSpec(NamedTuple):
    """What ``Runnable.config_specs`` lists: one key of ``configurable`` with
    its type (``annotation``), ``default`` value, name and description."""

    id: str
    annotation: Any
    name: Optional[str] = None
    description: Optional[str] = None
    default: Any = None
    is_shared: bool = False
    dependencies: Optional[list[str]] = None


def get_unique_config_specs(specs: Iterable[ConfigurableFieldSpec]) -> list[ConfigurableFieldSpec]:
    """``specs`` sorted by id with repeats of the same spec dropped, as
    LangChain's. Raises ``ValueError`` naming the id when two different specs
    share it (two components configured under one id, differently)."""
    unique: list[ConfigurableFieldSpec] = []
    for spec_id, same in groupby(sorted(specs, key=lambda s: (s.id, *(s.dependencies or []))), lambda s: s.id):
        first, *others = same
        if any(other != first for other in others):
            raise ValueError(
                f"conflicting config specs for {spec_id!r}: {[first, *others]}; give the fields different ids"
            )
        unique.append(first)
    return unique


class _Pump:
    """The state ``iterate_in_thread`` shares with its worker thread."""

    __slots__ = ("lock", "items", "slots", "waiter", "loop", "stop", "busy")

    def __init__(self, loop: Any) -> None:
        self.lock = threading.Lock()
        self.items: deque[tuple[int, Any]] = deque()  # (kind, value): _ITEM, _END or _ERROR
        self.slots = threading.Semaphore(_AHEAD)
        self.waiter: Any = None  # the future the consumer awaits while ``items`` is empty
        self.loop = loop
        self.stop = False  # the consumer left: no further ``next``
        self.busy = False  # the worker is inside ``next``

    def put(self, kind: int, value: Any) -> None:
        with self.lock:
            self.items.append((kind, value))
            waiter, self.waiter = self.waiter, None
        if waiter is not None:
            try:
                self.loop.call_soon_threadsafe(_wake, waiter)
            except RuntimeError:  # the loop is closed: nobody waits any more
                pass

    def run(self, it: Iterator[Any]) -> None:
        """The worker: ``next(it)`` until it ends, fails or the consumer leaves,
        at most ``_AHEAD`` items ahead of the consumer."""
        while True:
            self.slots.acquire()
            with self.lock:
                if self.stop:
                    return  # the consumer closes ``it``: it saw the worker outside ``next``
                self.busy = True
            try:
                item = next(it, _DONE)
            except BaseException as e:  # noqa: BLE001 - handed to the consumer
                item, error = _DONE, e
            else:
                error = None
            with self.lock:
                self.busy = False
                left = self.stop
            if left:  # the consumer left while ``next`` ran: close ``it`` here
                _close(it)
                return
            if error is not None:
                self.put(_ERROR, error)
                return
            if item is _DONE:
                self.put(_END, None)
                return
            self.put(_ITEM, item)


_ITEM, _END, _ERROR = 0, 1, 2
_DONE = object()
_AHEAD = 256  # items the worker may produce before the consumer takes them


def _wake(waiter: Any) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def iterate_in_thread(it: Iterator[Any]) -> AsyncIterator[Any]:
    """Yield the items of the sync iterator ``it`` (e.g. a model's ``_stream``)
    to async code: one worker thread of the loop's default executor runs
    ``it`` to its end in a copy of the current context, up to 256 items ahead,
    and hands them over through a queue (LangChain's default ``_astream`` runs
    each ``next`` in a thread of its own: a thread hop per item). Leaving early
    (``aclose``, cancellation) closes ``it``: at once if the worker is not in
    ``next``, else by the worker when that ``next`` returns. An exception from
    ``it`` is raised here."""
    import asyncio

    loop = asyncio.get_running_loop()
    pump = _Pump(loop)
    ctx = contextvars.copy_context()
    loop.run_in_executor(None, ctx.run, pump.run, it)
    try:
        while True:
            with pump.lock:
                if pump.items:
                    kind, value = pump.items.popleft()
                else:
                    kind = None
                    waiter = pump.waiter = loop.create_future()
            if kind is None:
                await waiter
                continue
            if kind == _ITEM:
                pump.slots.release()
                yield value
            elif kind == _END:
                return
            else:
                raise value
    finally:
        with pump.lock:
            pump.stop, busy = True, pump.busy
        pump.slots.release()  # a worker waiting for a slot sees ``stop``
        if not busy:
            _close(it)


def _close(it: Any) -> None:
    close = getattr(it, "close", None)
    if close is not None:
        close()


async def _aclose(it: Any) -> None:
    aclose = getattr(it, "aclose", None)
    if aclose is not None:
        await aclose()


class _closing:
    """``with _closing(it)``: ``it`` is closed on leaving, if it can be (as
    ``contextlib.closing``, for any iterator)."""

    __slots__ = ("it",)

    def __init__(self, it: Any) -> None:
        self.it = it

    def __enter__(self) -> Any:
        return self.it

    def __exit__(self, *exc: Any) -> None:
        _close(self.it)


class _aclosing:
    """``async with _aclosing(it)``: ``it`` is closed on leaving, if it can be
    (as ``contextlib.aclosing``, for any async iterator). An async generator
    left unclosed would end its runs only when garbage collected: after its
    parent's, and after ``aclose()`` of the outer stream returned."""

    __slots__ = ("it",)

    def __init__(self, it: Any) -> None:
        self.it = it

    async def __aenter__(self) -> Any:
        return self.it

    async def __aexit__(self, *exc: Any) -> None:
        await _aclose(self.it)
