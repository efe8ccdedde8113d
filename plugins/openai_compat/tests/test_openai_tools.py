"""bind_tools and with_structured_output of ChatOpenAI, as langchain-openai's:
what they bind, the request the scripted fake server receives, how answers
are parsed. (Against the real LiteLLM proxy: test_openai_e2e.py.)"""

from __future__ import annotations

import asyncio
import json
import warnings
from typing import Optional

import pytest
from pydantic import BaseModel, Field, ValidationError
from typing_extensions import TypedDict

import hookchain
from hookchain.errors import OutputParserException
from hookchain.messages import AIMessage, HumanMessage, ToolMessage
from hookchain.tools import tool
from hookchain_openai import ChatOpenAI, errors
from hookchain_openai.structured import response_format

from .conftest import Reply, completion, text_chunks


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


class Person(BaseModel):
    """A person."""

    name: str = Field(description="first name")
    age: int


class PersonDict(TypedDict):
    """A person."""

    name: str
    age: int


PERSON_SCHEMA = {"title": "Person", "description": "A person.", "type": "object",
                 "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}, "required": ["name", "age"]}
ADD_TOOL = {"type": "function", "function": {
    "name": "add", "description": "Add two integers.",
    "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}}}


def make(server=None, model="m", **options):
    base_url = server.base_url if server is not None else "http://127.0.0.1:9/v1"
    return hookchain.get_model("openai", base_url=base_url, model=model, api_key="sk-tools-test", retry_backoff=0.01, **options)


def tool_call_completion(name, arguments, *, call_id="call_1", content=None):
    body = completion("")
    body["choices"][0]["message"] = {"role": "assistant", "content": content, "tool_calls": [
        {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}]}
    body["choices"][0]["finish_reason"] = "tool_calls"
    return body


# -- bind_tools: what is bound ---------------------------------------------------- #


def test_bind_tools_converts_each_tool():
    bound = make().bind_tools([add, Person, PersonDict, PERSON_SCHEMA, ADD_TOOL])
    names = [t["function"]["name"] for t in bound.kwargs["tools"]]
    assert names == ["add", "Person", "PersonDict", "Person", "add"]
    assert bound.kwargs["tools"][0] == ADD_TOOL  # a @tool as the OpenAI tool dict it stands for
    assert bound.kwargs["tools"][4] is ADD_TOOL  # an OpenAI tool dict is sent as it is
    assert set(bound.kwargs) == {"tools"}  # no tool_choice, no strict, no parallel_tool_calls unless asked
    assert bound.bound.model == "m"


@pytest.mark.parametrize("choice, sent", [
    ("add", {"type": "function", "function": {"name": "add"}}),
    ("any", "required"),
    (True, "required"),
    ("required", "required"),
    ("auto", "auto"),
    ("none", "none"),
    ({"type": "function", "function": {"name": "add"}}, {"type": "function", "function": {"name": "add"}}),
])
def test_tool_choice_as_langchain_openai(choice, sent):
    assert make().bind_tools([add], tool_choice=choice).kwargs["tool_choice"] == sent


@pytest.mark.parametrize("choice", [None, False, ""])
def test_no_tool_choice(choice):
    assert "tool_choice" not in make().bind_tools([add], tool_choice=choice).kwargs


def test_bad_tool_choice_is_a_clear_error():
    # langchain-openai sends an unknown string and the server rejects it; here it is caught before
    with pytest.raises(ValueError, match=r"tool_choice 'multiply' is neither a bound tool \(add\) nor one of 'auto'"):
        make().bind_tools([add], tool_choice="multiply")
    with pytest.raises(ValueError, match="Unrecognized tool_choice type. Expected str, bool or dict. Received: 3"):
        make().bind_tools([add], tool_choice=3)


def test_strict_and_parallel_tool_calls():
    bound = make().bind_tools([add], strict=True, parallel_tool_calls=False, temperature=0)
    function = bound.kwargs["tools"][0]["function"]
    assert function["strict"] is True and function["parameters"]["additionalProperties"] is False
    assert bound.kwargs["parallel_tool_calls"] is False and bound.kwargs["temperature"] == 0
    assert make().bind_tools([add], strict=False).kwargs["tools"][0]["function"]["strict"] is False


# -- bind_tools: the request and the answer ----------------------------------------- #


def test_request_carries_the_tools_and_the_answer_its_calls(fake_server, recorder):
    fake_server.script("m", Reply(body=tool_call_completion("add", '{"a": 2, "b": 3}')))
    message = make(fake_server).bind_tools([add], tool_choice="add").invoke("2 + 3?", config={"callbacks": [recorder]})
    body = fake_server.requests[-1]["body"]
    assert body["tools"] == [ADD_TOOL] and body["tool_choice"] == {"type": "function", "function": {"name": "add"}}
    assert message.tool_calls == [{"name": "add", "args": {"a": 2, "b": 3}, "id": "call_1", "type": "tool_call"}]
    assert message.content == "" and message.response_metadata["finish_reason"] == "tool_calls"
    # handlers see the bound tools among the call's options, as LangChain's
    assert recorder.of("on_chat_model_start")[0][4]["invocation_params"]["tools"] == [ADD_TOOL]


def test_arguments_that_are_not_json_are_invalid_tool_calls(fake_server):
    fake_server.script("m", Reply(body=tool_call_completion("add", '{"a": 2, "b"')))
    message = make(fake_server).bind_tools([add]).invoke("2 + 3?")
    assert message.tool_calls == []
    (bad,) = message.invalid_tool_calls
    assert (bad["name"], bad["args"], bad["id"], bad["type"]) == ("add", '{"a": 2, "b"', "call_1", "invalid_tool_call")
    assert bad["error"].startswith("arguments are not JSON")


def test_a_whole_tool_loop_and_the_wire_format_of_its_messages(fake_server):
    fake_server.script("m", Reply(body=tool_call_completion("add", '{"a": 2, "b": 3}')), Reply(body=completion("2 + 3 = 5")))
    model = make(fake_server).bind_tools([add])
    history = [HumanMessage("What is 2 + 3?")]
    call = model.invoke(history)
    history.append(call)
    for tool_call in call.tool_calls:
        answer = add.invoke(tool_call)
        assert isinstance(answer, ToolMessage) and answer.tool_call_id == "call_1" and answer.content == "5"
        history.append(answer)
    final = model.invoke(history)
    assert final.content == "2 + 3 = 5" and not final.tool_calls
    sent = fake_server.requests[-1]["body"]["messages"]
    assert sent == [
        {"role": "user", "content": "What is 2 + 3?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 2, "b": 3}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "5"},
    ]
    assert fake_server.requests[-1]["body"]["tools"] == [ADD_TOOL]


def _tool_call_events(pieces, *, name="add", call_id="call_s"):
    base = {"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1, "model": "s"}
    first = {"index": 0, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
    events = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": None, "tool_calls": [first]}}]}]
    events += [{**base, "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": p}}]}}]}
               for p in pieces]
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    return [*events, "[DONE]"]


