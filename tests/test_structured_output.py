"""``bind_tools`` / ``with_structured_output`` on hookchain's own models: the
errors a model author sees, the fakes' ``bind_tools`` (a hookchain addition)
and structured output over scripted tool calls. The comparison with
langchain-core is in tests/differential/test_tool_calling.py."""

from __future__ import annotations

import json
from typing import Optional

import pydantic
import pytest
from typing_extensions import TypedDict

from hookchain.errors import OutputParserException
from hookchain.language_models import BaseChatModel
from hookchain.language_models.fake_chat_models import FakeMessagesListChatModel, GenericFakeChatModel
from hookchain.messages import AIMessage, ToolMessage
from hookchain.outputs import ChatGeneration, ChatResult
from hookchain.tools import tool


class Person(pydantic.BaseModel):
    """A person."""

    name: str
    age: int


class PersonDict(TypedDict):
    """A person."""

    name: str
    age: int


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def _call(name="Person", args=None, call_id="call_1"):
    return {"name": name, "args": {"name": "Ada", "age": 36} if args is None else args, "id": call_id}


def _fake(*messages):
    return GenericFakeChatModel(messages=iter(list(messages)))


class Plain(BaseChatModel):
    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        return ChatResult(generations=[ChatGeneration(AIMessage("hi"))])

    @property
    def _llm_type(self):
        return "plain"


def test_bind_tools_not_implemented_names_the_model_and_the_fix():
    with pytest.raises(NotImplementedError) as info:
        Plain().bind_tools([add])
    message = str(info.value)
    assert message.startswith("Plain does not support tool calling: Plain.bind_tools is not implemented.")
    assert "convert_to_openai_tool" in message and "self.bind(tools=[...], tool_choice=tool_choice, **kwargs)" in message
    assert "\n" not in message


def test_with_structured_output_needs_bind_tools():
    with pytest.raises(NotImplementedError, match="with_structured_output is not implemented for Plain: implement bind_tools"):
        Plain().with_structured_output(Person)


def test_with_structured_output_rejects_unknown_arguments_before_anything_else():
    with pytest.raises(ValueError, match=r"Received unsupported arguments \{'temperature': 0\}: with_structured_output takes"):
        Plain().with_structured_output(Person, temperature=0)


@pytest.mark.parametrize("fake", ["generic", "messages_list"])
def test_fakes_bind_tools_as_call_options(fake):
    message = AIMessage("", tool_calls=[_call("add", {"a": 1, "b": 2})])
    model = _fake(message) if fake == "generic" else FakeMessagesListChatModel(responses=[message])
    bound = model.bind_tools([add, Person], tool_choice="add")
    assert [t["function"]["name"] for t in bound.kwargs["tools"]] == ["add", "Person"]
    assert bound.kwargs["tool_choice"] == "add"
    assert "tool_choice" not in model.bind_tools([add]).kwargs  # only when given
    answer = bound.invoke("1 + 2?")
    assert answer.tool_calls == [{"name": "add", "args": {"a": 1, "b": 2}, "id": "call_1", "type": "tool_call"}]
    assert add.invoke(answer.tool_calls[0]) == ToolMessage("3", tool_call_id="call_1", name="add")


def test_fake_tool_calls_stream_as_chunks_and_add_up():
    model = _fake(AIMessage("on it", tool_calls=[_call("add", {"a": 1, "b": 2})]))
    chunks = list(model.bind_tools([add]).stream("1 + 2?"))
    assert [c.tool_call_chunks for c in chunks if c.tool_call_chunks] == [[
        {"name": "add", "args": '{"a": 1, "b": 2}', "id": "call_1", "index": 0, "type": "tool_call_chunk"}]]
    total = chunks[0]
    for c in chunks[1:]:
        total = total + c
    assert total.tool_calls[0]["args"] == {"a": 1, "b": 2}


@pytest.mark.parametrize("schema, expected", [
    (Person, Person(name="Ada", age=36)),
    (PersonDict, {"name": "Ada", "age": 36}),
    ({"title": "Person", "type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}},
     {"name": "Ada", "age": 36}),
])
def test_structured_output_on_a_fake(schema, expected):
    name = getattr(schema, "__name__", "Person")
    calls = [AIMessage("", tool_calls=[_call(name)]) for _ in range(2)]
    structured = _fake(*calls).with_structured_output(schema)
    assert structured.invoke("who?") == expected
    assert list(structured.stream("who?"))[-1] == expected
    other = _fake(AIMessage("", tool_calls=[_call("Unrelated")])).with_structured_output(schema)
    if schema is Person:  # another tool's call: an error for a pydantic schema, as LangChain
        with pytest.raises(OutputParserException):
            other.invoke("who?")
    else:  # no call of the schema's name: None, as LangChain's JsonOutputKeyToolsParser
        assert other.invoke("who?") is None


def test_structured_output_parse_failures():
    wrong_tool = _fake(AIMessage("", tool_calls=[_call("Other")]))
    with pytest.raises(OutputParserException, match="Unknown tool type: 'Other'. Available tools: Person"):
        wrong_tool.with_structured_output(Person).invoke("who?")
    bad_args = _fake(AIMessage("", tool_calls=[_call(args={"name": "Ada", "age": "old"})]))
    with pytest.raises(pydantic.ValidationError):
        bad_args.with_structured_output(Person).invoke("who?")
    assert _fake(AIMessage("no tool")).with_structured_output(Person).invoke("who?") is None


def test_include_raw_holds_the_parse_error():
    message = AIMessage("", tool_calls=[_call(args={"name": "Ada", "age": "old"})])
    out = _fake(message).with_structured_output(Person, include_raw=True).invoke("who?")
    assert set(out) == {"raw", "parsed", "parsing_error"}
    assert out["raw"].tool_calls == message.tool_calls and out["parsed"] is None
    assert isinstance(out["parsing_error"], pydantic.ValidationError)
    ok = _fake(AIMessage("", tool_calls=[_call()])).with_structured_output(Person, include_raw=True).invoke("who?")
    assert ok["parsed"] == Person(name="Ada", age=36) and ok["parsing_error"] is None


def test_structured_output_format_never_reaches_the_model():
    """ls_structured_output_format goes to on_chat_model_start's options only."""
    seen: dict = {}

    class Recording(GenericFakeChatModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            seen["kwargs"] = sorted(kwargs)
            return super()._generate(messages, stop, run_manager, **kwargs)

    from hookchain.callbacks import BaseCallbackHandler

    class Options(BaseCallbackHandler):
        def on_chat_model_start(self, serialized, messages, **kwargs):
            seen["options"] = kwargs["options"]
            seen["params"] = sorted(kwargs["invocation_params"])

    structured = Recording(messages=iter([AIMessage("", tool_calls=[_call()])])).with_structured_output(Person)
    structured.invoke("who?", {"callbacks": [Options()]})
    assert seen["kwargs"] == ["tool_choice", "tools"]
    assert "ls_structured_output_format" not in seen["params"]
    fmt = seen["options"]["ls_structured_output_format"]
    assert fmt["kwargs"] == {"method": "function_calling"}
    assert fmt["schema"] == {"title": "Person", "description": "A person.", "type": "object", "required": ["name", "age"],
                             "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}}
    assert json.dumps(seen["options"])  # plain JSON, for handlers that store it


def test_structured_output_of_an_optional_field():
    class Maybe(pydantic.BaseModel):
        name: str
        nickname: Optional[str] = None

    out = _fake(AIMessage("", tool_calls=[_call("Maybe", {"name": "Ada"})])).with_structured_output(Maybe).invoke("x")
    assert out == Maybe(name="Ada")
