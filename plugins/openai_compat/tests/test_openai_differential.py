"""The plugin's tool-calling mapping against langchain-core 1.7.2 (installed;
langchain-openai is not): what langchain-openai builds on langchain_core, the
plugin builds on hookchain, and both must agree.

* streamed ``tool_call_chunks`` add up as langchain_core's ``AIMessageChunk`` +;
* a completion's ``tool_calls`` / ``invalid_tool_calls`` are what
  langchain_core's ``parse_tool_call`` / ``make_invalid_tool_call`` give
  (langchain-openai's ``_convert_dict_to_message`` uses those);
* the tools ``bind_tools`` sends are langchain_core's ``convert_to_openai_tool``;
* messages going out match langchain_core's ``convert_to_openai_messages``,
  except the documented ``content: None`` of an assistant message with tool
  calls (langchain-openai's ``_convert_message_to_dict`` sends ``None`` too).
"""

from __future__ import annotations

import json
from functools import reduce
from operator import add as plus

import pytest

lc_messages = pytest.importorskip("langchain_core.messages")
from langchain_core.output_parsers.openai_tools import make_invalid_tool_call, parse_tool_call  # noqa: E402
from langchain_core.tools import tool as lc_tool  # noqa: E402
from langchain_core.utils.function_calling import convert_to_openai_tool as lc_convert_to_openai_tool  # noqa: E402
from pydantic import BaseModel  # noqa: E402
from typing_extensions import TypedDict  # noqa: E402

from hookchain.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage  # noqa: E402
from hookchain.tools import tool  # noqa: E402
from hookchain_openai import ChatOpenAI  # noqa: E402
from hookchain_openai.convert import StreamState, messages_to_openai, result_from_completion  # noqa: E402

BASE = {"id": "chatcmpl-d", "object": "chat.completion.chunk", "created": 1, "model": "m"}


def delta(tool_calls=None, finish=None, **d):
    if tool_calls is not None:
        d["tool_calls"] = tool_calls
    return {**BASE, "choices": [{"index": 0, "delta": d, "finish_reason": finish}]}


def call_delta(index, arguments, call_id=None, name=None):
    out = {"index": index, "function": {"arguments": arguments}}
    if call_id:
        out.update(id=call_id, type="function")
        out["function"]["name"] = name
    return out


STREAMS = {
    "one call in pieces": [
        delta([call_delta(0, "", "call_a", "add")], role="assistant", content=None),
        delta([call_delta(0, '{"a"')]), delta([call_delta(0, ": 2, ")]), delta([call_delta(0, '"b": 3}')]),
        delta(finish="tool_calls"),
    ],
    "two calls, interleaved": [
        delta([call_delta(0, '{"ci', "call_a", "get_weather"), call_delta(1, "", "call_b", "get_time")]),
        delta([call_delta(1, '{"tz": "CET"}')]), delta([call_delta(0, 'ty": "Paris"}')]),
        delta(finish="tool_calls"),
    ],
    "text then a call": [
        delta(content="Let me add. "), delta([call_delta(0, '{"a": 1, "b": 2}', "call_c", "add")]),
        delta(finish="tool_calls"),
    ],
    "arguments that never become JSON": [
        delta([call_delta(0, '{"a": 2, ', "call_d", "add")]), delta([call_delta(0, '"b": [}')]),
        delta(finish="tool_calls"),
    ],
    "no arguments": [delta([call_delta(0, "", "call_e", "now")]), delta(finish="tool_calls")],
}


def as_lc(chunk):
    message = chunk.message
    return lc_messages.AIMessageChunk(content=message.content, tool_call_chunks=[dict(c) for c in message.tool_call_chunks])


def view(message):
    return {"content": message.content, "tool_call_chunks": [dict(c) for c in message.tool_call_chunks],
            "tool_calls": [dict(c) for c in message.tool_calls],
            "invalid_tool_calls": [dict(c) for c in message.invalid_tool_calls]}


@pytest.mark.parametrize("name", list(STREAMS))
def test_tool_call_chunks_add_up_as_langchain_core(name):
    state = StreamState()
    chunks = [c for c in (state.convert(e) for e in STREAMS[name]) if c is not None]
    lc_chunks = [as_lc(c) for c in chunks]
    for end in range(1, len(chunks) + 1):  # every partial sum, not only the whole
        ours = reduce(plus, [c.message for c in chunks[:end]])
        theirs = reduce(plus, lc_chunks[:end])
        assert view(ours) == view(theirs), f"after {end} chunk(s)"


