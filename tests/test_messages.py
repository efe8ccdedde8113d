"""Messages, chunks and outputs: merging, serialisation, reprs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookchain.messages import (
    AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage, convert_to_messages,
    message_chunk_to_message, messages_from_dict, messages_to_dict,
)
from hookchain.outputs import ChatGeneration, ChatGenerationChunk, LLMResult

text = st.text(max_size=20)
meta = st.dictionaries(st.sampled_from(["a", "b", "c"]), st.integers(0, 100) | st.text(max_size=5), max_size=3)
usage = st.none() | st.fixed_dictionaries({"input_tokens": st.integers(0, 99), "output_tokens": st.integers(0, 99), "total_tokens": st.integers(0, 198)})


@st.composite
def chunks(draw):
    return AIMessageChunk(content=draw(text), usage_metadata=draw(usage), id=draw(st.none() | st.sampled_from(["run-1", "msg_2"])))


def test_seed_chunk_addition():
    assert repr(AIMessageChunk(content="Hello") + AIMessageChunk(content=" World!")) == "AIMessageChunk(content='Hello World!')"


@given(chunks(), chunks(), chunks())
def test_chunk_addition_is_associative(a, b, c):
    assert (a + b) + c == a + (b + c)


@given(st.lists(text, min_size=1, max_size=6))
def test_chunk_content_concatenates(parts):
    total = AIMessageChunk(content=parts[0])
    for p in parts[1:]:
        total = total + AIMessageChunk(content=p)
    assert total.content == "".join(parts)


def test_metadata_merges_as_langchain():
    a = AIMessageChunk(content="a", response_metadata={"model": "x", "n": 1}, usage_metadata={"input_tokens": 1, "output_tokens": 1, "total_tokens": 2})
    b = AIMessageChunk(content="b", response_metadata={"finish_reason": "stop"}, usage_metadata={"input_tokens": 0, "output_tokens": 2, "total_tokens": 2}, id="msg_1")
    m = a + b
    assert m.response_metadata == {"model": "x", "n": 1, "finish_reason": "stop"}
    assert m.usage_metadata == {"input_tokens": 1, "output_tokens": 3, "total_tokens": 4}
    assert m.id == "msg_1"


def test_tool_call_chunks_merge_by_index():
    a = AIMessageChunk(content="", tool_call_chunks=[{"name": "f", "args": '{"a"', "id": "1", "index": 0}])
    b = AIMessageChunk(content="", tool_call_chunks=[{"name": None, "args": ": 1}", "id": None, "index": 0}])
    assert (a + b).tool_call_chunks == [{"name": "f", "args": '{"a": 1}', "id": "1", "index": 0, "type": "tool_call_chunk"}]


@given(st.lists(st.tuples(st.sampled_from([HumanMessage, AIMessage, SystemMessage]), text, meta), max_size=5))
def test_serialisation_round_trip(items):
    msgs = [cls(content=c, response_metadata=m) for cls, c, m in items]
    assert messages_from_dict(messages_to_dict(msgs)) == msgs


def test_reprs_follow_the_seeds():
    m = AIMessage(content="Meo", response_metadata={"time_in_seconds": 3}, id="run-1-0")
    assert repr(m) == "AIMessage(content='Meo', response_metadata={'time_in_seconds': 3}, id='run-1-0')"
    assert str(m) == "content='Meo' response_metadata={'time_in_seconds': 3} id='run-1-0'"
    r = LLMResult(generations=[[ChatGeneration(message=m)]], llm_output=None)
    assert str(r).startswith("generations=[[ChatGeneration(text='Meo', message=AIMessage(")
    assert str(r).endswith("llm_output=None run=None")


def test_bad_fields_are_clear_errors():
    with pytest.raises(TypeError, match=r"unexpected field\(s\) \['contnet'\]"):
        HumanMessage(contnet="x")
    with pytest.raises(TypeError, match="must be a str or a list"):
        HumanMessage(42)
    with pytest.raises(TypeError, match="requires 'tool_call_id'"):
        ToolMessage("x")
    with pytest.raises(TypeError, match="message chunk"):
        ChatGenerationChunk(message=AIMessage("x"))


def test_conversions():
    assert convert_to_messages(["hi", ("system", "s"), {"role": "assistant", "content": "a"}]) == [
        HumanMessage("hi"), SystemMessage("s"), AIMessage("a")]
    with pytest.raises(ValueError, match="Unexpected message type: 'robot'"):
        convert_to_messages([("robot", "x")])
    assert type(message_chunk_to_message(AIMessageChunk(content="x"))) is AIMessage
    g = ChatGenerationChunk(message=AIMessageChunk(content="a")) + ChatGenerationChunk(message=AIMessageChunk(content="b"))
    assert g.text == "ab"


def test_content_blocks_merge():
    a = AIMessageChunk(content=[{"type": "text", "text": "he", "index": 0}])
    b = AIMessageChunk(content=[{"type": "text", "text": "llo", "index": 0}])
    assert (a + b).content == [{"type": "text", "text": "hello", "index": 0}]
    assert (a + b).text == "hello"
