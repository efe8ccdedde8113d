"""Streaming parsers (as ``langchain_core.output_parsers.transform``).

``transform``/``atransform`` parse a model's stream as it arrives, so
``prompt | model | parser`` streams parsed values. Like LangChain, such a run
cannot know its input when it starts: it starts when the first input chunk
arrives, with ``inputs={"input": ""}`` (and ``defers_inputs=False``), and reports
the ``+`` of the input chunks as ``inputs=`` of ``on_chain_end`` (of
``on_chain_error``: the first input chunk, as LangChain). In
``astream_events``: no ``input`` in ``on_parser_start``, the input in
``on_parser_end``.
"""

from __future__ import annotations

import itertools
from typing import Any, AsyncIterator, Callable, Iterator, Optional

from hookchain.callbacks.manager import AsyncCallbackManager, CallbackManager
from hookchain.messages import BaseMessage, BaseMessageChunk
from hookchain.output_parsers.base import BaseOutputParser, T, as_generation
from hookchain.outputs import ChatGenerationChunk, GenerationChunk
from hookchain.runnables.base import Runnable, _aclose, _close, _tap, _tap_iter
from hookchain.runnables.config import RunnableConfig, ensure_config

__all__ = ["BaseTransformOutputParser", "BaseCumulativeTransformOutputParser"]

_NONE = object()


def _total(chunks: list[Any]) -> Any:
    """LangChain's total of a stream (``None`` for none): chunks added with
    ``+``; once two do not add up (dicts, models), the latest chunk."""
    if not chunks:
        return None
    first = chunks[0]
    if all(isinstance(c, str) for c in chunks):
        return "".join(chunks)
    if len(chunks) > 1 and all(isinstance(c, BaseMessageChunk) for c in chunks):
        return first + chunks[1:]
    total = first
    for chunk in chunks[1:]:
        try:
            total = total + chunk
        except TypeError:
            return chunks[-1]
    return total


def _start_kwargs(runnable: Runnable, config: RunnableConfig) -> dict[str, Any]:
    return {
        "run_id": config.pop("run_id", None), "name": config.get("run_name") or runnable.get_name(),
        "run_type": "parser", "defers_inputs": False,  # LangChain's value for parsers
    }


def _configure(cls: Any, config: RunnableConfig) -> Any:
    return cls.configure(config.get("callbacks"), None, False, config.get("tags"), None, config.get("metadata"))


def _recorded(first: Any, rest: Iterator[Any], seen: Optional[list[Any]]) -> Iterator[Any]:
    if first is _NONE:
        return
    for chunk in itertools.chain((first,), rest):
        if seen is not None:
            seen.append(chunk)
        yield chunk


async def _arecorded(first: Any, rest: AsyncIterator[Any], seen: Optional[list[Any]]) -> AsyncIterator[Any]:
    if first is _NONE:
        return
    if seen is not None:
        seen.append(first)
    yield first
    async for chunk in rest:
        if seen is not None:
            seen.append(chunk)
        yield chunk


def stream_parser_run(
    parser: Runnable, input: Iterator[Any], transformer: Callable[[Iterator[Any]], Iterator[Any]],
    config: Optional[RunnableConfig],
) -> Iterator[Any]:
    """Run ``transformer(input)`` as one streamed parser run (see the module
    docstring); closing it early ends the run with ``on_chain_error(GeneratorExit)``."""
    config = ensure_config(config)
    input = iter(input)
    first = next(input, _NONE)  # as LangChain: the run starts once the first input chunk is there
    rm = _configure(CallbackManager, config).on_chain_start(parser._serialized, {"input": ""}, **_start_kwargs(parser, config))
    seen: Optional[list[Any]] = [] if rm.handlers else None  # inputs and outputs only handlers see
    outputs: list[Any] = []
    it = _tap_iter(rm, transformer(_recorded(first, input, seen)))
    try:
        for chunk in it:
            yield chunk
            if seen is not None:
                outputs.append(chunk)
    except BaseException as e:
        try:
            _close(it)  # then the stream it reads, so their runs end before this one
            _close(input)
        finally:
            rm.on_chain_error(e, inputs=None if first is _NONE else first)  # LangChain's value
        raise
    if seen is not None:
        rm.on_chain_end(_total(outputs), inputs=_total(seen))


