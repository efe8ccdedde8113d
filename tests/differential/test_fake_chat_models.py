"""Fake chat models (``hookchain.language_models.fake_chat_models``) against
langchain-core 1.7.2: answers, cycling, the ``i`` counter, streamed chunks
(content, ``additional_kwargs``, ``chunk_position``), errors, callback events
and ``astream_events``.

Deliberate difference (README): ``GenericFakeChatModel`` streams a message's
tool calls as ``tool_call_chunks`` (LangChain 1.7.2 drops them when streaming,
and raises "No generation chunks were returned" for a tool-call-only message).
"""

from __future__ import annotations

import langchain_core.language_models as lc_lm
import langchain_core.language_models.fake_chat_models as lc_fakes
import langchain_core.output_parsers as lc_op
import pytest

import hookchain.language_models as hc_lm
import hookchain.language_models.fake_chat_models as hc_fakes
import hookchain.output_parsers as hc_op

from .harness import LC, araised, both, collect, event_stream, events, norm, raised


def fakes(fw):
    return lc_fakes if fw is LC else hc_fakes


def _msg(m):
    """A message's comparable fields (ids only when the caller set them)."""
    return (
        type(m).__name__, m.content, m.additional_kwargs, getattr(m, "tool_calls", None),
        getattr(m, "chunk_position", None), m.id if m.id and not m.id.startswith(("lc_run", "run-")) else None,
    )


def test_exported_from_language_models():
    for name in ("FakeListChatModel", "FakeMessagesListChatModel", "GenericFakeChatModel", "ParrotFakeChatModel"):
        assert getattr(lc_lm, name).__name__ == getattr(hc_lm, name).__name__ == name


# -- FakeListChatModel ------------------------------------------------------- #


def test_fake_list_cycles_through_responses():
    def scenario(fw):
        m = fakes(fw).FakeListChatModel(responses=["ab", "c", "def"])
        out = []
        for _ in range(4):
            out.append((m.invoke("x").content, m.i))
        chunks = [_msg(c) for c in m.stream("x")]
        return out, chunks, m.i, [r.content for r in m.batch(["a", "b", "c"])], m._llm_type, m._identifying_params

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == [("ab", 1), ("c", 2), ("def", 0), ("ab", 1)]
    assert hc[1][-1][4] == "last"


def test_fake_list_async_and_sleep():
    async def scenario(fw):
        m = fakes(fw).FakeListChatModel(responses=["hey", "yo"], sleep=0.001)
        chunks = [_msg(c) async for c in m.astream("x")]
        answer = await m.ainvoke("x")
        return chunks, answer.content, [r.content for r in await m.abatch(["a", "b", "c"])], m.i

    lc, hc = both(scenario)
    assert lc == hc


def test_fake_list_error_on_chunk_number():
    def scenario(fw):
        h = fw.Recorder()
        m = fakes(fw).FakeListChatModel(responses=["abcd"], error_on_chunk_number=2)
        got = []
        try:
            for c in m.stream("x", {"callbacks": [h]}):
                got.append(c.content)
        except Exception as e:  # noqa: BLE001
            got.append((type(e).__name__, str(e)))
        return got, events(fw, h.log), m.i

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == ["a", "b", ("FakeListChatModelError", "")]


def test_fake_list_error_on_chunk_number_async():
    async def scenario(fw):
        m = fakes(fw).FakeListChatModel(responses=["abcd"], error_on_chunk_number=0)
        return await araised(collect(m.astream("x")))

    lc, hc = both(scenario)
    assert lc == hc == ("raised", "FakeListChatModelError", "")


