"""LangChain callback handlers inside hookchain runs: in callbacks=, enabled by
config, and through hookchain's handler conformance suite."""

from __future__ import annotations

import asyncio

import langchain_core.language_models.fake_chat_models as lc_fakes
import langchain_core.messages as lc_messages
import langchain_core.outputs as lc_outputs
import pytest
from langchain_core.callbacks import StdOutCallbackHandler, UsageMetadataCallbackHandler
from langchain_core.output_parsers import StrOutputParser as LCStrOutputParser
from langchain_core.prompts import ChatPromptTemplate as LCChatPromptTemplate

import hookchain
from hookchain.callbacks import disable_handler, enable_handler
from hookchain.language_models import fake_chat_models as hc_fakes
from hookchain.messages import AIMessage
from hookchain.output_parsers import StrOutputParser
from hookchain.prompts import ChatPromptTemplate
from hookchain.testing import CallbackHandlerConformance, isolated

from langchain_bridge_helpers import LCAsyncRecorder, LCRecorder, events

USAGE = {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}


@pytest.fixture(autouse=True)
def _isolated():
    with isolated():
        yield


def _chains(answer: str = "hello there"):
    """The same prompt | fake model | parser in LangChain and in hookchain."""
    lc = (LCChatPromptTemplate.from_messages([("human", "Tell me about {animal}")])
          | lc_fakes.FakeListChatModel(responses=[answer]) | LCStrOutputParser())
    hc = (ChatPromptTemplate.from_messages([("human", "Tell me about {animal}")])
          | hc_fakes.FakeListChatModel(responses=[answer]) | StrOutputParser())
    return lc, hc


def test_stdout_handler_prints_what_it_prints_for_langchain(capsys):
    lc, hc = _chains()
    assert lc.invoke({"animal": "bears"}, config={"callbacks": [StdOutCallbackHandler()]}) == "hello there"
    native = capsys.readouterr().out
    assert hc.invoke({"animal": "bears"}, config={"callbacks": [StdOutCallbackHandler()]}) == "hello there"
    bridged = capsys.readouterr().out
    assert "Entering new RunnableSequence chain" in native
    assert bridged == native


def _usage_model(fakes, messages):
    return fakes.GenericFakeChatModel(messages=iter([
        messages.AIMessage("hello there", usage_metadata=USAGE, response_metadata={"model_name": "fake-1"})] * 4))


@pytest.mark.parametrize("api", ["invoke", "stream", "ainvoke", "astream"])
def test_usage_metadata_handler_adds_up_usage(api):
    """UsageMetadataCallbackHandler reads LangChain's ChatGeneration/AIMessage
    in on_llm_end: it totals a hookchain run as a LangChain one."""

    def run(model, handler):
        config = {"callbacks": [handler]}
        if api == "invoke":
            model.invoke("hi", config=config)
        elif api == "stream":
            list(model.stream("hi", config=config))
        elif api == "ainvoke":
            asyncio.run(model.ainvoke("hi", config=config))
        else:
            async def drain():
                return [c async for c in model.astream("hi", config=config)]
            asyncio.run(drain())
        return handler.usage_metadata

    native = run(_usage_model(lc_fakes, lc_messages), UsageMetadataCallbackHandler())
    bridged = run(_usage_model(hc_fakes, hookchain.messages), UsageMetadataCallbackHandler())
    # LangChain's GenericFakeChatModel streams the content only (no usage).
    assert native == ({"fake-1": USAGE} if api.endswith("invoke") else {})
    assert bridged == native


def test_langchain_objects_reach_the_handler():
    recorder = LCRecorder()
    chunks = list(_usage_model(hc_fakes, hookchain.messages).stream("hi", config={"callbacks": [recorder]}))
    assert "".join(c.content for c in chunks) == "hello there"
    by_event = {}
    for event, args, kwargs in recorder.log:
        by_event.setdefault(event, []).append((args, kwargs))
    (start_args, _), = by_event["on_chat_model_start"]
    assert type(start_args[1][0][0]) is lc_messages.HumanMessage
    for _, kwargs in by_event["on_llm_new_token"]:
        assert type(kwargs["chunk"]) is lc_outputs.ChatGenerationChunk
        assert type(kwargs["chunk"].message) is lc_messages.AIMessageChunk
    (end_args, _), = by_event["on_llm_end"]
    response = end_args[0]
    assert type(response) is lc_outputs.LLMResult
    message = response.generations[0][0].message
    assert type(message) is lc_messages.AIMessageChunk and message.content == "hello there"
    recorder.log.clear()
    _usage_model(hc_fakes, hookchain.messages).invoke("hi", config={"callbacks": [recorder]})
    message = recorder.log[-1][1][0].generations[0][0].message
    assert type(message) is lc_messages.AIMessage and message.usage_metadata == USAGE


def test_event_sequence_equals_langchain_run():
    """The same LangChain recorder on the same chain, run by LangChain and by
    hookchain: the same events, run tree, names and (normalised) data."""
    lc, hc = _chains()
    native, bridged = LCRecorder(), LCRecorder()
    lc.invoke({"animal": "bears"}, config={"callbacks": [native]})
    hc.invoke({"animal": "bears"}, config={"callbacks": [bridged]})
    assert events(bridged.log) == events(native.log)


def test_async_handler_is_awaited():
    recorder = LCAsyncRecorder()
    _, hc = _chains()
    assert asyncio.run(hc.ainvoke({"animal": "bears"}, config={"callbacks": [recorder]})) == "hello there"
    names = [e for e, _, _ in recorder.log]
    assert names[0] == "on_chain_start" and names[-1] == "on_chain_end" and "on_chat_model_start" in names