RAW_CALLS = [
    {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 2, "b": 3}'}},
    {"id": "call_2", "type": "function", "function": {"name": "now", "arguments": ""}},
    {"id": "call_3", "type": "function", "function": {"name": "say", "arguments": '{"text": "caf\\u00e9 \\u2615"}'}},
    {"id": "call_4", "type": "function", "function": {"name": "add", "arguments": '{"a": 2,'}},
]


def test_completion_tool_calls_as_langchain_core_parses_them():
    body = {"id": "chatcmpl-x", "object": "chat.completion", "created": 1, "model": "m", "choices": [
        {"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": None, "tool_calls": RAW_CALLS}}]}
    message = result_from_completion(body).generations[0].message
    expected, invalid = [], []
    for raw in RAW_CALLS:  # as langchain-openai's _convert_dict_to_message
        try:
            expected.append(parse_tool_call(raw, return_id=True))
        except Exception as e:  # noqa: BLE001
            invalid.append(make_invalid_tool_call(raw, str(e)))
    assert [dict(c) for c in message.tool_calls] == expected
    # the same call, named and placed the same; only the error text is the plugin's own
    strip = lambda calls: [{k: v for k, v in c.items() if k != "error"} for c in calls]  # noqa: E731
    assert strip(message.invalid_tool_calls) == strip(invalid)
    assert message.additional_kwargs["tool_calls"] == RAW_CALLS


class Person(BaseModel):
    """A person."""

    name: str
    age: int


class PersonDict(TypedDict):
    """A person."""

    name: str
    age: int


def test_bind_tools_sends_what_langchain_core_converts():
    @tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @lc_tool
    def lc_add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    lc_add.name = "add"
    schema = {"title": "lookup", "description": "Look up.", "type": "object", "properties": {"q": {"type": "string"}}}
    model = ChatOpenAI(api_key="k")
    for strict in (None, True, False):
        ours = model.bind_tools([add, Person, PersonDict, schema], strict=strict).kwargs["tools"]
        theirs = [lc_convert_to_openai_tool(t, strict=strict) for t in (lc_add, Person, PersonDict, schema)]
        assert ours == theirs, f"strict={strict}"


def test_messages_go_out_as_langchain_core_converts_them():
    calls = [{"name": "add", "args": {"a": 2, "b": 3}, "id": "call_1"}, {"name": "say", "args": {"text": "café"}, "id": "call_2"}]
    ours = messages_to_openai([
        SystemMessage("Use tools."), HumanMessage("2 + 3?"), AIMessage("", tool_calls=calls), AIMessage("Sure.", tool_calls=calls[:1]),
        ToolMessage("5", tool_call_id="call_1"), ToolMessage([{"type": "text", "text": "said"}], tool_call_id="call_2"), AIMessage("Done."),
    ])
    theirs = lc_messages.convert_to_openai_messages([
        lc_messages.SystemMessage("Use tools."), lc_messages.HumanMessage("2 + 3?"), lc_messages.AIMessage("", tool_calls=calls),
        lc_messages.AIMessage("Sure.", tool_calls=calls[:1]), lc_messages.ToolMessage("5", tool_call_id="call_1"),
        lc_messages.ToolMessage([{"type": "text", "text": "said"}], tool_call_id="call_2"), lc_messages.AIMessage("Done."),
    ])

    def normal(message):
        out = dict(message)
        if out.get("tool_calls"):
            # arguments compared as JSON (langchain_core escapes non-ASCII, the plugin sends it as it is)
            out["tool_calls"] = [{**c, "function": {**c["function"], "arguments": json.loads(c["function"]["arguments"])}}
                                 for c in out["tool_calls"]]
            if out["content"] in ("", None):
                out["content"] = None  # langchain-openai (and the plugin) send None; convert_to_openai_messages ""
        if isinstance(out.get("content"), list):
            out["content"] = "".join(b["text"] for b in out["content"])
        return out

    assert [normal(m) for m in ours] == [normal(m) for m in theirs]
    assert ours[2]["content"] is None and theirs[2]["content"] == ""