def test_fake_list_in_a_chain_events():
    def scenario(fw):
        h, h2 = fw.Recorder(), fw.Recorder()
        parser = lc_op.StrOutputParser() if fw is LC else hc_op.StrOutputParser()
        chain = fw.ChatPromptTemplate.from_messages(["{q}"]) | fakes(fw).FakeListChatModel(responses=["hi there"]) | parser
        return chain.invoke({"q": "?"}, {"callbacks": [h]}), list(chain.stream({"q": "?"}, {"callbacks": [h2]})), \
            events(fw, h.log), events(fw, h2.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_fake_list_astream_events():
    async def scenario(fw):
        return await event_stream(fw, fakes(fw).FakeListChatModel(responses=["abc"]), "x")

    lc, hc = both(scenario)
    assert lc == hc


# -- FakeMessagesListChatModel -------------------------------------------------- #


def test_fake_messages_list():
    def scenario(fw):
        h = fw.Recorder()
        responses = [fw.AIMessage(content="one", additional_kwargs={"k": 1}), fw.AIMessage(content="two")]
        m = fakes(fw).FakeMessagesListChatModel(responses=responses, sleep=0.001)
        out = [_msg(m.invoke("x", {"callbacks": [h]})) for _ in range(3)]
        streamed = [_msg(c) for c in m.stream("x")]
        return out, streamed, m.i, events(fw, h.log), m._llm_type

    lc, hc = both(scenario)
    assert lc == hc
    assert [o[1] for o in hc[0]] == ["one", "two", "one"]


# -- GenericFakeChatModel ------------------------------------------------------- #


def test_generic_invoke_and_exhaustion():
    def scenario(fw):
        m = fakes(fw).GenericFakeChatModel(messages=iter(["first", fw.AIMessage(content="second", id="m2")]))
        return _msg(m.invoke("x")), _msg(m.invoke("x")), raised(lambda: m.invoke("x"))

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[2][:2] == ("raised", "StopIteration")


def test_generic_stream_exhausted():
    def scenario(fw):
        m = fakes(fw).GenericFakeChatModel(messages=iter([]))
        return raised(lambda: list(m.stream("x")))

    lc, hc = both(scenario)
    assert lc == hc


@pytest.mark.parametrize("content", ["hello big  world", "one", " lead and trail", "tab\tand\nnewline"])
def test_generic_stream_splits_on_whitespace(content):
    def scenario(fw):
        h = fw.Recorder()
        m = fakes(fw).GenericFakeChatModel(messages=iter([fw.AIMessage(content=content, id="fixed")]))
        return [_msg(c) for c in m.stream("x", {"callbacks": [h]})], events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_generic_stream_additional_kwargs():
    def scenario(fw):
        message = fw.AIMessage(content="calling", additional_kwargs={
            "function_call": {"name": "lookup", "arguments": '{"city": "Paris", "days": 3}'}, "extra": {"n": 1}})
        m = fakes(fw).GenericFakeChatModel(messages=iter([message]))
        chunks = list(m.stream("x"))
        total = chunks[0]
        for c in chunks[1:]:
            total = total + c
        return [_msg(c) for c in chunks], _msg(total)

    lc, hc = both(scenario)
    # The README's "stream() end" difference: LangChain appends an empty
    # chunk_position="last" chunk; hookchain's model marks its final chunk.
    assert lc[0][-1] == ("AIMessageChunk", "", {}, [], "last", None)
    assert lc[0][:-1] == [(*c[:4], None, c[5]) for c in hc[0]]
    assert hc[0][-1][4] == "last" and hc[0][-1][2] == {"extra": {"n": 1}}
    assert lc[1] == hc[1]


def test_generic_astream_events():
    async def scenario(fw):
        m = fakes(fw).GenericFakeChatModel(messages=iter(["a b c"]))
        return await event_stream(fw, m, "x")

    lc, hc = both(scenario)
    assert lc == hc


def test_generic_streams_tool_calls_difference():
    call = {"name": "lookup", "args": {"city": "Paris"}, "id": "call_1"}

    def scenario(fw):
        m = fakes(fw).GenericFakeChatModel(messages=iter([
            fw.AIMessage(content="on it", tool_calls=[call]), fw.AIMessage(content="", tool_calls=[call]),
        ]))
        chunks = list(m.stream("x"))
        total = chunks[0]
        for c in chunks[1:]:
            total = total + c
        return total.content, total.tool_calls, raised(lambda: list(m.stream("x"))) if fw is LC else list(m.stream("x"))

    lc, hc = both(scenario)
    assert lc[:2] == ("on it", [])  # LangChain drops the tool calls when streaming
    assert lc[2] == ("raised", "ValueError", "No generation chunks were returned")
    assert hc[:2] == ("on it", [{**call, "type": "tool_call"}])
    assert [c.tool_call_chunks for c in hc[2]] == [[{
        "name": "lookup", "args": '{"city": "Paris"}', "id": "call_1", "index": 0, "type": "tool_call_chunk"}]]
    assert hc[2][-1].chunk_position == "last"


# -- ParrotFakeChatModel ------------------------------------------------------- #


def test_parrot():
    def scenario(fw):
        h = fw.Recorder()
        m = fakes(fw).ParrotFakeChatModel()
        out = m.invoke([("human", "hi"), ("ai", "yo"), ("human", "again")], {"callbacks": [h]})
        return _msg(out), [_msg(c) for c in m.stream("x")], events(fw, h.log), raised(lambda: m.invoke([]))

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0][:2] == ("HumanMessage", "again")


def test_parrot_async():
    async def scenario(fw):
        m = fakes(fw).ParrotFakeChatModel()
        return _msg(await m.ainvoke("hello")), await araised(m.ainvoke([]))

    lc, hc = both(scenario)
    assert lc == hc


def test_fake_chat_model():
    async def scenario(fw):
        m = fakes(fw).FakeChatModel()
        return m.invoke("x").content, (await m.ainvoke("y")).content, m._identifying_params, norm([c.content for c in m.stream("z")])

    lc, hc = both(scenario)
    assert lc == hc