async def astream_parser_run(
    parser: Runnable, input: AsyncIterator[Any], transformer: Callable[[AsyncIterator[Any]], AsyncIterator[Any]],
    config: Optional[RunnableConfig],
) -> AsyncIterator[Any]:
    """Async ``stream_parser_run``."""
    config = ensure_config(config)
    input = input.__aiter__()
    try:
        first = await input.__anext__()
    except StopAsyncIteration:
        first = _NONE
    rm = await _configure(AsyncCallbackManager, config).on_chain_start(
        parser._serialized, {"input": ""}, **_start_kwargs(parser, config))
    seen: Optional[list[Any]] = [] if rm.handlers else None
    outputs: list[Any] = []
    it = _tap(rm, transformer(_arecorded(first, input, seen)))
    try:
        async for chunk in it:
            yield chunk
            if seen is not None:
                outputs.append(chunk)
    except BaseException as e:
        try:
            await _aclose(it)
            await _aclose(input)
        finally:
            await rm.on_chain_error(e, inputs=None if first is _NONE else first)
        raise
    if seen is not None:
        await rm.on_chain_end(_total(outputs), inputs=_total(seen))


class BaseTransformOutputParser(BaseOutputParser[T]):
    """A parser that streams: each input chunk is parsed on its own
    (``_transform``), as LangChain's ``BaseTransformOutputParser``."""

    def _transform(self, input: Iterator[Any]) -> Iterator[T]:
        for chunk in input:
            yield self.parse_result([as_generation(self, chunk)])

    async def _atransform(self, input: AsyncIterator[Any]) -> AsyncIterator[T]:
        async for chunk in input:
            yield await self.aparse_result([as_generation(self, chunk)])

    def transform(self, input: Iterator[Any], config: Optional[RunnableConfig] = None, **kwargs: Any) -> Iterator[T]:
        """Parse a stream of messages or strings (a model's stream) into a
        stream of values, as one parser run."""
        yield from stream_parser_run(self, input, self._transform, config)

    async def atransform(self, input: AsyncIterator[Any], config: Optional[RunnableConfig] = None, **kwargs: Any) -> AsyncIterator[T]:
        """Async ``transform``."""
        async for chunk in astream_parser_run(self, input, self._atransform, config):
            yield chunk


def _as_chunk(parser: Runnable, value: Any) -> Any:
    if isinstance(value, BaseMessageChunk):
        return ChatGenerationChunk(message=value)
    if isinstance(value, BaseMessage):  # a whole message: its text is what accumulates
        return GenerationChunk(text=value.text)
    return GenerationChunk(text=as_generation(parser, value).text)


class BaseCumulativeTransformOutputParser(BaseTransformOutputParser[T]):
    """A streaming parser that re-parses everything received so far
    (``parse_result(..., partial=True)``) after each chunk and yields the value
    whenever it is new and not ``None``: e.g. a JSON object growing key by key.

    Fields:
        diff: yield ``_diff(previous, current)`` instead of the current value
            (a JSON patch for ``JsonOutputParser``).
    """

    diff: bool = False

    def _diff(self, prev: Optional[T], next: T) -> T:
        """The change from ``prev`` to ``next``, for ``diff=True``."""
        raise NotImplementedError(f"{type(self).__name__} does not support diff=True")

    def _step(self, acc: Any, chunk: Any) -> Any:
        part = _as_chunk(self, chunk)
        return part if acc is None else acc + part

    def _transform(self, input: Iterator[Any]) -> Iterator[Any]:
        prev, acc = None, None
        for chunk in input:
            acc = self._step(acc, chunk)
            parsed = self.parse_result([acc], partial=True)
            if parsed is not None and parsed != prev:
                yield self._diff(prev, parsed) if self.diff else parsed
                prev = parsed

    async def _atransform(self, input: AsyncIterator[Any]) -> AsyncIterator[Any]:
        prev, acc = None, None
        async for chunk in input:
            acc = self._step(acc, chunk)
            parsed = await self.aparse_result([acc], partial=True)
            if parsed is not None and parsed != prev:
                yield self._diff(prev, parsed) if self.diff else parsed
                prev = parsed