def test_handler_given_twice_runs_once():
    recorder = LCRecorder()
    model = hc_fakes.FakeListChatModel(responses=["x"], callbacks=[recorder])
    model.invoke("hi", config={"callbacks": [recorder]})
    assert [e for e, _, _ in recorder.log] == ["on_chat_model_start", "on_llm_end"]


def test_llm_start_fallback_as_langchain():
    """A LangChain handler without on_chat_model_start gets on_llm_start with
    the messages as strings, as LangChain does."""
    from langchain_core.callbacks import BaseCallbackHandler as LCBase

    class Prompts(LCBase):
        def __init__(self):
            self.prompts = []

        def on_llm_start(self, serialized, prompts, **kwargs):
            self.prompts.append(prompts)

    native, bridged = Prompts(), Prompts()
    lc_fakes.FakeListChatModel(responses=["x"]).invoke("hi there", config={"callbacks": [native]})
    hc_fakes.FakeListChatModel(responses=["x"]).invoke("hi there", config={"callbacks": [bridged]})
    assert bridged.prompts == native.prompts == [["Human: hi there"]]


def test_enable_and_disable_a_langchain_handler():
    recorder = LCRecorder()
    enable_handler(recorder)
    try:
        hc_fakes.FakeListChatModel(responses=["x"]).invoke("hi")
    finally:
        disable_handler(recorder)
    hc_fakes.FakeListChatModel(responses=["x"]).invoke("hi")
    assert [e for e, _, _ in recorder.log] == ["on_chat_model_start", "on_llm_end"]


def test_config_enables_a_langchain_handler(tmp_path, capsys):
    from hookchain import config

    path = tmp_path / "hookchain.toml"
    path.write_text('[handlers.langchain]\nclass = "langchain_core.callbacks:StdOutCallbackHandler"\n', encoding="utf-8")
    handlers = config.load(path).build_handlers()
    assert [type(h.handler) for h in handlers] == [StdOutCallbackHandler]
    _, hc = _chains()
    hc.invoke({"animal": "bears"}, config={"callbacks": handlers})
    assert "> Entering new RunnableSequence chain..." in capsys.readouterr().out


@pytest.mark.parametrize("spec, message", [
    ("no_such_module_zz:Handler", "module 'no_such_module_zz' is not installed; pip install no-such-module-zz"),
    ("langchain_core.callbacks:NoSuchHandler", "has no attribute 'NoSuchHandler'"),
    ("langchain_core.messages:AIMessage", "is not a langchain_core.callbacks.base.BaseCallbackHandler subclass"),
    ("StdOutCallbackHandler", "must be 'module:Class'"),
])
def test_bad_class_is_a_clear_error(spec, message):
    with pytest.raises(hookchain.errors.OptionError, match="option 'class'") as e:
        hookchain.get_handler("langchain", **{"class": spec})
    assert message in str(e.value)


def test_something_else_in_callbacks_is_still_a_type_error():
    with pytest.raises(TypeError, match="callbacks must be BaseCallbackHandler"):
        hc_fakes.FakeListChatModel(responses=["x"]).invoke("hi", config={"callbacks": [object()]})


class TestLangChainStdOutConformance(CallbackHandlerConformance):
    handler_name = "langchain"
    handler_options = {"class": "langchain_core.callbacks:StdOutCallbackHandler", "color": "green"}
    option_attributes = {"class": None}  # the class is the wrapped handler's type (see test_config_enables...)
    bad_option = ("class", "no_such_module_zz:Handler")


class TestLangChainUsageConformance(CallbackHandlerConformance):
    handler_name = "langchain"
    handler_options = {"class": "langchain_core.callbacks:UsageMetadataCallbackHandler"}
    option_attributes = {"class": None}
    bad_option = ("class", "langchain_core.callbacks:NoSuchHandler")


class TestLangChainAsyncConformance(CallbackHandlerConformance):
    handler_name = "langchain"
    handler_options = {"class": "langchain_bridge_helpers:LCAsyncRecorder"}
    option_attributes = {"class": None}
    bad_option = ("class", 3)


def test_adapt_callback_handler_hook_serves_any_library():
    """The core hook this plugin implements, with another plugin's adapter: the
    first implementation returning a handler wins; one returning None passes."""
    from hookchain import plugins
    from hookchain.callbacks import BaseCallbackHandler
    from hookchain.testing import RecordingHandler

    class Foreign:
        recorder = None

    class Adapter:
        @hookchain.hookimpl
        def adapt_callback_handler(self, handler):
            if isinstance(handler, Foreign):
                handler.recorder = handler.recorder or RecordingHandler()
                return handler.recorder
            return None

    plugins.register_plugin(Adapter(), name="test-foreign-adapter")
    try:
        foreign = Foreign()
        hc_fakes.FakeListChatModel(responses=["x"]).invoke("hi", config={"callbacks": [foreign]})
        assert isinstance(foreign.recorder, BaseCallbackHandler)
        assert foreign.recorder.names == ["on_chat_model_start", "on_llm_end"]
        recorder = LCRecorder()  # still this plugin's
        hc_fakes.FakeListChatModel(responses=["x"]).invoke("hi", config={"callbacks": [recorder]})
        assert [e for e, _, _ in recorder.log] == ["on_chat_model_start", "on_llm_end"]
    finally:
        plugins.reset()
