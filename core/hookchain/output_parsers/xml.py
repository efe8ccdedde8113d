"""``XMLOutputParser`` (as ``langchain_core.output_parsers.xml``).

The value of ``<a><b>1</b><c>2</c></a>`` is ``{"a": [{"b": "1"}, {"c": "2"}]}``
(an element with text: ``{tag: text}``; else ``{tag: [children...]}``).
Streaming yields each leaf element as soon as it closes, wrapped in its
ancestors (``{"a": [{"b": "1"}]}``, then ``{"a": [{"c": "2"}]}``); those chunks
add up (``+``) to the whole value.
"""

from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET
from typing import Any, AsyncIterator, Iterator, Literal, Optional

from hookchain.errors import OutputParserException
from hookchain.messages import BaseMessage
from hookchain.output_parsers.transform import BaseTransformOutputParser
from hookchain.runnables.utils import AddableDict

__all__ = ["XMLOutputParser", "AddableDict"]

_FENCE = re.compile(r"```(xml)?(.*)```", re.DOTALL)
_DECLARATION = re.compile(r"<([^>]*encoding[^>]*)>\n(.*)", re.MULTILINE | re.DOTALL)
_TAG_START = re.compile(r"<[a-zA-Z:_]")


def _defused() -> Any:
    try:
        import defusedxml.ElementTree as defused
    except ImportError:
        raise ImportError(
            "XMLOutputParser(parser='defusedxml') needs the defusedxml package: pip install defusedxml "
            "(or pass parser='xml' for the standard library's parser)"
        ) from None
    return defused


def _nested(path: list[str], elem: ET.Element) -> AddableDict:
    if not path:
        return AddableDict({elem.tag: elem.text})
    return AddableDict({path[0]: [_nested(path[1:], elem)]})


class _Stream:
    """Incremental parsing: text before the first tag is skipped; leaves are
    given out as they close; text after the root closes is ignored."""

    def __init__(self, parser: str) -> None:
        target = _defused().XMLParser(target=ET.TreeBuilder()) if parser == "defusedxml" else None
        self.pull = ET.XMLPullParser(["start", "end"], _parser=target)
        self.path: list[str] = []
        self.has_children = False
        self.buffer = ""
        self.started = False

    def feed(self, chunk: Any) -> Iterator[AddableDict]:
        if isinstance(chunk, BaseMessage):
            chunk = chunk.content
            if not isinstance(chunk, str):
                return
        self.buffer += chunk
        if not self.started:
            match = _TAG_START.search(self.buffer)
            if match is None:
                return
            self.buffer, self.started = self.buffer[match.start():], True
        self.pull.feed(self.buffer)
        self.buffer = ""
        try:
            for event, elem in self.pull.read_events():
                if event == "start":
                    self.path.append(elem.tag)
                    self.has_children = False
                    continue
                self.path.pop()
                if not self.has_children:
                    yield _nested(self.path, elem)
                if self.path:
                    self.has_children = True
                else:
                    self.started = False
        except ET.ParseError:
            if self.path:  # malformed inside the document; after it, ignored
                raise

    def close(self) -> None:
        with contextlib.suppress(ET.ParseError):
            self.pull.close()


class XMLOutputParser(BaseTransformOutputParser[dict[str, Any]]):
    """The XML in a model's answer (inside a markdown fence or not; an XML
    declaration is skipped) as nested dicts and lists (see the module docstring).

    Fields:
        tags: tag names ``get_format_instructions`` asks the model to use.
        parser: ``"defusedxml"`` (the default, as LangChain: needs the
            ``defusedxml`` package, ``ImportError`` naming it otherwise) or
            ``"xml"`` (the standard library's parser).

    Raises ``OutputParserException`` (with ``llm_output``) for malformed XML.
    """

    tags: Optional[list[str]] = None
    parser: Literal["defusedxml", "xml"] = "defusedxml"

    def get_format_instructions(self) -> str:
        return (
            "Answer in XML and nothing else: one root element, every tag closed, nested as needed; "
            "use your own tag names where none are given.\n"
            "For the tags [\"a\", \"b\"], <a><b>x</b></a> is well formed; <a><b>x</a> is not.\n\n"
            f"The tags:\n```\n{self.tags}\n```"
        )

    def parse(self, text: str) -> dict[str, Any]:
        etree = _defused() if self.parser == "defusedxml" else ET
        fenced = _FENCE.search(text)
        if fenced is not None:
            text = fenced.group(2)
        declared = _DECLARATION.search(text)
        if declared is not None:
            text = declared.group(2)
        text = text.strip()
        try:
            return self._to_dict(etree.fromstring(text))
        except etree.ParseError as e:
            raise OutputParserException(f"Failed to parse XML format from completion {text}. Got: {e}", llm_output=text) from e

    def _to_dict(self, root: ET.Element) -> dict[str, Any]:
        if root.text and not root.text.isspace():
            return {root.tag: root.text}
        return {root.tag: [{child.tag: child.text} if len(child) == 0 else self._to_dict(child) for child in root]}

    def _transform(self, input: Iterator[Any]) -> Iterator[AddableDict]:
        stream = _Stream(self.parser)
        for chunk in input:
            yield from stream.feed(chunk)
        stream.close()

    async def _atransform(self, input: AsyncIterator[Any]) -> AsyncIterator[AddableDict]:
        stream = _Stream(self.parser)
        async for chunk in input:
            for out in stream.feed(chunk):
                yield out
        stream.close()

    @property
    def _type(self) -> str:
        return "xml"
