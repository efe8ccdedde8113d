"""Output parsers (as ``langchain_core.output_parsers``): runnables that turn a
model's output into a string, JSON, a pydantic object, a list or XML as
dicts, streaming."""

from hookchain.output_parsers.base import BaseGenerationOutputParser, BaseLLMOutputParser, BaseOutputParser
from hookchain.output_parsers.json import JsonOutputParser, SimpleJsonOutputParser
from hookchain.output_parsers.list import (
    CommaSeparatedListOutputParser, ListOutputParser, MarkdownListOutputParser, NumberedListOutputParser,
)
from hookchain.output_parsers.openai_tools import JsonOutputKeyToolsParser, JsonOutputToolsParser, PydanticToolsParser
from hookchain.output_parsers.pydantic import PydanticOutputParser
from hookchain.output_parsers.string import StrOutputParser
from hookchain.output_parsers.transform import BaseCumulativeTransformOutputParser, BaseTransformOutputParser
from hookchain.output_parsers.xml import XMLOutputParser

__all__ = [
    "BaseLLMOutputParser", "BaseGenerationOutputParser", "BaseOutputParser", "BaseTransformOutputParser",
    "BaseCumulativeTransformOutputParser", "StrOutputParser", "JsonOutputParser", "SimpleJsonOutputParser",
    "PydanticOutputParser", "ListOutputParser", "CommaSeparatedListOutputParser", "NumberedListOutputParser",
    "MarkdownListOutputParser", "XMLOutputParser", "JsonOutputToolsParser", "JsonOutputKeyToolsParser",
    "PydanticToolsParser",
]
