"""hookchain inside LangChain: as_langchain(model) and as_langchain_handler(handler)."""

from __future__ import annotations

import asyncio

import langchain_core.language_models.fake_chat_models as lc_fakes
import langchain_core.messages as lc_messages
import pytest
from langchain_core.callbacks import StdOutCallbackHandler, UsageMetadataCallbackHandler
from langchain_core.language_models import BaseChatModel as LCBaseChatModel
from langchain_core.output_parsers import StrOutputParser as LCStrOutputParser
from langchain_core.prompts import ChatPromptTemplate as LCChatPromptTemplate

import hookchain
from hookchain.language_models import fake_chat_models as hc_fakes
from hookchain.output_parsers import StrOutputParser
from hookchain.prompts import ChatPromptTemplate
from hookchain.testing import CallbackHandlerConformance, ChatModelConformance, RecordingHandler, isolated

from hookchain_langchain import adapt, as_langchain, as_langchain_handler, from_langchain
from langchain_bridge_helpers import LCRecorder, events

USAGE = {"input_tokens": 2, "output_tokens": 3, "total_tokens": 5}


@pytest.fixture(autouse=True)
def _isolated():
    with isolated():
        yield


def _answers(messages_module):
    return [messages_module.AIMessage("a quick brown fox", usage_metadata=USAGE,
                                      response_metadata={"model_name": "fake-3"})] * 2


def _lc_chain(model):
    return LCChatPromptTemplate.from_messages([("human", "Tell me about {animal}")]) | model | LCStrOutputParser()


def _run(chain, api, config):
    value = {"animal": "bears"}
    if api == "invoke":
        return chain.invoke(value, config=config)
    if api == "ainvoke":
        return asyncio.run(chain.ainvoke(value, config=config))
    if api == "batch":
        return chain.batch([value, value], config=config)
    if api == "stream":
        return "".join(chain.stream(value, config=config))

    async def drain():
        return "".join([c async for c in chain.astream(value, config=config)])
    return asyncio.run(drain())


@pytest.mark.parametrize("api", ["invoke", "ainvoke", "batch", "stream", "astream"])
def test_in_a_langchain_chain_events_equal_langchains_fake(api):
    """prompt | as_langchain(hookchain's GenericFakeChatModel) | StrOutputParser()
    gives LangChain's callbacks the events LangChain's own GenericFakeChatModel gives."""
    native_model = lc_fakes.GenericFakeChatModel(messages=iter(_answers(lc_messages)))
    bridged_model = as_langchain(hc_fakes.GenericFakeChatModel(messages=iter(_answers(hookchain.messages))))
    assert isinstance(bridged_model, LCBaseChatModel)
    native, bridged = LCRecorder(), LCRecorder()
    want = _run(_lc_chain(native_model), api, {"callbacks": [native]})
    got = _run(_lc_chain(bridged_model), api, {"callbacks": [bridged]})
    assert got == want
    if api == "batch":
        assert sorted(events(bridged.log, data=False)) == sorted(events(native.log, data=False))
    else:
        assert events(bridged.log) == events(native.log)


def test_langchain_handlers_in_a_langchain_chain(capsys):
    native_usage, bridged_usage = UsageMetadataCallbackHandler(), UsageMetadataCallbackHandler()
    native_model = lc_fakes.GenericFakeChatModel(messages=iter(_answers(lc_messages)))
    bridged_model = as_langchain(hc_fakes.GenericFakeChatModel(messages=iter(_answers(hookchain.messages))))
    _lc_chain(native_model).invoke({"animal": "bears"}, config={"callbacks": [StdOutCallbackHandler(), native_usage]})
    native_out = capsys.readouterr().out
    _lc_chain(bridged_model).invoke({"animal": "bears"}, config={"callbacks": [StdOutCallbackHandler(), bridged_usage]})
    assert capsys.readouterr().out == native_out
    assert bridged_usage.usage_metadata == native_usage.usage_metadata == {"fake-3": USAGE}


