"""The wire mapping, without a server: messages -> request dicts, recorded
responses and stream chunks -> messages, usage."""

from __future__ import annotations

import pytest

from hookchain.messages import (
    AIMessage, AIMessageChunk, ChatMessage, FunctionMessage, HumanMessage, SystemMessage, ToolMessage,
)
from hookchain_openai.convert import StreamState, messages_to_openai, result_from_completion, usage_to_metadata
from hookchain_openai.errors import MalformedResponseError

from .conftest import completion, text_chunks


def test_every_message_type_maps_to_its_role():
    messages = [
        SystemMessage("be brief"),
        HumanMessage("weather in Paris?", name="ann"),
        AIMessage("", tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}]),
        ToolMessage("18 C, sunny", tool_call_id="call_1"),
        AIMessage("It is sunny."),
        FunctionMessage("42", name="answer"),
        ChatMessage("hello", role="developer"),
    ]
    assert messages_to_openai(messages) == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "weather in Paris?", "name": "ann"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18 C, sunny"},
        {"role": "assistant", "content": "It is sunny."},
        {"role": "function", "name": "answer", "content": "42"},
        {"role": "developer", "content": "hello"},
    ]


def test_content_blocks():
    human = HumanMessage(content=[
        "look:",
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "https://example.org/a.png"}},
        {"type": "image", "base64": "AAAA", "mime_type": "image/jpeg"},
    ])
    assert messages_to_openai([human])[0]["content"] == [
        {"type": "text", "text": "look:"},
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "https://example.org/a.png"}},
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,AAAA"}},
    ]
    # system and assistant content is sent as text
    system = SystemMessage(content=[{"type": "text", "text": "a"}, {"type": "text", "text": "b"}])
    assert messages_to_openai([system]) == [{"role": "system", "content": "ab"}]


def test_chunks_and_invalid_tool_calls_are_sent_too():
    chunk = AIMessageChunk("partial")
    bad = AIMessage("", invalid_tool_calls=[{"name": "f", "args": "{oops", "id": "c2", "error": "x", "type": "invalid_tool_call"}])
    raw = AIMessage("", additional_kwargs={"tool_calls": [{"id": "c3", "type": "function", "function": {"name": "g", "arguments": "{}"}}]})
    out = messages_to_openai([chunk, bad, raw])
    assert out[0] == {"role": "assistant", "content": "partial"}
    assert out[1]["tool_calls"] == [{"id": "c2", "type": "function", "function": {"name": "f", "arguments": "{oops"}}]
    assert out[2]["tool_calls"][0]["id"] == "c3"


def test_unknown_message_type_is_a_clear_error():
    from hookchain.messages import BaseMessage

    with pytest.raises(TypeError, match="cannot send a BaseMessage"):
        messages_to_openai([BaseMessage("x")])


def test_completion_to_message():
    data = completion("Hi there")
    data["system_fingerprint"] = "fp_1"
    result = result_from_completion(data)
    message = result.generations[0].message
    assert isinstance(message, AIMessage) and message.content == "Hi there"
    assert message.response_metadata == {"model_name": "gpt-4o-mini", "finish_reason": "stop", "id": "chatcmpl-rec2",
                                         "system_fingerprint": "fp_1"}
    assert message.usage_metadata == {"input_tokens": 9, "output_tokens": 3, "total_tokens": 12}
    assert result.generations[0].generation_info == {"finish_reason": "stop"}
    assert result.llm_output["token_usage"]["total_tokens"] == 12


