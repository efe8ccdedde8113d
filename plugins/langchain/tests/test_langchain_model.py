"""LangChain chat models as hookchain models: the ``langchain`` model."""

from __future__ import annotations

import asyncio

import langchain_core.language_models.fake_chat_models as lc_fakes
import langchain_core.messages as lc_messages
import pytest

import hookchain
from hookchain.callbacks import enable_handler
from hookchain.errors import OptionError
from hookchain.language_models import fake_chat_models as hc_fakes
from hookchain.messages import AIMessage, AIMessageChunk, HumanMessage
from hookchain.testing import ChatModelConformance, RecordingHandler, isolated
from hookchain.tools import tool

from hookchain_langchain import from_langchain
from langchain_bridge_helpers import LCEchoChatModel, events

GENERIC = "langchain_core.language_models.fake_chat_models:GenericFakeChatModel"
USAGE = {"input_tokens": 4, "output_tokens": 3, "total_tokens": 7}


@pytest.fixture(autouse=True)
def _isolated():
    with isolated():
        yield


def _answers(messages_module):
    return [messages_module.AIMessage("the quick fox", id="answer-1", usage_metadata=USAGE,
                                      response_metadata={"model_name": "fake-2", "finish_reason": "stop"}),
            messages_module.AIMessage("", tool_calls=[{"name": "lookup", "args": {"q": "bears"}, "id": "call_1"}],
                                      response_metadata={"model_name": "fake-2"})]


def _pair():
    """hookchain's GenericFakeChatModel, and LangChain's through the bridge."""
    native = hc_fakes.GenericFakeChatModel(messages=iter(_answers(hookchain.messages)))
    bridged = hookchain.get_model("langchain", class_=GENERIC, messages=iter(_answers(lc_messages)))
    return native, bridged


def _recorded(model, api):
    recorder = RecordingHandler()
    config = {"callbacks": [recorder], "tags": ["t"], "metadata": {"m": 1}}
    if api == "invoke":
        out = [model.invoke("hi", config=config), model.invoke("hi", config=config)]
    elif api == "ainvoke":
        out = [asyncio.run(model.ainvoke("hi", config=config))]
    elif api == "batch":
        out = model.batch(["hi", "ho"], config=config)
    elif api == "stream":
        out = list(model.stream("hi", config=config))
    else:
        async def drain():
            return [c async for c in model.astream("hi", config=config)]
        out = asyncio.run(drain())
    log = [(e.name, e.args, e.kwargs) for e in recorder.events]
    return out, log


@pytest.mark.parametrize("api", ["invoke", "ainvoke", "batch", "stream", "astream"])
def test_same_events_as_hookchains_own_fake(api):
    """LangChain's GenericFakeChatModel through the bridge fires the events
    hookchain's GenericFakeChatModel fires, with equal messages (text, tool
    calls, usage, response metadata, ids)."""
    native, bridged = _pair()
    native_out, native_log = _recorded(native, api)
    bridged_out, bridged_log = _recorded(bridged, api)
    strip = lambda m: m.model_copy(update={"id": None}) if m.id and m.id.startswith("run-") else m  # noqa: E731
    if api == "batch":  # concurrent runs: compare as sets
        assert sorted(map(repr, map(strip, bridged_out))) == sorted(map(repr, map(strip, native_out)))
        assert sorted(e[0] for e in events(bridged_log)) == sorted(e[0] for e in events(native_log))
        return
    assert [strip(m) for m in bridged_out] == [strip(m) for m in native_out]
    assert events(bridged_log) == events(native_log)
    for (_, _, n), (_, _, b) in zip(native_log, bridged_log):
        assert (b.get("tags"), b.get("metadata")) == (n.get("tags"), n.get("metadata"))
    if api == "invoke":
        first, second = bridged_out
        assert type(first) is AIMessage and first.id == "answer-1" and first.usage_metadata == USAGE
        assert first.response_metadata == {"model_name": "fake-2", "finish_reason": "stop"}
        assert second.tool_calls == [{"name": "lookup", "args": {"q": "bears"}, "id": "call_1", "type": "tool_call"}]
    if api.endswith("stream"):
        assert all(type(c) is AIMessageChunk for c in bridged_out)


