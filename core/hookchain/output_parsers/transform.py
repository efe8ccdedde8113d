"""Streaming parsers (as ``langchain_core.output_parsers.transform``).

``transform``/``atransform`` parse a model's stream as it arrives, so
``prompt | model | parser`` streams parsed values, as one ``run_type="parser"``
run with a deferred input (``Runnable._transform_stream_with_config``): in
``astream_events``, no ``input`` in ``on_parser_start``, the input in
``on_parser_end``, as LangChain.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Iterator, Optional

from hookchain.messages import BaseMessage, BaseMessageChunk
from hookchain.output_parsers.base import BaseOutputParser, T, as_generation
from hookchain.outputs import ChatGenerationChunk, GenerationChunk
from hookchain.runnables.base import Runnable, _aclosing
from hookchain.runnables.config import RunnableConfig

__all__ = ["BaseTransformOutputParser", "BaseCumulativeTransformOutputParser"]

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
        yield from self._transform_stream_with_config(input, lambda chunks, _c, _rm: self._transform(chunks), config, "parser")

    async def atransform(self, input: AsyncIterator[Any], config: Optional[RunnableConfig] = None, **kwargs: Any) -> AsyncIterator[T]:
        """Async ``transform``."""
        async with _aclosing(self._atransform_stream_with_config(
                input, lambda chunks, _c, _rm: self._atransform(chunks), config, "parser")) as chunks:
            async for chunk in chunks:
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