def test_streamed_tool_calls_add_up(fake_server):
    fake_server.script("s", Reply(events=_tool_call_events(['{"a"', ': 2, "b":', " 3}"])))
    bound = make(fake_server, "s").bind_tools([add])
    chunks = list(bound.stream("2 + 3?"))
    assert [c.tool_call_chunks[0]["args"] for c in chunks[:4]] == ["", '{"a"', ': 2, "b":', " 3}"]
    assert [c.tool_call_chunks[0]["name"] for c in chunks[:4]] == ["add", None, None, None]
    total = chunks[0] + chunks[1:]
    assert total.tool_calls == [{"name": "add", "args": {"a": 2, "b": 3}, "id": "call_s", "type": "tool_call"}]
    assert fake_server.requests[-1]["body"]["tools"] == [ADD_TOOL]
    # partial sums parse as far as they go, as LangChain's
    assert (chunks[0] + chunks[1:3]).tool_calls[0]["args"] == {"a": 2}


def test_streamed_bad_arguments_are_invalid_tool_calls(fake_server):
    fake_server.script("s", Reply(events=_tool_call_events(['{"a": 2, ', '"b": [}'])))
    chunks = list(make(fake_server, "s").bind_tools([add]).stream("2 + 3?"))
    total = chunks[0] + chunks[1:]
    assert total.tool_calls == [] and total.invalid_tool_calls[0]["args"] == '{"a": 2, "b": [}'


# -- with_structured_output ---------------------------------------------------------- #


