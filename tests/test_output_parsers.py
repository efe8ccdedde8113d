"""Output parsers: what is hookchain's own (errors, no thread hop, options);
LangChain parity is in tests/differential/test_output_parsers.py."""

from __future__ import annotations

import asyncio
import sys
import threading

import pydantic
import pytest

from hookchain.errors import HookchainError
from hookchain.exceptions import OutputParserException
from hookchain.messages import AIMessage, AIMessageChunk
from hookchain.output_parsers import (
    BaseOutputParser, CommaSeparatedListOutputParser, JsonOutputParser, PydanticOutputParser, StrOutputParser,
)


def test_output_parser_exception_keeps_the_raw_text():
    with pytest.raises(OutputParserException) as info:
        JsonOutputParser().invoke(AIMessage(" oops, no json "))
    e = info.value
    assert isinstance(e, HookchainError) and isinstance(e, ValueError)
    assert e.llm_output == "oops, no json"
    assert str(e) == "Invalid json output: oops, no json"  # one line: no link to LangChain's docs
    assert OutputParserException("x", observation="o", llm_output="y", send_to_llm=True).send_to_llm


def test_bad_input_names_the_parser():
    with pytest.raises(TypeError, match=r"StrOutputParser parses a str or a message .*got int"):
        StrOutputParser().invoke(3)
    with pytest.raises(TypeError, match="JsonOutputParser parses a str or a message"):
        list(JsonOutputParser().transform(iter([{"a": 1}])))


def test_unknown_option_is_an_error():
    with pytest.raises(pydantic.ValidationError, match="schema"):
        JsonOutputParser(schema={"type": "object"})


def test_diff_without_jsonpatch_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "jsonpatch", None)
    with pytest.raises(ImportError, match="pip install jsonpatch"):
        list(JsonOutputParser(diff=True).transform(iter(['{"a": 1}'])))


def test_async_parsing_stays_on_the_event_loop_thread():
    # LangChain hops to a worker thread for every aparse_result; parsing is
    # quick pure-Python work, so hookchain calls it directly.
    threads = []

    class Spy(BaseOutputParser[str]):
        def parse(self, text: str) -> str:
            threads.append(threading.get_ident())
            return text

    async def main():
        await Spy().ainvoke("x")
        return threading.get_ident()

    assert threads == [asyncio.run(main())]


def test_user_parser_fields_and_generic_subscription():
    class Split(BaseOutputParser[list[str]]):
        sep: str = ","

        def parse(self, text: str) -> list[str]:
            return text.split(self.sep)

    assert Split(sep=";").invoke(AIMessage("a;b")) == ["a", "b"]
    assert Split().get_name() == "Split" and Split(name="mine").get_name() == "mine"
    with pytest.raises(NotImplementedError, match="Split has no format instructions"):
        Split().get_format_instructions()


def test_streams_without_handlers():
    chunks = [AIMessageChunk(c) for c in ['{"a"', ': [1', ", 2]}"]]
    assert list(JsonOutputParser().transform(iter(chunks))) == [{}, {"a": [1]}, {"a": [1, 2]}]
    assert list(CommaSeparatedListOutputParser().transform(iter([]))) == []


class Point(pydantic.BaseModel):
    x: int
    y: int = 0


def test_pydantic_parser_streams_only_valid_models():
    out = list(PydanticOutputParser(pydantic_object=Point).transform(iter(['{"y": 2', ', "x": 1', "}"])))
    assert out == [Point(x=1, y=2)]
    with pytest.raises(OutputParserException, match="Failed to parse Point") as info:
        PydanticOutputParser(pydantic_object=Point).parse('{"y": 2}')
    assert info.value.llm_output == '{"y": 2}'


def test_closing_a_parsed_stream_ends_the_model_run_first():
    # The parser closes the stream it reads, so the model's run ends before
    # the parser's, which ends before the sequence's (sync and async).
    from hookchain.callbacks import AsyncCallbackHandler, BaseCallbackHandler
    from hookchain.language_models import FakeListChatModel

    class Sync(BaseCallbackHandler):
        def __init__(self):
            self.ends = []

        def on_chain_start(self, serialized, inputs, **kwargs):
            self.ends.append(("on_chain_start", kwargs.get("name")))

        def on_chain_error(self, error, **kwargs):
            self.ends.append(("on_chain_error", None))

        def on_llm_error(self, error, **kwargs):
            self.ends.append(("on_llm_error", None))

    class Async(AsyncCallbackHandler):
        def __init__(self):
            self.ends = []

        async def on_chain_start(self, serialized, inputs, **kwargs):
            self.ends.append(("on_chain_start", kwargs.get("name")))

        async def on_chain_error(self, error, **kwargs):
            self.ends.append(("on_chain_error", None))

        async def on_llm_error(self, error, **kwargs):
            self.ends.append(("on_llm_error", None))

    chain = FakeListChatModel(responses=["hello"]) | StrOutputParser()
    sync = Sync()
    it = chain.stream("x", {"callbacks": [sync]})
    assert next(it) == "h"
    it.close()

    async def main():
        handler = Async()
        stream = chain.astream("x", {"callbacks": [handler]})
        assert await stream.__anext__() == "h"
        await stream.aclose()
        return handler

    expected = [
        ("on_chain_start", "RunnableSequence"), ("on_chain_start", "StrOutputParser"),
        ("on_llm_error", None), ("on_chain_error", None), ("on_chain_error", None),
    ]
    assert sync.ends == expected
    assert asyncio.run(main()).ends == expected
