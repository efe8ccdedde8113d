"""End to end against a REAL OpenAI-compatible server: the LiteLLM proxy
(``litellm_proxy`` fixture, one process for the session, answering from
``mock_response`` entries), through the official SDK, HTTP and SSE.

What the proxy really does, and these tests assert: a mock answer streams 3
characters per chunk, then a chunk with ``finish_reason``, then a usage chunk;
streamed usage differs from non-streamed usage (LiteLLM counts them
differently); ``stop`` is accepted but not applied to mock answers; an unknown
model is a 400 "Invalid model name".
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pydantic import BaseModel

import hookchain
from hookchain.callbacks import BaseCallbackHandler
from hookchain.errors import OutputParserException
from hookchain.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage
from hookchain.prompts import ChatPromptTemplate
from hookchain.tools import tool
from hookchain_openai import errors

from .conftest import MOCK_TEXT


@pytest.fixture
def model(litellm_proxy):
    return hookchain.get_model("openai", base_url=litellm_proxy.base_url, model="mock-gpt", api_key=litellm_proxy.key,
                               retry_backoff=0.01)


def _check_usage(usage):
    assert set(usage) >= {"input_tokens", "output_tokens", "total_tokens"}
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_invoke(model, recorder, litellm_proxy):
    message = model.invoke([SystemMessage("You are terse."), HumanMessage("Say hello")], config={"callbacks": [recorder]})
    assert isinstance(message, AIMessage) and message.content == MOCK_TEXT
    assert message.response_metadata["model_name"] == "mock-gpt"
    assert message.response_metadata["finish_reason"] == "stop"
    assert message.response_metadata["id"].startswith("chatcmpl-")
    _check_usage(message.usage_metadata)
    assert recorder.names() == ["on_chat_model_start", "on_llm_end"]
    params = recorder.of("on_chat_model_start")[0][4]["invocation_params"]
    assert params["model_name"] == "mock-gpt" and params["base_url"] == litellm_proxy.base_url
    assert litellm_proxy.key not in repr(recorder.events)


def test_stream_chunks_and_tokens(model, recorder):
    chunks = list(model.stream("Say hello", config={"callbacks": [recorder]}))
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    contents = [c.content for c in chunks]
    # LiteLLM's mock streams the answer 3 characters a chunk, then a finish chunk and a usage chunk
    expected = [MOCK_TEXT[i:i + 3] for i in range(0, len(MOCK_TEXT), 3)]
    assert contents == [*expected, "", ""]
    tokens = recorder.of("on_llm_new_token")
    assert len(tokens) == len(chunks) and [t[3][0] for t in tokens] == contents
    assert all(t[1] == recorder.of("on_chat_model_start")[0][1] for t in tokens)
    total = chunks[0] + chunks[1:]
    assert total.content == MOCK_TEXT
    assert total.response_metadata["finish_reason"] == "stop" and total.response_metadata["model_name"] == "mock-gpt"
    _check_usage(total.usage_metadata)
    assert [c.usage_metadata is not None for c in chunks].count(True) == 1  # on the last chunk only
    end = recorder.of("on_llm_end")[0][3][0]
    assert end.generations[0][0].message.content == MOCK_TEXT


def test_astream(model, recorder):
    async def main():
        return [c async for c in model.astream("Say hello", config={"callbacks": [recorder]})]

    chunks = asyncio.run(main())
    assert len(chunks) > 10 and "".join(c.content for c in chunks) == MOCK_TEXT
    assert len(recorder.of("on_llm_new_token")) == len(chunks)
    _check_usage((chunks[0] + chunks[1:]).usage_metadata)


def test_chain_stream_and_invoke_streaming(model, recorder):
    chain = ChatPromptTemplate.from_messages([("system", "Be brief."), ("human", "Tell me about {topic}")]) | model
    assert "".join(c.content for c in chain.stream({"topic": "bears"})) == MOCK_TEXT
    streaming = model.model_copy(update={"streaming": True})
    message = streaming.invoke("hi", config={"callbacks": [recorder]})
    assert type(message) is AIMessage and message.content == MOCK_TEXT
    assert len(recorder.of("on_llm_new_token")) > 10


class InFlight(BaseCallbackHandler):
    def __init__(self):
        self.lock, self.now, self.most = threading.Lock(), 0, 0

    def on_chat_model_start(self, serialized, messages, **kwargs):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def on_llm_end(self, response, **kwargs):
        with self.lock:
            self.now -= 1


def test_abatch_with_max_concurrency(model):
    watch = InFlight()
    inputs = [f"question {i}" for i in range(6)]
    out = asyncio.run(model.abatch(inputs, config={"max_concurrency": 2, "callbacks": [watch]}))
    assert [m.content for m in out] == [MOCK_TEXT] * 6
    assert len({m.id for m in out}) == 6
    assert watch.most == 2 and watch.now == 0


def test_stop_sequences_reach_the_server(model, recorder):
    # The proxy accepts `stop` (an unknown parameter would be rejected) but does
    # not apply it to mock answers: the answer is whole. That the request
    # carries it is checked in test_openai_model.py::test_request_body.
    message = model.invoke("hi", stop=["streamed"], config={"callbacks": [recorder]})
    assert message.content == MOCK_TEXT
    start = recorder.of("on_chat_model_start")[0][4]
    assert start["invocation_params"]["stop"] == ["streamed"] and start["options"]["stop"] == ["streamed"]
    assert "".join(c.content for c in model.stream("hi", stop=["x", "y"])) == MOCK_TEXT


def test_a_whole_conversation_with_tool_calls_is_accepted(model, litellm_proxy):
    tools = hookchain.get_model("openai", base_url=litellm_proxy.base_url, model="mock-tools", api_key=litellm_proxy.key)
    asked = [SystemMessage("Use tools."), HumanMessage("Weather in Paris?")]
    call = tools.invoke(asked)
    assert call.tool_calls == [{"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}]
    assert call.content == ""
    # the assistant's tool call and the tool's answer go back to the server
    answer = model.invoke([*asked, call, ToolMessage("18 C and sunny", tool_call_id="call_1"), HumanMessage("So?")])
    assert answer.content == MOCK_TEXT


def test_wrong_key_is_a_401_and_the_run_tree_stays_whole(litellm_proxy, recorder):
    bad = "sk-not-the-right-key-123456"
    model = hookchain.get_model("openai", base_url=litellm_proxy.base_url, model="mock-gpt", api_key=bad)
    chain = ChatPromptTemplate.from_messages([("human", "{q}")]) | model
    with pytest.raises(errors.AuthenticationError) as info:
        chain.invoke({"q": "hi"}, config={"callbacks": [recorder], "tags": ["e2e"]})
    text = str(info.value)
    assert "401" in text and litellm_proxy.base_url in text and "invalid API key" in text and "the api_key option" in text
    assert bad not in text and bad not in repr(recorder.events) and litellm_proxy.key not in repr(recorder.events)
    names = recorder.names()
    assert names == ["on_chain_start", "on_chain_start", "on_chain_end", "on_chat_model_start", "on_llm_error", "on_chain_error"]
    root = recorder.events[0][1]
    (start,) = recorder.of("on_chat_model_start")
    (llm_error,) = recorder.of("on_llm_error")
    (chain_error,) = recorder.of("on_chain_error")
    assert start[2] == root and llm_error[1] == start[1] and llm_error[2] == root
    assert llm_error[3][0] is info.value and chain_error[3][0] is info.value and chain_error[1] == root
    assert not recorder.of("on_retry")  # a bad key is not retried


def test_unknown_model(litellm_proxy):
    model = hookchain.get_model("openai", base_url=litellm_proxy.base_url, model="no-such-model", api_key=litellm_proxy.key)
    with pytest.raises(errors.ModelNotFoundError, match=r"model 'no-such-model' was not found at .* \(400\): .*Invalid model name"):
        model.invoke("hi")


def test_429_is_retried_then_reported(litellm_proxy, recorder):
    model = hookchain.get_model("openai", base_url=litellm_proxy.base_url, model="mock-rate-limited",
                                api_key=litellm_proxy.key, max_retries=2, retry_backoff=0.01)
    with pytest.raises(errors.RateLimitError, match=r"\(429\): .*mock rate limit error.*gave up after 3 attempts"):
        model.invoke("hi", config={"callbacks": [recorder]})
    assert len(recorder.of("on_retry")) == 2 and len(recorder.of("on_llm_error")) == 1


def test_5xx_is_retried_then_reported(litellm_proxy, recorder):
    model = hookchain.get_model("openai", base_url=litellm_proxy.base_url, model="mock-broken",
                                api_key=litellm_proxy.key, max_retries=1, retry_backoff=0.01)

    async def main():
        await model.ainvoke("hi", config={"callbacks": [recorder]})

    with pytest.raises(errors.ServerError, match=r"\(500\): .*mock internal server error.*gave up after 2 attempts"):
        asyncio.run(main())
    assert len(recorder.of("on_retry")) == 1


def test_stream_that_fails_before_its_first_chunk_is_retried(litellm_proxy, recorder, caplog):
    caplog.set_level("INFO", logger="hookchain_openai")
    model = hookchain.get_model("openai", base_url=litellm_proxy.base_url, model="mock-stream-error",
                                api_key=litellm_proxy.key, max_retries=1, retry_backoff=0.01)
    with pytest.raises(errors.ServerError, match=r"\(529\)"):
        list(model.stream("hi", config={"callbacks": [recorder]}))
    assert sum("retry 1 of 1" in r.getMessage() for r in caplog.records) == 1
    # hookchain hands _stream a run manager whose on_retry works (LangChain passes none).
    assert recorder.names() == ["on_chat_model_start", "on_retry", "on_llm_error"]


# -- the command line ---------------------------------------------------------- #


def _cli(*args, cwd):
    script = Path(sys.executable).with_name("hookchain")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "hookchain.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "HOOKCHAIN_"))}
    return subprocess.run([*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_cli_streams_the_answer(litellm_proxy, tmp_path):
    (tmp_path / "hookchain.toml").write_text("")  # no handlers: stdout is the answer alone
    done = _cli("run", "Tell me about {animal}", "--var", "animal=bears", "-m", "openai",
                "-o", f"base_url={litellm_proxy.base_url}", "-o", "model=mock-gpt", "-o", f"api_key={litellm_proxy.key}",
                cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == MOCK_TEXT + "\n"

    done = _cli("run", "hi", "-m", "openai-compatible", "-o", f"base_url={litellm_proxy.base_url}", "-o", "model=mock-gpt",
                "-o", "api_key=sk-wrong-key-for-the-cli", "-o", "max_retries=0", cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("Error: the server at") and "401" in done.stderr
    assert "sk-wrong-key-for-the-cli" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


# -- tools and structured output ------------------------------------------------ #
# ``mock-tool-user`` answers from the request, as a tool-using model would (the
# tool_loop pre-call hook in conftest.py): LiteLLM's own config mocks carry tool
# calls only when not streamed and cannot answer a tool's result.


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


class Person(BaseModel):
    """A person."""

    name: str
    age: int


@pytest.fixture
def tool_user(litellm_proxy):
    return hookchain.get_model("openai", base_url=litellm_proxy.base_url, model="mock-tool-user", api_key=litellm_proxy.key,
                               max_retries=0)


def test_config_mock_tool_calls_are_not_streamed(litellm_proxy):
    # What LiteLLM 1.106's mock_tool_calls do: sent in a plain answer, dropped from a stream.
    tools = hookchain.get_model("openai", base_url=litellm_proxy.base_url, model="mock-tools", api_key=litellm_proxy.key)
    assert tools.invoke("Weather?").tool_calls[0]["name"] == "get_weather"
    chunks = list(tools.stream("Weather?"))
    assert not (chunks[0] + chunks[1:]).tool_calls


def test_a_complete_tool_loop(tool_user, recorder):
    model = tool_user.bind_tools([add])
    history = [SystemMessage("Use the tools."), HumanMessage("What is 2 + 3?")]
    call = model.invoke(history, config={"callbacks": [recorder]})
    assert call.tool_calls == [{"name": "add", "args": {"a": 2, "b": 3}, "id": "call_add", "type": "tool_call"}]
    assert call.response_metadata["finish_reason"] == "tool_calls"
    history.append(call)
    for tool_call in call.tool_calls:
        history.append(add.invoke(tool_call, config={"callbacks": [recorder]}))
    assert isinstance(history[-1], ToolMessage) and history[-1].tool_call_id == "call_add" and history[-1].content == "5"
    final = model.invoke(history, config={"callbacks": [recorder]})
    assert final.content == "The answer is 5." and not final.tool_calls
    assert recorder.names() == ["on_chat_model_start", "on_llm_end", "on_tool_start", "on_tool_end",
                                "on_chat_model_start", "on_llm_end"]


def test_a_tool_loop_streamed_and_async(tool_user):
    model = tool_user.bind_tools([add], tool_choice="add")

    async def main():
        history = [HumanMessage("What is 2 + 3?")]
        chunks = [c async for c in model.astream(history)]
        call = chunks[0] + chunks[1:]
        assert any(c.tool_call_chunks for c in chunks)
        assert call.tool_calls == [{"name": "add", "args": {"a": 2, "b": 3}, "id": "call_add", "type": "tool_call"}]
        history += [call, await add.ainvoke(call.tool_calls[0])]
        return "".join([c.content async for c in model.astream(history)])

    assert asyncio.run(main()) == "The answer is 5."
    chunks = list(model.stream("What is 2 + 3?"))
    assert (chunks[0] + chunks[1:]).tool_calls[0]["args"] == {"a": 2, "b": 3}


def test_tool_choice_and_bad_arguments_reach_the_answer(tool_user):
    @tool
    def greet(name: str) -> str:
        """Greet someone."""
        return f"Hello {name}"

    # tool_choice names the second tool: the server calls it, not the first
    assert tool_user.bind_tools([add, greet], tool_choice="greet").invoke("Hi").tool_calls[0]["args"] == {"name": "Ada"}
    assert tool_user.bind_tools([add], tool_choice="none").invoke("Hi").content == "No tool called."
    message = tool_user.bind_tools([add]).invoke("Send bad arguments")
    assert message.tool_calls == [] and message.invalid_tool_calls[0]["args"] == '{"a": 2, "b":'
    chunks = list(tool_user.bind_tools([add]).stream("Send bad arguments"))
    # streamed, the truncated arguments parse as partial JSON (as langchain_core's AIMessageChunk)
    assert (chunks[0] + chunks[1:]).tool_calls[0]["args"] == {"a": 2}


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_structured_output(tool_user, method):
    assert tool_user.with_structured_output(Person, method=method).invoke("Who?") == Person(name="Ada", age=2)
    schema = {**Person.model_json_schema(), "description": "A person."}
    assert tool_user.with_structured_output(schema, method=method, strict=True).invoke("Who?") == {"name": "Ada", "age": 2}
    out = tool_user.with_structured_output(Person, method=method, include_raw=True).invoke("Who?")
    assert out["parsed"] == Person(name="Ada", age=2) and out["parsing_error"] is None and isinstance(out["raw"], AIMessage)


def test_structured_output_json_mode_and_streaming(tool_user):
    assert tool_user.with_structured_output(None, method="json_mode").invoke("Answer in JSON") == {"answer": 42}
    partial = list(tool_user.with_structured_output(Person.model_json_schema()).stream("Who?"))
    assert len(partial) > 2 and partial[-1] == {"name": "Ada", "age": 2}  # the JSON grows 3 characters a chunk
    assert list(tool_user.with_structured_output(Person, method="function_calling").stream("Who?"))[-1] == Person(name="Ada", age=2)


def test_structured_output_that_does_not_parse(model):
    # mock-gpt answers plain text, whatever the response_format
    with pytest.raises(OutputParserException):
        model.with_structured_output(Person).invoke("Who?")
    out = model.with_structured_output(Person, include_raw=True).invoke("Who?")
    assert out["raw"].content == MOCK_TEXT and out["parsed"] is None and isinstance(out["parsing_error"], OutputParserException)
