"""Chat-model hooks: enabled plugins change, answer or observe every model call."""

from __future__ import annotations

import asyncio
import logging

import pytest

import hookchain
from hookchain import model_hooks
from hookchain.callbacks import BaseCallbackHandler, disable_handler, enable_handler
from hookchain.messages import AIMessageChunk, HumanMessage
from hookchain.outputs import ChatGenerationChunk
from hookchain.prompts import ChatPromptTemplate


class Upper(BaseCallbackHandler):
    """Uppercases the request; appends '!' to each result."""

    def __init__(self):
        self.seen = []

    @hookchain.hookimpl
    def chat_model_start(self, call):
        call.messages = [HumanMessage(m.text.upper()) for m in call.messages]

    @hookchain.hookimpl
    def chat_model_end(self, call, result):
        self.seen.append(result.generations[0].message.content)
        result.generations[0].message.content += "!"


class Replay(BaseCallbackHandler):
    """Answers every call from a fixed list of chunks."""

    @hookchain.hookimpl
    def chat_model_cached(self, call):
        return [ChatGenerationChunk(message=AIMessageChunk(content=c)) for c in "hi"]


@pytest.fixture
def model():
    return hookchain.get_model("echo", n=5)


def test_installed_but_not_enabled_is_inert(model):
    Upper()
    assert not model_hooks.active
    assert model.invoke("hello world").content == "hello"


def test_start_and_end_change_request_and_result_in_every_mode(model, recorder):
    plugin = Upper()
    enable_handler(plugin)
    assert model_hooks.active
    assert model.invoke("hello world", config={"callbacks": [recorder]}).content == "HELLO!"
    llm_end = [e for e in recorder.events if e[0] == "on_llm_end"][0]
    assert llm_end[3][0].generations[0][0].message.content == "HELLO!"  # handlers see the changed result
    assert asyncio.run(model.ainvoke("abc")).content == "ABC!"
    assert "".join(c.content for c in model.stream("xyz")) == "XYZ"

    async def collect():
        return "".join([c.content async for c in model.astream("qrs")])

    assert asyncio.run(collect()) == "QRS"
    assert plugin.seen == ["HELLO", "ABC", "XYZ", "QRS"]
    disable_handler(plugin)
    assert not model_hooks.active and model.invoke("hello").content == "hello"


def test_cached_answer_skips_the_model_and_replays_tokens(monkeypatch, recorder):
    model = hookchain.get_model("echo")
    calls = []
    monkeypatch.setattr(type(model), "_generate", lambda self, *a, **k: calls.append(1))
    enable_handler(Replay())
    assert model.invoke("zzz").content == "hi"
    chunks = [c.content for c in model.stream("zzz", config={"callbacks": [recorder]})]
    assert chunks == ["h", "i"]
    assert [e[3][0] for e in recorder.events if e[0] == "on_llm_new_token"] == ["h", "i"]
    assert asyncio.run(model.ainvoke("zzz")).content == "hi"
    assert calls == []


def test_ordering_follows_tryfirst_and_wrappers_run_around(model):
    order = []

    class First(BaseCallbackHandler):
        @hookchain.hookimpl(tryfirst=True)
        def chat_model_start(self, call):
            order.append("first")

    class Plain(BaseCallbackHandler):
        @hookchain.hookimpl
        def chat_model_start(self, call):
            order.append("plain")

    class Around(BaseCallbackHandler):
        @hookchain.hookimpl(wrapper=True)
        def chat_model_start(self, call):
            order.append("around:before")
            yield
            order.append("around:after")

    for plugin in (Plain(), Around(), First()):
        enable_handler(plugin)
    model.invoke("x")
    assert order == ["around:before", "first", "plain", "around:after"]


def test_failing_hook_is_reported_and_the_call_goes_on(model, caplog):
    class Broken(BaseCallbackHandler):
        @hookchain.hookimpl
        def chat_model_end(self, call, result):
            raise RuntimeError("plugin bug")

    enable_handler(Broken())
    with caplog.at_level(logging.WARNING, logger="hookchain.model_hooks"):
        assert model.invoke("hello").content == "hello"
    assert "Error in Broken.chat_model_end chat-model hook" in caplog.text

    class Strict(Broken):
        raise_error = True

    enable_handler(Strict())
    with pytest.raises(RuntimeError, match="plugin bug"):
        model.invoke("hello")


def test_error_hook_sees_model_failures(model):
    seen = []

    class Watch(BaseCallbackHandler):
        @hookchain.hookimpl
        def chat_model_error(self, call, error):
            seen.append(type(error).__name__)

    enable_handler(Watch())
    with pytest.raises(ValueError):
        model.invoke([])
    assert seen == ["ValueError"]


def test_custom_events_from_hooks_reach_the_run(model, recorder):
    class Reporter(BaseCallbackHandler):
        @hookchain.hookimpl
        def chat_model_start(self, call):
            call.dispatch_custom_event("masked", {"count": 1})

    enable_handler(Reporter())
    chain = ChatPromptTemplate.from_template("{x}") | model
    chain.invoke({"x": "y"}, config={"callbacks": [recorder]})
    custom = [e for e in recorder.events if e[0] == "on_custom_event"]
    model_run = [e for e in recorder.events if e[0] == "on_chat_model_start"][0][1]
    assert custom[0][3] == ("masked", {"count": 1}) and custom[0][1] == model_run
