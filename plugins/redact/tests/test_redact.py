"""The redact handler around real model calls: the model never sees what is
masked, in every calling mode; the caller's messages stay as they were; what
was masked is reported by counts; ``restore`` puts the originals back."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Iterator

import pytest

import hookchain
from hookchain import model_hooks
from hookchain.callbacks import BaseCallbackHandler, enable_handler
from hookchain.language_models import BaseChatModel
from hookchain.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage
from hookchain.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from hookchain.prompts import ChatPromptTemplate
from hookchain_redact import RedactHandler, RedactionError

from .conftest import CountingEcho

ADDRESS = "bob@example.com"
KEY = "sk-live0123456789abcdefghij"
PLANTED = f"Mail {ADDRESS}, use key {KEY}, call +1 555-123-4567."
MASKED = "Mail <EMAIL_1>, use key <API_KEY_1>, call <PHONE_1>."


def seen_text() -> str:
    return json.dumps(CountingEcho.seen)


async def acollect(stream) -> list:
    return [c async for c in stream]


@pytest.fixture
def model() -> CountingEcho:
    CountingEcho.seen = []
    return CountingEcho(n=500)


# --------------------------------------------------------------------------- #
# The model never sees it
# --------------------------------------------------------------------------- #


def test_the_model_never_sees_a_planted_secret_in_any_mode(model, redact):
    assert model.invoke(PLANTED).content == MASKED  # echo answers with what it saw
    assert "".join(c.content for c in model.stream(PLANTED)) == MASKED
    assert asyncio.run(model.ainvoke(PLANTED)).content == MASKED
    assert "".join(c.content for c in asyncio.run(acollect(model.astream(PLANTED)))) == MASKED
    assert [m.content for m in model.batch([PLANTED, "plain"])] == [MASKED, "plain"]
    assert [m.content for m in asyncio.run(model.abatch([PLANTED]))] == [MASKED]
    assert CountingEcho(n=500, streaming=True).invoke(PLANTED).content == MASKED
    assert len(CountingEcho.seen) == 8
    for secret in (ADDRESS, KEY, "555-123-4567"):
        assert secret not in seen_text()


def test_every_message_of_a_conversation_is_masked(model, redact):
    history = [
        SystemMessage(f"The admin is {ADDRESS}."),
        HumanMessage([{"type": "text", "text": f"my key is {KEY}"}]),
        AIMessage("", tool_calls=[{"name": "mail", "args": {"to": ADDRESS}, "id": "t1", "type": "tool_call"}]),
        ToolMessage(f"sent to {ADDRESS}", tool_call_id="t1"),
        HumanMessage(f"and cc {ADDRESS} please"),
    ]

    received = []

    class Recording(CountingEcho):
        def _answer(self, messages, stop):
            received.append(messages)
            return super()._answer(messages, stop)

    assert Recording(n=500).invoke(history).content == "and cc <EMAIL_1> please"
    seen = received[0]
    assert seen[0].content == "The admin is <EMAIL_1>."
    assert seen[1].content == [{"type": "text", "text": "my key is <API_KEY_1>"}]
    assert seen[2].tool_calls[0]["args"] == {"to": "<EMAIL_1>"}
    assert seen[3].content == "sent to <EMAIL_1>" and seen[3].tool_call_id == "t1"
    # the caller's messages are untouched
    assert history[0].content == f"The admin is {ADDRESS}."
    assert history[1].content == [{"type": "text", "text": f"my key is {KEY}"}]
    assert history[2].tool_calls[0]["args"] == {"to": ADDRESS}
    assert history[4].content == f"and cc {ADDRESS} please"


def test_through_a_prompt_template(model, redact):
    chain = ChatPromptTemplate.from_messages([("system", "Reply to {who}"), ("human", "{question}")]) | model
    answer = chain.invoke({"who": ADDRESS, "question": f"Is {ADDRESS} right?"})
    assert answer.content == "Is <EMAIL_1> right?"
    assert CountingEcho.seen == [["Reply to <EMAIL_1>", "Is <EMAIL_1> right?"]]


# --------------------------------------------------------------------------- #
# The report: counts, never the secret
# --------------------------------------------------------------------------- #


def test_the_custom_event_carries_counts_not_secrets(model, redact, recorder):
    chain = ChatPromptTemplate.from_template("{text}") | model
    chain.invoke({"text": f"{PLANTED} Again: {ADDRESS}"}, config={"callbacks": [recorder]})
    custom = recorder.of("on_custom_event")
    assert len(custom) == 1
    name, data = custom[0][1]
    assert name == "redact"
    assert data == {"counts": {"email": 2, "api_key": 1, "phone": 1}, "total": 4}
    serialised = json.dumps(data)
    for secret in (ADDRESS, KEY, "555"):
        assert secret not in serialised
    model_run = recorder.of("on_chat_model_start")[0][2]["run_id"]
    assert custom[0][2]["run_id"] == model_run  # reported on the model's run
    recorder.events.clear()
    model.invoke("nothing to hide", config={"callbacks": [recorder]})
    assert recorder.of("on_custom_event") == []  # nothing masked, nothing reported


def test_the_custom_event_shows_in_astream_events_in_order(model, redact):
    # Regression: a custom event dispatched from a chat-model hook of an async
    # run used to arrive after the end of the event stream (and was lost).
    async def events():
        return [(e["event"], e["name"], e["data"]) async for e in model.astream_events(f"hi {ADDRESS}", version="v2")]

    got = asyncio.run(events())
    assert [e[0] for e in got[:3]] == ["on_chat_model_start", "on_custom_event", "on_chat_model_stream"]
    assert got[1][1:] == ("redact", {"counts": {"email": 1}, "total": 1})
    assert ADDRESS not in repr(got[1:])  # only the start event carries the caller's input


# --------------------------------------------------------------------------- #
# restore = true
# --------------------------------------------------------------------------- #


@pytest.fixture
def restoring():
    handler = hookchain.get_handler("redact", restore=True)
    enable_handler(handler)
    return handler


def test_restore_puts_the_originals_back_in_every_mode(model, restoring, recorder):
    assert model.invoke(PLANTED, config={"callbacks": [recorder]}).content == PLANTED
    assert recorder.of("on_llm_end")[0][1][0].generations[0][0].message.content == PLANTED
    assert asyncio.run(model.ainvoke(PLANTED)).content == PLANTED
    assert [m.content for m in model.batch([PLANTED, PLANTED])] == [PLANTED, PLANTED]
    assert CountingEcho(n=500, streaming=True).invoke(PLANTED).content == PLANTED
    assert ADDRESS not in seen_text() and KEY not in seen_text()


def test_restore_in_streams_across_chunk_boundaries(model, restoring, recorder):
    # echo streams one character per chunk: every placeholder spans many chunks
    chunks = [c.content for c in model.stream(PLANTED, config={"callbacks": [recorder]})]
    assert "".join(chunks) == PLANTED
    assert len(chunks) == len(MASKED) + 1  # as many chunks as the model streamed
    assert ADDRESS in chunks  # the chunk closing the placeholder carries the original
    tokens = [e[1][0] for e in recorder.of("on_llm_new_token")]
    assert tokens == chunks
    assert recorder.of("on_llm_end")[0][1][0].generations[0][0].message.content == PLANTED
    achunks = [c.content for c in asyncio.run(acollect(model.astream(PLANTED)))]
    assert "".join(achunks) == PLANTED
    assert ADDRESS not in seen_text()


def test_restore_when_a_stream_ends_inside_a_placeholder(restoring, recorder):
    class Cut(BaseChatModel):
        """Streams the masked text in 3-character pieces, cut after '<EMA', with
        no finish chunk (so the held-back text never reaches a chunk)."""

        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            return ChatResult(generations=[ChatGeneration(AIMessage(messages[-1].text))])

        def _stream(self, messages, stop=None, run_manager=None, **kwargs) -> Iterator[ChatGenerationChunk]:
            text = messages[-1].text
            for i in range(0, len(text), 3):
                yield ChatGenerationChunk(AIMessageChunk(text[i:i + 3]))

        @property
        def _llm_type(self) -> str:
            return "cut"

    model = Cut()
    assert "".join(c.content for c in model.stream(f"to {ADDRESS} ok")) == f"to {ADDRESS} ok"
    chunks = [c.content for c in model.stream(f"to {ADDRESS} <EMA", config={"callbacks": [recorder]})]
    # "<EMA" could still have become <EMAIL_1>: held back, and the stream ended
    assert "".join(chunks) == f"to {ADDRESS} "
    assert recorder.of("on_llm_end")[0][1][0].generations[0][0].message.content == f"to {ADDRESS} <EMA"
    assert Cut(streaming=True).invoke(f"to {ADDRESS} <EMA").content == f"to {ADDRESS} <EMA"


def test_restore_in_tool_call_arguments(restoring):
    class Tooling(BaseChatModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            address = messages[-1].text.split()[-1]
            call = {"name": "mail", "args": {"to": [address]}, "id": "c1", "type": "tool_call"}
            bad = {"name": "mail", "args": f'{{"to": "{address}"', "id": "c2", "error": "bad JSON", "type": "invalid_tool_call"}
            return ChatResult(generations=[ChatGeneration(AIMessage(f"mailing {address}", tool_calls=[call],
                                                                    invalid_tool_calls=[bad]))])

        @property
        def _llm_type(self) -> str:
            return "tooling"

    answer = Tooling().invoke(f"mail {ADDRESS}")
    assert answer.content == f"mailing {ADDRESS}"
    assert answer.tool_calls[0]["args"] == {"to": [ADDRESS]}
    assert answer.invalid_tool_calls[0]["args"] == f'{{"to": "{ADDRESS}"'


def test_without_restore_the_answer_keeps_the_placeholders(model, redact):
    assert not redact.restore
    assert model.invoke(f"hi {ADDRESS}").content == "hi <EMAIL_1>"


# --------------------------------------------------------------------------- #
# Failures
# --------------------------------------------------------------------------- #


def test_a_masking_error_stops_the_call_unless_fail_closed_is_off(model, monkeypatch, caplog):
    from hookchain_redact import patterns

    def broken(self, text):
        raise RuntimeError("regex engine on fire")

    monkeypatch.setattr(patterns.Masker, "mask", broken)
    strict = hookchain.get_handler("redact")
    enable_handler(strict)
    with pytest.raises(RedactionError, match="could not mask the messages"):
        model.invoke(f"hi {ADDRESS}")
    with pytest.raises(RedactionError):
        list(model.stream(f"hi {ADDRESS}"))
    with pytest.raises(RedactionError):
        asyncio.run(model.ainvoke(f"hi {ADDRESS}"))
    assert CountingEcho.seen == []  # the model was never asked

    hookchain.callbacks.disable_handler(strict)
    lenient = hookchain.get_handler("redact", fail_closed=False)
    enable_handler(lenient)
    with caplog.at_level(logging.WARNING):
        assert model.invoke(f"hi {ADDRESS}").content == f"hi {ADDRESS}"
    assert "could not mask the messages" in caplog.text


def test_when_another_plugin_stops_the_start_hooks_first_the_call_is_stopped(model, redact, caplog):
    class Greedy(BaseCallbackHandler):
        @hookchain.hookimpl(wrapper=True, tryfirst=True)  # enabled after redact: wraps it, and raises first
        def chat_model_start(self, call):
            raise RuntimeError("greedy plugin bug")
            yield

    enable_handler(Greedy())
    with caplog.at_level(logging.WARNING, logger="hookchain.model_hooks"):
        with pytest.raises(RedactionError, match="did not run for this call"):
            model.invoke(f"hi {ADDRESS}")
    assert "Error in Greedy.chat_model_start" in caplog.text
    assert CountingEcho.seen == []


def test_a_start_hook_that_raises_leaves_the_messages_masked(model, redact, caplog):
    class Broken(BaseCallbackHandler):
        @hookchain.hookimpl(tryfirst=True)
        def chat_model_start(self, call):
            call.messages = [*call.messages, HumanMessage(f"added: {KEY}")]
            raise RuntimeError("plugin bug")

    enable_handler(Broken())
    with caplog.at_level(logging.WARNING, logger="hookchain.model_hooks"):
        assert model.invoke(f"hi {ADDRESS}").content == "added: <API_KEY_1>"
    assert "Error in Broken.chat_model_start" in caplog.text
    assert CountingEcho.seen == [["hi <EMAIL_1>", "added: <API_KEY_1>"]]


def test_a_wrapper_that_raises_is_logged_and_the_call_goes_on_masked(model, redact, caplog):
    class Around(BaseCallbackHandler):
        @hookchain.hookimpl(wrapper=True)
        def chat_model_start(self, call):
            yield  # redact has masked by now
            raise RuntimeError("wrapper bug")

    enable_handler(Around())
    with caplog.at_level(logging.WARNING, logger="hookchain.model_hooks"):
        assert model.invoke(f"hi {ADDRESS}").content == "hi <EMAIL_1>"
        assert "".join(c.content for c in model.stream(f"hi {ADDRESS}")) == "hi <EMAIL_1>"
    assert "Error in Around.chat_model_start chat-model hook" in caplog.text
    assert ADDRESS not in seen_text()


def test_a_restore_error_is_logged_and_the_answer_stays_masked(model, monkeypatch, caplog):
    from hookchain_redact import handler as handler_module

    def broken(*args):
        raise RuntimeError("restore bug")

    monkeypatch.setattr(handler_module, "restore_content", broken)
    enable_handler(hookchain.get_handler("redact", restore=True))
    with caplog.at_level(logging.WARNING, logger="hookchain_redact"):
        assert model.invoke(f"hi {ADDRESS}").content == "hi <EMAIL_1>"
    assert "could not restore the answer" in caplog.text


# --------------------------------------------------------------------------- #
# Not enabled, several instances
# --------------------------------------------------------------------------- #


def test_nothing_changes_when_not_enabled(model):
    RedactHandler()  # built, not enabled
    assert not model_hooks.active
    assert model.invoke(f"hi {ADDRESS}").content == f"hi {ADDRESS}"
    assert "".join(c.content for c in model.stream(f"hi {ADDRESS}")) == f"hi {ADDRESS}"


def test_two_instances_each_keep_their_own_mapping(model):
    enable_handler(hookchain.get_handler("redact", kinds=["email"], restore=True))
    enable_handler(hookchain.get_handler("redact", kinds=[], patterns={"ticket": "TCK-[0-9]+"}))
    assert model.invoke(f"{ADDRESS} TCK-42").content == f"{ADDRESS} <TICKET_1>"
    assert CountingEcho.seen == [["<EMAIL_1> <TICKET_1>"]]


# --------------------------------------------------------------------------- #
# What other plugins add, split values, unparseable tool calls
# --------------------------------------------------------------------------- #


class Adds(BaseCallbackHandler):
    """A plugin that records what it sees and adds a message with a secret."""

    def __init__(self, **order):
        self.seen = []
        self.order = order

    def chat_model_start(self, call):
        self.seen.append([m.text for m in call.messages])
        call.messages = [*call.messages, HumanMessage(f"context: reach {ADDRESS}")]
        call.messages[0].content += f" key={KEY}"  # changed in place, too


@pytest.mark.parametrize("order", [{}, {"tryfirst": True}, {"trylast": True}])
@pytest.mark.parametrize("enabled", ["before redact", "after redact"])
def test_what_other_start_hooks_add_is_masked_and_they_see_masked_messages(model, order, enabled, recorder):
    plugin = type("AddsPlugin", (Adds,), {"chat_model_start": hookchain.hookimpl(**order)(Adds.chat_model_start)})()
    handler = hookchain.get_handler("redact", restore=True)
    for obj in ((plugin, handler) if enabled == "before redact" else (handler, plugin)):
        enable_handler(obj)
    answer = model.invoke(f"mail {ADDRESS}", config={"callbacks": [recorder]})
    assert CountingEcho.seen == [["mail <EMAIL_1> key=<API_KEY_1>", "context: reach <EMAIL_1>"]]
    assert plugin.seen == [["mail <EMAIL_1>"]]  # the other plugin only ever saw masked messages
    assert answer.content == f"context: reach {ADDRESS}"  # restored with the same mapping
    (event,) = [e for e in recorder.of("on_custom_event") if e[1][0] == "redact"]
    assert event[1][1] == {"counts": {"email": 2, "api_key": 1}, "total": 3}


def test_a_value_split_across_text_blocks_is_masked(model, redact):
    content = [{"type": "text", "text": "write to bob@exa"}, {"type": "text", "text": "mple.com, key sk-live01234"},
               "56789abcdefghij now", {"type": "image_url", "image_url": {"url": "data:,"}}]
    message = HumanMessage(content)
    model.invoke([message])
    assert CountingEcho.seen == [["write to <EMAIL_1>, key <API_KEY_1> now"]]
    assert message.content[0]["text"] == "write to bob@exa"  # the caller's message is unchanged
    for piece in ("bob@", "mple.com", "sk-live", "56789abc"):
        assert piece not in seen_text()


def test_unparseable_tool_call_arguments_are_masked(redact):
    received = []

    class Recording(CountingEcho):
        def _answer(self, messages, stop):
            received.append(messages)
            return super()._answer(messages, stop)

    bad = AIMessage("", invalid_tool_calls=[{"name": "mail", "args": f'{{"to": "{ADDRESS}", "key": "{KEY}"',
                                              "id": "t1", "error": "bad JSON", "type": "invalid_tool_call"}])
    chunk = AIMessageChunk("", tool_call_chunks=[{"name": "mail", "args": f'{{"to": "{ADDRESS}"', "id": "t2", "index": 0,
                                                  "type": "tool_call_chunk"}])
    Recording(n=500).invoke([bad, chunk, HumanMessage("go")])
    sent = repr(received[0])
    assert ADDRESS not in sent and KEY not in sent
    assert received[0][0].invalid_tool_calls[0]["args"] == '{"to": "<EMAIL_1>", "key": "<API_KEY_1>"'
    assert received[0][1].tool_call_chunks[0]["args"] == '{"to": "<EMAIL_1>"'
    assert bad.invalid_tool_calls[0]["args"].startswith(f'{{"to": "{ADDRESS}"')  # the caller's message is unchanged