def test_completion_with_tool_calls():
    data = completion("")
    data["choices"][0]["message"] = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
        {"id": "call_2", "type": "function", "function": {"name": "broken", "arguments": '{"city": '}},
    ]}
    data["choices"][0]["finish_reason"] = "tool_calls"
    message = result_from_completion(data).generations[0].message
    assert message.content == ""
    assert message.tool_calls == [{"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}]
    assert [c["id"] for c in message.invalid_tool_calls] == ["call_2"]
    assert message.invalid_tool_calls[0]["args"] == '{"city": '
    assert len(message.additional_kwargs["tool_calls"]) == 2


def test_stream_of_text_chunks():
    state = StreamState()
    chunks = [c for c in (state.convert(d) for d in text_chunks("Hello world")) if c is not None]
    # role chunk + 3 content chunks (4 characters each) + finish chunk + usage chunk
    assert [c.message.content for c in chunks] == ["", "Hell", "o wo", "rld", "", ""]
    assert state.finish_reason == "stop" and state.chunks == 6
    total = chunks[0] + chunks[1:]
    assert isinstance(total.message, AIMessageChunk)
    assert total.message.content == "Hello world"
    assert total.message.response_metadata == {"model_name": "gpt-4o-mini", "finish_reason": "stop", "id": "chatcmpl-rec1"}
    assert total.message.usage_metadata == {"input_tokens": 9, "output_tokens": 5, "total_tokens": 14}
    assert total.generation_info == {"finish_reason": "stop"}
    # only the last chunks carry metadata, so adding chunks never concatenates it
    assert all(not c.message.response_metadata for c in chunks[:-2])


def test_stream_tool_call_deltas_merge_by_index():
    base = {"id": "chatcmpl-t", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini"}

    def delta(**d):
        return {**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]}

    recorded = [
        delta(role="assistant", content=None, tool_calls=[
            {"index": 0, "id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]),
        delta(tool_calls=[{"index": 0, "function": {"arguments": '{"ci'}}]),
        delta(tool_calls=[{"index": 0, "function": {"arguments": 'ty": "Paris"}'}}]),
        delta(tool_calls=[{"index": 1, "id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": ""}}]),
        # a server repeating id and name in a later delta (some do) must not double them
        delta(tool_calls=[{"index": 1, "id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": '{"tz": "CET"}'}}]),
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ]
    state = StreamState()
    chunks = [state.convert(d) for d in recorded]
    assert chunks[1].message.tool_call_chunks == [{"name": None, "args": '{"ci', "id": None, "index": 0, "type": "tool_call_chunk"}]
    total = chunks[0] + chunks[1:]
    assert total.message.tool_call_chunks == [
        {"name": "get_weather", "args": '{"city": "Paris"}', "id": "call_a", "index": 0, "type": "tool_call_chunk"},
        {"name": "get_time", "args": '{"tz": "CET"}', "id": "call_b", "index": 1, "type": "tool_call_chunk"},
    ]
    assert total.message.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_a", "type": "tool_call"},
        {"name": "get_time", "args": {"tz": "CET"}, "id": "call_b", "type": "tool_call"},
    ]
    # a partial stream already gives the calls parsed as far as they go (as LangChain)
    partial = chunks[0] + chunks[1:2]
    assert partial.message.tool_calls[0]["args"] == {}
    assert total.message.response_metadata["finish_reason"] == "tool_calls"


def test_usage_mapping():
    assert usage_to_metadata(None) is None
    assert usage_to_metadata({"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}) == {
        "input_tokens": 3, "output_tokens": 4, "total_tokens": 7}
    detailed = usage_to_metadata({
        "prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30,
        "prompt_tokens_details": {"cached_tokens": 6, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 12},
    })
    assert detailed == {"input_tokens": 10, "output_tokens": 20, "total_tokens": 30,
                        "input_token_details": {"cache_read": 6}, "output_token_details": {"reasoning": 12}}
    # no total: computed
    assert usage_to_metadata({"prompt_tokens": 1, "completion_tokens": 2})["total_tokens"] == 3
    with pytest.raises(MalformedResponseError, match="token counts"):
        usage_to_metadata({"prompt_tokens": "many"})


@pytest.mark.parametrize("bad, match", [
    ("just text", "expected a JSON object"),
    ({"choices": "nope"}, "must be a list of objects"),
    ({"id": "x"}, "needs 'choices' or 'usage'"),
    ({"choices": [{"index": 0, "delta": {"content": 5}}]}, "delta content must be a string"),
    ({"choices": [{"index": 0, "delta": "x"}]}, "delta must be an object"),
    ({"choices": [{"index": 0, "delta": {"tool_calls": "x"}}]}, "tool_calls must be a list"),
    ({"error": {"message": "overloaded"}}, "sent an error"),
])
def test_malformed_chunks_are_named(bad, match):
    with pytest.raises(MalformedResponseError, match=match):
        StreamState().convert(bad)


def test_keepalive_chunks_are_skipped():
    state = StreamState()
    assert state.convert({"id": "x", "choices": []}) is None
    assert state.chunks == 0


@pytest.mark.parametrize("bad, match", [
    ({"choices": []}, "needs choices\\[0\\].message"),
    ({"object": "list", "data": []}, "needs choices\\[0\\].message"),
    ({"choices": [{"index": 0, "message": {"content": {"x": 1}}}]}, "content must be a string"),
])
def test_malformed_completions_are_named(bad, match):
    with pytest.raises(MalformedResponseError, match=match):
        result_from_completion(bad)