def test_invocation_params_and_names_are_the_wrapped_models():
    model = hookchain.get_model("langchain", class_=LCEchoChatModel, model_name="m-1")
    recorder = RecordingHandler()
    model.invoke("a b", config={"callbacks": [recorder]})
    start = recorder.of("on_chat_model_start")[0]
    assert start.args[0] == {"id": ["langchain_bridge_helpers", "LCEchoChatModel"], "name": "LCEchoChatModel"}
    assert start.kwargs["invocation_params"] == {"model_name": "m-1", "_type": "lc-echo", "stop": None}
    end = recorder.of("on_llm_end")[0].args[0]
    message = end.generations[0][0].message
    # as LangChain: generation_info and llm_output go into response_metadata
    assert message.response_metadata == {"model_name": "m-1", "finish_reason": "stop"}
    assert end.llm_output == {"model_name": "m-1"}


def test_streamed_chunks_keep_usage_and_metadata():
    model = from_langchain(LCEchoChatModel())
    chunks = list(model.stream("one two three"))
    total = chunks[0] + chunks[1:]
    assert total.content == "one two three"
    assert total.usage_metadata == {"input_tokens": 3, "output_tokens": 3, "total_tokens": 6}
    assert total.response_metadata == {"model_name": "lc-echo", "finish_reason": "stop"}


