"""Tool-call output parsers (``hookchain.output_parsers.openai_tools``) against
langchain-core 1.7.2: the same messages parsed on both, comparing results,
raised errors and the values streamed from the same list of
``AIMessageChunk``s with ``tool_call_chunks``."""

from __future__ import annotations

import json
import re

import langchain_core.output_parsers.openai_tools as lc_ot
import pydantic
import pytest

import hookchain.output_parsers.openai_tools as hc_ot

from .harness import HC, LC, both, collect, raised

_LINK = re.compile(r"\nFor troubleshooting, visit: \S+ ?")


def unlinked(text):
    """``text`` without LangChain's troubleshooting-link lines (README: exception texts)."""
    return _LINK.sub("", text)


def ot(fw):
    return lc_ot if fw is LC else hc_ot


class Add(pydantic.BaseModel):
    a: int
    b: int


class Titled(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(title="search")
    query: str


CALLS = [
    {"name": "Add", "args": {"a": 1, "b": 2}, "id": "call_1"},
    {"name": "search", "args": {"query": "cats"}, "id": "call_2"},
    {"name": "Add", "args": {"a": 3, "b": 4}, "id": "call_3"},
]

RAW = [  # OpenAI-style additional_kwargs["tool_calls"]
    {"id": "call_1", "type": "function", "function": {"name": "Add", "arguments": '{"a": 1, "b": 2}'}},
    {"id": "call_2", "type": "function", "function": {"name": "search", "arguments": ""}},
]


def _tool_message(fw):
    return fw.AIMessage(content="", tool_calls=CALLS)


def _raw_message(fw, raw=RAW):
    return fw.AIMessage(content="", additional_kwargs={"tool_calls": raw})


OPTIONS = [{}, {"return_id": True}, {"first_tool_only": True}, {"first_tool_only": True, "return_id": True}]


@pytest.mark.parametrize("kwargs", OPTIONS)
@pytest.mark.parametrize("message", [_tool_message, _raw_message, lambda fw: fw.AIMessage(content="hi")])
def test_json_output_tools_parser_invoke(message, kwargs):
    lc, hc = both(lambda fw: ot(fw).JsonOutputToolsParser(**kwargs).invoke(message(fw)))
    assert lc == hc


@pytest.mark.parametrize("kwargs", OPTIONS)
@pytest.mark.parametrize("key", ["Add", "search", "missing"])
@pytest.mark.parametrize("message", [_tool_message, _raw_message, lambda fw: fw.AIMessage(content="hi")])
def test_json_output_key_tools_parser_invoke(message, key, kwargs):
    lc, hc = both(lambda fw: ot(fw).JsonOutputKeyToolsParser(key_name=key, **kwargs).invoke(message(fw)))
    assert lc == hc


@pytest.mark.parametrize("first_tool_only", [False, True])
@pytest.mark.parametrize("message", [_tool_message, lambda fw: fw.AIMessage(content="hi")])
def test_pydantic_tools_parser_invoke(message, first_tool_only):
    lc, hc = both(lambda fw: ot(fw).PydanticToolsParser(tools=[Add, Titled], first_tool_only=first_tool_only)
                  .invoke(message(fw)))
    assert lc == hc
    if message is _tool_message:
        assert (hc if first_tool_only else hc[0]) == Add(a=1, b=2)


def test_pydantic_v1_tools():
    import pydantic.v1

    class Sub(pydantic.v1.BaseModel):
        a: int

    calls = [{"name": "Sub", "args": {"a": 1}, "id": "1"}, {"name": "Sub", "args": {"a": "x"}, "id": "2"}]
    lc, hc = both(lambda fw: ot(fw).PydanticToolsParser(tools=[Sub]).invoke(fw.AIMessage(content="", tool_calls=calls[:1])))
    assert lc == hc == [Sub(a=1)]
    lc, hc = both(lambda fw: raised(lambda: ot(fw).PydanticToolsParser(tools=[Sub]).invoke(
        fw.AIMessage(content="", tool_calls=calls))))
    assert lc[:2] == hc[:2] == ("raised", "ValidationError")


@pytest.mark.parametrize("calls, tools", [
    ([{"name": "Add", "args": {"a": "x", "b": 2}, "id": "1"}], [Add]),  # does not validate
    ([{"name": "Other", "args": {}, "id": "1"}], [Add, Titled]),  # unknown tool
    ([{"name": "Other", "args": {}, "id": "1"}], []),  # no tools at all
])
def test_pydantic_tools_parser_errors(calls, tools):
    def scenario(fw):
        parser = ot(fw).PydanticToolsParser(tools=tools)
        return raised(lambda: parser.invoke(fw.AIMessage(content="", tool_calls=calls)))

    lc, hc = both(scenario)
    assert lc[:2] == hc[:2]
    assert lc[1] in ("ValidationError", "OutputParserException")
    if lc[1] == "OutputParserException":
        assert unlinked(lc[2]) == hc[2]


def test_invalid_openai_arguments_raise_the_same_error():
    raw = [{"id": "c", "function": {"name": "Add", "arguments": '{"a": 1'}},
           {"id": "d", "function": {"name": "Add", "arguments": "nope"}}]

    def scenario(fw):
        parser = ot(fw).JsonOutputToolsParser()
        return raised(lambda: parser.invoke(_bare(fw, raw)))

    lc, hc = both(scenario)
    assert lc[:2] == hc[:2] == ("raised", "OutputParserException")
    assert unlinked(lc[2]) == hc[2]


def _bare(fw, raw):
    """An AIMessage whose ``additional_kwargs`` carry ``raw`` but whose
    ``tool_calls`` stay empty (set after construction, as a cached message)."""
    message = fw.AIMessage(content="")
    message.additional_kwargs = {"tool_calls": raw}
    message.tool_calls = []
    message.invalid_tool_calls = []
    return message


@pytest.mark.parametrize("partial", [False, True])
@pytest.mark.parametrize("return_id", [False, True])
@pytest.mark.parametrize("arguments", ['{"a": 1, "b": 2}', '{"a": 1, "b": ', "", None, '{"s": "x\ny"}'])
def test_parse_tool_call_helpers(arguments, return_id, partial):
    raw = {"id": "c1", "function": {"name": "Add", "arguments": arguments}}

    def scenario(fw):
        m = ot(fw)
        out = []
        for strict in (False, True):
            try:
                out.append(m.parse_tool_call(raw, partial=partial, strict=strict, return_id=return_id))
            except Exception as e:  # noqa: BLE001
                out.append((type(e).__name__, unlinked(str(e))))
            try:
                out.append(m.parse_tool_calls([raw, {"id": "x"}], partial=partial, strict=strict, return_id=return_id))
            except Exception as e:  # noqa: BLE001
                out.append((type(e).__name__, unlinked(str(e))))
        out.append(m.make_invalid_tool_call(raw, "bad"))
        return out

    lc, hc = both(scenario)
    assert lc == hc


def _chunks(fw):
    """Two tool calls streamed as OpenAI does: name and id first, then the
    JSON arguments a few characters at a time; text before them."""
    chunks = [fw.AIMessageChunk(content="Let me")]
    pieces = [(0, "Add", "call_1", ""), (0, None, None, '{"a"'), (0, None, None, ": 1, "), (0, None, None, '"b": 2'),
              (0, None, None, "}"), (1, "search", "call_2", '{"qu'), (1, None, None, 'ery": "ca'),
              (1, None, None, 'ts"}')]
    for index, name, id_, args in pieces:
        chunks.append(fw.AIMessageChunk(
            content="", tool_call_chunks=[{"name": name, "args": args, "id": id_, "index": index}]))
    return chunks


STREAM_PARSERS = [
    ("JsonOutputToolsParser", {}),
    ("JsonOutputToolsParser", {"return_id": True}),
    ("JsonOutputToolsParser", {"first_tool_only": True}),
    ("JsonOutputKeyToolsParser", {"key_name": "search"}),
    ("JsonOutputKeyToolsParser", {"key_name": "Add", "first_tool_only": True, "return_id": True}),
    ("PydanticToolsParser", {"tools": [Add, Titled]}),
    ("PydanticToolsParser", {"tools": [Add, Titled], "first_tool_only": True}),
]


@pytest.mark.parametrize("cls, kwargs", STREAM_PARSERS)
def test_streamed_tool_call_chunks(cls, kwargs):
    lc, hc = both(lambda fw: list(getattr(ot(fw), cls)(**kwargs).transform(iter(_chunks(fw)))))
    assert lc == hc
    assert len(hc) > 1 or kwargs.get("first_tool_only")  # the calls grow while streaming


@pytest.mark.parametrize("cls, kwargs", STREAM_PARSERS[:2] + STREAM_PARSERS[5:6])
def test_astreamed_tool_call_chunks(cls, kwargs):
    async def scenario(fw):
        async def chunks():
            for chunk in _chunks(fw):
                yield chunk

        return (await collect(getattr(ot(fw), cls)(**kwargs).atransform(chunks())))

    lc, hc = both(scenario)
    assert lc == hc


def test_text_generation_is_rejected():
    def scenario(fw):
        return raised(lambda: ot(fw).JsonOutputToolsParser().invoke("not a message"))

    lc, hc = both(scenario)
    assert lc[:2] == hc[:2] == ("raised", "OutputParserException")


def test_final_tool_calls_json_roundtrip():
    """The streamed result ends where ``invoke`` on the whole message does."""
    streamed = list(hc_ot.JsonOutputToolsParser().transform(iter(_chunks(HC))))
    assert streamed[-1] == [{"type": "Add", "args": {"a": 1, "b": 2}}, {"type": "search", "args": {"query": "cats"}}]
    assert json.loads(json.dumps(streamed[-1])) == streamed[-1]


def test_model_pipe_parser_streams_the_tool_calls():
    """hookchain's ``GenericFakeChatModel`` streams tool-call chunks (LangChain's
    drops them: README), so ``model | parser`` streams the calls and ends with
    what ``invoke`` returns."""
    from hookchain.language_models.fake_chat_models import GenericFakeChatModel

    def chain():
        model = GenericFakeChatModel(messages=iter([HC.AIMessage(content="ok", tool_calls=CALLS)]))
        return model | hc_ot.PydanticToolsParser(tools=[Add, Titled])

    streamed = list(chain().stream("hi"))
    assert streamed[-1] == chain().invoke("hi") == [Add(a=1, b=2), Titled(query="cats"), Add(a=3, b=4)]
    assert len(streamed) > 1