def test_response_format_as_langchain_openai():
    expected = {"type": "json_schema", "json_schema": {
        "name": "Person", "description": "A person.", "strict": False,
        "schema": {"type": "object", "properties": {"name": {"type": "string", "description": "first name"}, "age": {"type": "integer"}},
                   "required": ["name", "age"]}}}
    assert response_format(Person) == expected
    strict = response_format(Person, strict=True)["json_schema"]
    assert strict["strict"] is True and strict["schema"]["additionalProperties"] is False
    assert response_format(PersonDict)["json_schema"]["schema"]["properties"] == {"name": {"type": "string"}, "age": {"type": "integer"}}
    assert response_format(PERSON_SCHEMA)["json_schema"]["name"] == "Person"
    given = {"name": "p", "schema": {"type": "object"}}
    assert response_format(given) == {"type": "json_schema", "json_schema": given}
    whole = {"type": "json_schema", "json_schema": {"name": "p", "schema": {}, "strict": True}}
    assert response_format(whole) is whole
    with pytest.raises(ValueError, match="already has 'strict' set to True, but with_structured_output got strict=False"):
        response_format(whole, strict=False)


def test_json_schema_is_the_default(fake_server):
    fake_server.script("m", Reply(body=completion('{"name": "Ada", "age": 36}')))
    person = make(fake_server).with_structured_output(Person).invoke("Who?")
    assert person == Person(name="Ada", age=36)
    body = fake_server.requests[-1]["body"]
    assert body["response_format"] == response_format(Person) and "tools" not in body
    as_dict = make(fake_server).with_structured_output(PERSON_SCHEMA, strict=True).invoke("Who?")
    assert as_dict == {"name": "Ada", "age": 36}
    assert fake_server.requests[-1]["body"]["response_format"]["json_schema"]["strict"] is True


def test_json_mode(fake_server):
    fake_server.script("m", Reply(body=completion('{"name": "Ada", "age": 36}')))
    assert make(fake_server).with_structured_output(Person, method="json_mode").invoke("Who?") == Person(name="Ada", age=36)
    assert fake_server.requests[-1]["body"]["response_format"] == {"type": "json_object"}
    assert make(fake_server).with_structured_output(None, method="json_mode").invoke("Who?") == {"name": "Ada", "age": 36}


def test_function_calling(fake_server):
    fake_server.script("m", Reply(body=tool_call_completion("Person", '{"name": "Ada", "age": 36}')))
    assert make(fake_server).with_structured_output(Person, method="function_calling").invoke("Who?") == Person(name="Ada", age=36)
    body = fake_server.requests[-1]["body"]
    assert [t["function"]["name"] for t in body["tools"]] == ["Person"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "Person"}}
    assert body["parallel_tool_calls"] is False and "response_format" not in body
    typed = make(fake_server).with_structured_output(PersonDict, method="function_calling", strict=True)
    assert typed.invoke("Who?") is None  # the model called another tool than PersonDict (as LangChain's key parser)
    fake_server.script("m", Reply(body=tool_call_completion("PersonDict", '{"name": "Ada", "age": 36}')))
    assert typed.invoke("Who?") == {"name": "Ada", "age": 36}
    assert fake_server.requests[-1]["body"]["tools"][0]["function"]["strict"] is True


def test_parse_failures_and_include_raw(fake_server):
    fake_server.script("m", Reply(body=completion("not JSON at all")))
    model = make(fake_server)
    for method in ("json_schema", "json_mode"):
        with pytest.raises(OutputParserException):
            model.with_structured_output(Person, method=method).invoke("Who?")
    out = model.with_structured_output(Person, include_raw=True).invoke("Who?")
    assert set(out) == {"raw", "parsed", "parsing_error"}
    assert out["raw"].content == "not JSON at all" and out["parsed"] is None
    assert isinstance(out["parsing_error"], OutputParserException)

    fake_server.script("m", Reply(body=completion('{"name": "Ada"}')))  # age missing
    with pytest.raises(OutputParserException, match="Person"):
        model.with_structured_output(Person).invoke("Who?")
    fake_server.script("m", Reply(body=tool_call_completion("Person", '{"name": "Ada"}')))
    with pytest.raises(ValidationError):  # as LangChain's PydanticToolsParser
        model.with_structured_output(Person, method="function_calling").invoke("Who?")
    ok = model.with_structured_output(Person, method="function_calling", include_raw=True).invoke("Who?")
    assert ok["parsed"] is None and isinstance(ok["parsing_error"], ValidationError)
    assert ok["raw"].tool_calls[0]["args"] == {"name": "Ada"}


