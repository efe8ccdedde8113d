"""convert_to_openai_function / convert_to_openai_tool: a table of functions,
pydantic models, TypedDicts, JSON schemas, provider dicts and tools; hookchain's
output must equal langchain-core's for each."""

import enum
from typing import Annotated, Any, Literal, Optional, Union

import langchain_core.tools as lc_tools
import langchain_core.utils.function_calling as lc_fc
import pydantic
import pytest
from typing_extensions import TypedDict

import hookchain.tools as hc_tools
import hookchain.utils.function_calling as hc_fc

from .harness import raised


def multiply(a: int, b: float = 1.5) -> float:
    """Multiply two numbers.

    Args:
        a: the first factor
        b: the second factor,
            a float
    """
    return a * b


def no_doc(x: str, flag: bool = False):
    return x


def rich(items: list[str], mode: Literal["fast", "slow"], limit: Optional[int] = None, extra: dict[str, Any] = {}) -> str:  # noqa: B006
    """Process items.

    Args:
        items: the items
        mode: how
    """
    return ""


def with_injected(q: str, user: Annotated[str, lc_tools.InjectedToolArg]) -> str:
    """Query as a user."""
    return q


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(pydantic.BaseModel):
    """A postal address."""

    street: str
    city: str = pydantic.Field(description="the city")


class Person(pydantic.BaseModel):
    """A person."""

    name: str = pydantic.Field(description="full name")
    title: Optional[str] = None  # a property named title stays
    age: int = 0
    address: Address
    others: list[Address] = []
    color: Color = Color.RED
    kind: Union[int, str] = 1


class Nameless(pydantic.BaseModel):
    x: int


class Movie(TypedDict):
    """A movie.

    Args:
        name: the title of the movie
    """

    name: str
    year: Annotated[int, ..., "release year"]
    rating: Annotated[float, 5.0, "stars"]


class Shelf(TypedDict):
    """A shelf of movies."""

    movies: list[Movie]
    label: str
    note: Optional[str]
    extra: dict
    tags: Annotated[list[str], ["a"], "labels"]


class Bare(TypedDict):
    a: int


JSON_SCHEMA = {
    "title": "lookup", "description": "Look up a key.", "type": "object",
    "properties": {"key": {"type": "string", "title": "Key"}, "opts": {"$ref": "#/$defs/Opts"}},
    "required": ["key"],
    "$defs": {"Opts": {"title": "Opts", "type": "object", "properties": {"deep": {"type": "boolean"}}}},
}

DICTS = [
    JSON_SCHEMA,
    {"title": "nothing"},
    {"name": "fn", "description": "d", "parameters": {"type": "object", "properties": {}}, "other": 1},
    {"name": "anth", "description": "an anthropic tool", "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}}},
    {"toolSpec": {"name": "bedrock", "description": "b", "inputSchema": {"json": {"type": "object", "properties": {}}}}},
]

PLAIN = [multiply, no_doc, rich, Person, Address, Nameless, Movie, Shelf, Bare, *DICTS]


def _tools(t):
    def lookup(key: str) -> str:
        return key

    return [
        t.tool(multiply),
        t.tool(parse_docstring=True)(multiply),
        t.StructuredTool.from_function(lookup, args_schema=JSON_SCHEMA),
        t.StructuredTool.from_function(lookup, args_schema=Address, name="addr"),
        t.StructuredTool.from_function(lookup, description="look up", name="lk"),
    ]


def outcome(convert, case, **kwargs):
    try:
        return convert(case, **kwargs)
    except Exception as e:  # noqa: BLE001 - LangChain raises KeyError for a schema without parameters in strict mode
        return ("raised", type(e).__name__, str(e))


@pytest.mark.parametrize("strict", [None, True, False])
@pytest.mark.parametrize("index", range(len(PLAIN)))
def test_plain_cases(index, strict):
    case = PLAIN[index]
    for convert in ("convert_to_openai_function", "convert_to_openai_tool"):
        lc = outcome(getattr(lc_fc, convert), case, strict=strict)
        hc = outcome(getattr(hc_fc, convert), case, strict=strict)
        assert lc == hc, (convert, case)


@pytest.mark.parametrize("strict", [None, True])
def test_tools(strict):
    for lc_tool, hc_tool in zip(_tools(lc_tools), _tools(hc_tools)):
        assert lc_fc.convert_to_openai_tool(lc_tool, strict=strict) == hc_fc.convert_to_openai_tool(hc_tool, strict=strict)


def test_injected_args_left_out():
    def hc_with_injected(q: str, user: Annotated[str, hc_tools.InjectedToolArg]) -> str:
        """Query as a user."""
        return q

    lc = lc_fc.convert_to_openai_tool(with_injected)
    hc_fn = hc_fc.convert_to_openai_tool(hc_with_injected)
    hc_fn["function"]["name"] = "with_injected"
    assert lc == hc_fn
    assert lc_fc.convert_to_openai_tool(lc_tools.tool(with_injected)) == hc_fc.convert_to_openai_tool(hc_tools.tool("with_injected", hc_with_injected))


@pytest.mark.parametrize("case", [{"type": "web_search"}, {"type": "function", "function": {"name": "f"}}, {"type": "web_search_preview_2025"}])
def test_openai_tools_pass_through(case):
    assert lc_fc.convert_to_openai_tool(case) == hc_fc.convert_to_openai_tool(case) == case


@pytest.mark.parametrize("case", [{"type": "object", "properties": {}}, {"foo": 1}, 42])
def test_unsupported(case):
    assert raised(lambda: lc_fc.convert_to_openai_function(case)) == raised(lambda: hc_fc.convert_to_openai_function(case))


def test_strict_conflict():
    case = {"name": "f", "parameters": {}, "strict": False}
    assert raised(lambda: lc_fc.convert_to_openai_function(case, strict=True)) == raised(lambda: hc_fc.convert_to_openai_function(case, strict=True))