def test_input_messages_reach_langchain_losslessly():
    seen = []

    class Spy(LCEchoChatModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            seen.append((messages, stop, kwargs))
            return super()._generate(messages, stop, **kwargs)

    history = [
        HumanMessage("find bears", id="h1", name="ann"),
        AIMessage("", id="a1", tool_calls=[{"name": "lookup", "args": {"q": "bears"}, "id": "call_1"}],
                  usage_metadata=USAGE, response_metadata={"model_name": "x"}),
        hookchain.messages.ToolMessage("3 bears", tool_call_id="call_1", artifact={"n": 3}),
    ]
    from_langchain(Spy()).invoke(history, stop=["!"], temperature=0)
    (messages, stop, kwargs), = seen
    assert [type(m) for m in messages] == [lc_messages.HumanMessage, lc_messages.AIMessage, lc_messages.ToolMessage]
    assert messages[0].id == "h1" and messages[0].name == "ann"
    assert messages[1].tool_calls == history[1].tool_calls and messages[1].usage_metadata == USAGE
    assert messages[2].artifact == {"n": 3} and messages[2].tool_call_id == "call_1"
    assert (stop, kwargs) == (["!"], {"temperature": 0})


def test_bind_tools_is_the_wrapped_models():
    seen = []

    class ToolEcho(LCEchoChatModel):
        def bind_tools(self, tools, *, tool_choice=None, **kwargs):
            from langchain_core.utils.function_calling import convert_to_openai_tool

            return self.bind(tools=[convert_to_openai_tool(t) for t in tools], tool_choice=tool_choice or "auto", **kwargs)

        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            seen.append(kwargs)
            return super()._generate(messages, stop, **kwargs)

    @tool
    def lookup(q: str) -> str:
        """Look something up."""
        return q

    bound = from_langchain(ToolEcho()).bind_tools([lookup], tool_choice="lookup")
    assert bound.invoke("hi").content == "hi"
    (kwargs,), = [seen]
    assert kwargs["tool_choice"] == "lookup"
    assert kwargs["tools"][0]["function"]["name"] == "lookup"


def test_bind_tools_of_a_model_without_tools():
    with pytest.raises(NotImplementedError):
        from_langchain(LCEchoChatModel()).bind_tools([{"type": "function", "function": {"name": "f", "parameters": {}}}])


def test_chat_model_hooks_see_it(tmp_path):
    """The cache plugin answers the second identical call: the LangChain model runs once."""
    calls = []

    class Counting(LCEchoChatModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            calls.append(1)
            return super()._generate(messages, stop, **kwargs)

    enable_handler(hookchain.get_handler("cache", path=str(tmp_path / "c.sqlite")))
    model = from_langchain(Counting())
    first, second = model.invoke("same words"), model.invoke("same words")
    assert first.content == second.content == "same words"
    assert len(calls) == 1


def test_redact_hook_masks_what_the_langchain_model_sees():
    enable_handler(hookchain.get_handler("redact"))
    assert from_langchain(LCEchoChatModel()).invoke("mail bob@example.com").content == "mail <EMAIL_1>"


def test_streaming_field_follows_the_wrapped_model():
    """As LangChain's invoke of ChatOpenAI(streaming=True): tokens fire."""
    recorder = RecordingHandler()
    model = hookchain.get_model("langchain", class_=LCEchoChatModel, streaming=True)
    assert model.streaming is True
    assert model.invoke("a b", config={"callbacks": [recorder]}).content == "a b"
    assert [e.args[0] for e in recorder.of("on_llm_new_token")] == ["a", " b", ""]
    assert from_langchain(LCEchoChatModel()).streaming is False
    assert from_langchain(LCEchoChatModel(disable_streaming=True)).disable_streaming is True


def test_model_without_stream_answers_stream_with_one_chunk():
    model = hookchain.get_model("langchain", **{"class": "langchain_core.language_models.fake_chat_models:FakeMessagesListChatModel",
                                                "responses": [lc_messages.AIMessage("whole")]})
    assert [c.content for c in model.stream("hi")] == ["whole"]


def test_config_file_builds_it(tmp_path):
    from hookchain import config

    path = tmp_path / "hookchain.toml"
    path.write_text('model = "langchain"\n[models.langchain]\n'
                    'class = "langchain_core.language_models.fake_chat_models:FakeListChatModel"\n'
                    'responses = ["from the config"]\n', encoding="utf-8")
    cfg = config.load(path)
    model = hookchain.get_model(cfg.model, **cfg.models[cfg.model])
    assert model.invoke("hi").content == "from the config"


@pytest.mark.parametrize("options, message", [
    ({"class": "langchain_openai_zz:ChatOpenAI"}, "module 'langchain_openai_zz' is not installed; pip install langchain-openai-zz"),
    ({}, "option 'class' is required"),
    ({"class": "langchain_core.callbacks:StdOutCallbackHandler"}, "is not a langchain_core.language_models.chat_models.BaseChatModel subclass"),
    ({"class": GENERIC, "messages": iter([]), "bogus": 1}, "unknown option(s) 'bogus'"),
])
def test_bad_options_are_clear_errors(options, message):
    with pytest.raises(OptionError) as e:
        hookchain.get_model("langchain", **options)
    assert message in str(e.value)


def test_validation_error_of_the_class_names_the_option():
    with pytest.raises(OptionError, match="option 'responses'"):
        hookchain.get_model("langchain", **{"class": "langchain_core.language_models.fake_chat_models:FakeListChatModel",
                                            "responses": 3})


class TestLangChainEchoConformance(ChatModelConformance):
    """A LangChain integration (written against langchain_core only) through the bridge."""

    model_name = "langchain"
    model_options = {"class": "langchain_bridge_helpers:LCEchoChatModel", "model_name": "lc-echo-conformance"}
    bad_option = ("model_name", 3)
    deterministic = True
    error_input = []  # no messages: LCEchoChatModel raises ValueError


class TestLangChainFakeListConformance(ChatModelConformance):
    """langchain_core's own FakeListChatModel (streams character by character)."""

    model_name = "langchain"
    model_options = {"class": "langchain_core.language_models.fake_chat_models:FakeListChatModel",
                     "responses": ["alpha bravo charlie delta echo"]}
    bad_option = ("class", "no_such_module_zz:Model")
    deterministic = True
    # FakeListChatModel answers its scripted response whatever the stop sequences.
    test_stop_sequence_honoured = None