def test_astream_events_equal_langchains_fake():
    async def names(model):
        return [(e["event"], e["name"]) async for e in _lc_chain(model).astream_events({"animal": "bears"}, version="v2")]

    native = asyncio.run(names(lc_fakes.GenericFakeChatModel(messages=iter(_answers(lc_messages)))))
    bridged = asyncio.run(names(as_langchain(hc_fakes.GenericFakeChatModel(messages=iter(_answers(hookchain.messages))))))
    assert bridged == native


def test_echo_plugin_model_streams_in_langchain():
    model = as_langchain(hookchain.get_model("echo"))
    chunks = list(model.stream("hello"))
    assert [c.content for c in chunks][:5] == ["h", "e", "l", "l", "o"]
    assert all(type(c) is lc_messages.AIMessageChunk for c in chunks)
    assert model.invoke("hello").content == "hello"
    assert model.get_name() == "EchoChatModel"


def test_non_streaming_model_answers_stream_with_one_chunk():
    model = as_langchain(hc_fakes.FakeMessagesListChatModel(responses=[hookchain.messages.AIMessage("whole")]))
    assert [c.content for c in model.stream("hi")] == ["whole"]


def test_bind_tools_is_the_hookchain_models():
    model = as_langchain(hc_fakes.GenericFakeChatModel(messages=iter([
        hookchain.messages.AIMessage("", tool_calls=[{"name": "lookup", "args": {"q": "x"}, "id": "c1"}])])))
    bound = model.bind_tools([{"type": "function", "function": {"name": "lookup", "parameters": {}}}], tool_choice="lookup")
    assert bound.kwargs["tools"][0]["function"]["name"] == "lookup" and bound.kwargs["tool_choice"] == "lookup"
    message = bound.invoke("hi")
    assert type(message) is lc_messages.AIMessage
    assert message.tool_calls == [{"name": "lookup", "args": {"q": "x"}, "id": "c1", "type": "tool_call"}]


def test_as_langchain_refuses_other_things():
    with pytest.raises(TypeError, match="hookchain BaseChatModel"):
        as_langchain(lc_fakes.FakeListChatModel(responses=["x"]))
    with pytest.raises(TypeError, match="hookchain BaseCallbackHandler"):
        as_langchain_handler(StdOutCallbackHandler())


def test_hookchain_handler_in_a_langchain_run():
    """A hookchain handler, wrapped, gets LangChain's run as hookchain's own run
    of the same chain gives it (hookchain objects, same events)."""
    native, bridged = RecordingHandler(), RecordingHandler()
    hc_chain = (ChatPromptTemplate.from_messages([("human", "Tell me about {animal}")])
                | hc_fakes.GenericFakeChatModel(messages=iter(_answers(hookchain.messages))) | StrOutputParser())
    lc_chain = _lc_chain(lc_fakes.GenericFakeChatModel(messages=iter(_answers(lc_messages))))
    hc_chain.invoke({"animal": "bears"}, config={"callbacks": [native]})
    lc_chain.invoke({"animal": "bears"}, config={"callbacks": [as_langchain_handler(bridged)]})
    log = lambda r: [(e.name, e.args, e.kwargs) for e in r.events]  # noqa: E731
    assert events(log(bridged)) == events(log(native))
    end = bridged.of("on_llm_end")[0].args[0]
    assert type(end) is hookchain.outputs.LLMResult
    assert type(end.generations[0][0].message) is hookchain.messages.AIMessage


class TestRoundTripModelConformance(ChatModelConformance):
    """The echo plugin model taken into LangChain and back: hookchain -> LangChain -> hookchain."""

    model_name = "echo"
    model_options = {"n": 120}
    bad_option = ("n", "not-an-int")
    deterministic = True
    error_input = []

    def make_model(self, **options):
        return from_langchain(as_langchain(super().make_model(**options)))


class TestRoundTripHandlerConformance(CallbackHandlerConformance):
    """The stdout plugin handler taken into LangChain and back."""

    handler_name = "stdout"
    handler_options = {"tokens": True, "runs": True, "token_format": "<{token}>"}
    bad_option = ("runs", "sometimes")
    # a config file builds the plain stdout handler, not the round trip
    test_options_from_config_reach_handler = None

    def make_handler(self, **options):
        return adapt(as_langchain_handler(super().make_handler(**options)))
