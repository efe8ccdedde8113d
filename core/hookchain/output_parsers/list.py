"""List parsers (as ``langchain_core.output_parsers.list``).

Streaming yields one item at a time, as a one-element list (``["a"]``,
``["b"]``...), as soon as the item is known to be complete (the next one has
begun); the last item comes when the stream ends.
"""

from __future__ import annotations

import csv
import re
from abc import abstractmethod
from io import StringIO
from typing import Any, AsyncIterator, Iterator

from hookchain.messages import BaseMessage
from hookchain.output_parsers.transform import BaseTransformOutputParser

__all__ = ["ListOutputParser", "CommaSeparatedListOutputParser", "NumberedListOutputParser", "MarkdownListOutputParser"]


class _Items:
    """The streaming state of a list parser: text received but not yet given out."""

    def __init__(self, parser: "ListOutputParser") -> None:
        self.parser = parser
        self.buffer = ""

    def feed(self, chunk: Any) -> list[str]:
        """The items completed by ``chunk`` (a str or a message; a message whose
        content is not a str is skipped, as LangChain)."""
        if isinstance(chunk, BaseMessage):
            chunk = chunk.content
            if not isinstance(chunk, str):
                return []
        self.buffer += chunk
        try:
            matches = list(self.parser.parse_iter(self.buffer))
        except NotImplementedError:  # no item pattern: everything but the last part is done
            parts = self.parser.parse(self.buffer)
            if len(parts) < 2:
                return []
            self.buffer = parts[-1]
            return parts[:-1]
        done = matches[:-1]  # the last match may still grow
        if done:
            self.buffer = self.buffer[done[-1].end():]
        return [m.group(1) for m in done]

    def finish(self) -> list[str]:
        return self.parser.parse(self.buffer)


class ListOutputParser(BaseTransformOutputParser[list[str]]):
    """Base class of parsers whose value is a list of strings: implement
    ``parse(text)``, and ``parse_iter(text)`` (regex matches whose group 1 is
    an item) to stream items as they complete."""

    @property
    def _type(self) -> str:
        return "list"

    @abstractmethod
    def parse(self, text: str) -> list[str]:
        """The items in ``text``."""

    def parse_iter(self, text: str) -> Iterator[re.Match]:
        """The item matches in ``text``; ``NotImplementedError`` when the parser
        has no item pattern (then streaming re-parses the buffered text)."""
        raise NotImplementedError

    def _transform(self, input: Iterator[Any]) -> Iterator[list[str]]:
        items = _Items(self)
        for chunk in input:
            for item in items.feed(chunk):
                yield [item]
        for item in items.finish():
            yield [item]

    async def _atransform(self, input: AsyncIterator[Any]) -> AsyncIterator[list[str]]:
        items = _Items(self)
        async for chunk in input:
            for item in items.feed(chunk):
                yield [item]
        for item in items.finish():
            yield [item]


class CommaSeparatedListOutputParser(ListOutputParser):
    """``"a, b, c"`` as ``["a", "b", "c"]``: CSV rules (``"x, y"`` in double
    quotes is one item; spaces after commas dropped)."""

    def get_format_instructions(self) -> str:
        return "Answer with the values separated by commas and nothing else, e.g. `red, green, blue`."

    def parse(self, text: str) -> list[str]:
        try:
            rows = csv.reader(StringIO(text), quotechar='"', delimiter=",", skipinitialspace=True)
            return [item for row in rows for item in row]
        except csv.Error:
            return [part.strip() for part in text.split(",")]

    @property
    def _type(self) -> str:
        return "comma-separated-list"


class _PatternListOutputParser(ListOutputParser):
    pattern: str
    _flags = 0

    def parse(self, text: str) -> list[str]:
        return re.findall(self.pattern, text, self._flags)

    def parse_iter(self, text: str) -> Iterator[re.Match]:
        return re.finditer(self.pattern, text, self._flags)


class NumberedListOutputParser(_PatternListOutputParser):
    """``"1. a\\n2. b"`` as ``["a", "b"]``.

    Fields:
        pattern: the regex of one item; group 1 is the item's text.
    """

    pattern: str = r"\d+\.\s([^\n]+)"

    def get_format_instructions(self) -> str:
        return "Answer with a numbered list, one item per line, e.g.:\n\n1. red\n2. green\n3. blue"

    @property
    def _type(self) -> str:
        return "numbered-list"


class MarkdownListOutputParser(_PatternListOutputParser):
    """``"- a\\n- b"`` (or ``*`` bullets) as ``["a", "b"]``.

    Fields:
        pattern: the regex of one item (multi-line mode); group 1 is the item's text.
    """

    pattern: str = r"^\s*[-*]\s([^\n]+)$"
    _flags = re.MULTILINE

    def get_format_instructions(self) -> str:
        return "Answer with a markdown list, one item per line, e.g.:\n- red\n- green\n- blue"

    @property
    def _type(self) -> str:
        return "markdown-list"