def test_a_refusal(fake_server):
    body = completion("")
    body["choices"][0]["message"] = {"role": "assistant", "content": None, "refusal": "I can't help with that."}
    fake_server.script("m", Reply(body=body))
    with pytest.raises(errors.OpenAIRefusalError, match="refused to answer in the Person format: I can't help"):
        make(fake_server).with_structured_output(Person).invoke("Who?")


def test_streaming_structured_output(fake_server):
    fake_server.script("s", Reply(events=[*text_chunks('{"name": "Ada", "age": 36}', size=5), "[DONE]"]))
    model = make(fake_server, "s")
    partial = list(model.with_structured_output(PERSON_SCHEMA).stream("Who?"))
    assert partial[-1] == {"name": "Ada", "age": 36} and len(partial) > 2 and partial[1] == {"name": ""}
    # a pydantic schema with json_schema arrives whole, as langchain-openai's
    assert list(model.with_structured_output(Person).stream("Who?")) == [Person(name="Ada", age=36)]

    async def main():
        return [p async for p in model.with_structured_output(PERSON_SCHEMA).astream("Who?")]

    assert asyncio.run(main()) == partial


def test_structured_output_argument_errors():
    model = make()
    with pytest.raises(ValueError, match="Unrecognized method argument. Expected one of 'json_schema', 'function_calling', 'json_mode'"):
        model.with_structured_output(Person, method="xml")
    with pytest.raises(ValueError, match="`strict` is not supported with `method`='json_mode'"):
        model.with_structured_output(Person, method="json_mode", strict=True)
    with pytest.raises(ValueError, match="schema must be specified when method is not 'json_mode'"):
        model.with_structured_output(None)
    with pytest.raises(ValueError, match="tools= works with method='json_schema' only"):
        model.with_structured_output(Person, method="function_calling", tools=[add])


def test_json_schema_falls_back_to_function_calling_as_langchain_openai():
    from pydantic.v1 import BaseModel as BaseModelV1

    class Old(BaseModelV1):
        name: str

    with pytest.warns(UserWarning, match="Pydantic BaseModel V1"):
        chain = make().with_structured_output(Old)
    assert chain.first.kwargs["tool_choice"] == {"type": "function", "function": {"name": "Old"}}
    with pytest.warns(UserWarning, match="Cannot use method='json_schema' with model gpt-4"):
        chain = make(model="gpt-4").with_structured_output(Person)
    assert "tools" in chain.first.kwargs and "response_format" not in chain.first.kwargs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "response_format" in make(model="gpt-4o").with_structured_output(Person).first.kwargs


def test_json_schema_with_tools(fake_server):
    fake_server.script("m", Reply(body=tool_call_completion("add", '{"a": 2, "b": 3}')))
    out = make(fake_server).with_structured_output(Person, tools=[add], strict=True, include_raw=True).invoke("2 + 3?")
    assert out["parsed"] is None and out["parsing_error"] is None and out["raw"].tool_calls[0]["name"] == "add"
    body = fake_server.requests[-1]["body"]
    assert body["tools"][0]["function"]["strict"] is True and body["response_format"]["json_schema"]["strict"] is True


@pytest.mark.parametrize("method", ["json_schema", "function_calling", "json_mode"])
@pytest.mark.parametrize("api", ["invoke", "stream"])
def test_handlers_see_the_structured_output_format_the_server_does_not(fake_server, recorder, method, api):
    answer = tool_call_completion("Person", '{"name": "Ada", "age": 36}') if method == "function_calling" else \
        completion('{"name": "Ada", "age": 36}')
    fake_server.script("m", Reply(body=answer))
    if api == "stream":
        fake_server.script("m", Reply(events=[*text_chunks('{"name": "Ada", "age": 36}'), "[DONE]"]))
    structured = make(fake_server).with_structured_output(Person, method=method)
    if api == "stream":
        list(structured.stream("Who?", config={"callbacks": [recorder]}))
    else:
        structured.invoke("Who?", config={"callbacks": [recorder]})
    assert all("ls_structured_output_format" not in r["body"] for r in fake_server.requests)
    traced = recorder.of("on_chat_model_start")[0][4]["options"]["ls_structured_output_format"]
    assert traced["kwargs"] == ({"method": "json_mode"} if method == "json_mode" else {"method": method, "strict": None})
    assert traced["schema"]["title"] == "Person" or traced["schema"]["function"]["name"] == "Person"
