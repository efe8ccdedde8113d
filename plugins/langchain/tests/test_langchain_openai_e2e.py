"""langchain-openai's ChatOpenAI through the bridge, against the real LiteLLM
proxy the OpenAI plugin's tests start: the same request gives the answers and
the callback events hookchain's native ``openai`` model gives."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

pytest.importorskip("langchain_openai", reason="pip install -r tests/requirements.txt (it pins langchain-openai)")
pytest.importorskip("hookchain_openai", reason="the native openai model to compare with: pip install -e plugins/openai_compat")

_PLUGINS = str(Path(__file__).resolve().parents[2])
if _PLUGINS not in sys.path:  # the OpenAI plugin's test package (pytest adds it when it collects those tests)
    sys.path.insert(0, _PLUGINS)

import hookchain  # noqa: E402
from hookchain.messages import AIMessage, AIMessageChunk  # noqa: E402
from hookchain.testing import ChatModelConformance, RecordingHandler, isolated  # noqa: E402
from hookchain.tools import tool  # noqa: E402
from openai_compat.tests.conftest import MOCK_TEXT, litellm_proxy  # noqa: E402,F401 - the proxy fixture, reused

from langchain_bridge_helpers import events  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated():
    # langchain-openai caches one async HTTP client per process, bound to the event loop of its
    # first use; each test here runs its own loop (asyncio.run), so each starts without it.
    from langchain_openai.chat_models import _client_utils

    _client_utils._cached_async_httpx_client.cache_clear()
    with isolated():
        yield


def _models(proxy, model="mock-gpt"):
    native = hookchain.get_model("openai", base_url=proxy.base_url, model=model, api_key=proxy.key, max_retries=0)
    bridged = hookchain.get_model("langchain", class_="langchain_openai:ChatOpenAI", base_url=proxy.base_url,
                                  model=model, api_key=proxy.key, max_retries=0, stream_usage=True)
    return native, bridged


def _check_usage(usage):
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def _log(recorder):
    return [(e.name, e.args, e.kwargs) for e in recorder.events]


def test_invoke(litellm_proxy):
    native, bridged = _models(litellm_proxy)
    logs, messages = [], []
    for model in (native, bridged):
        recorder = RecordingHandler()
        messages.append(model.invoke("Say hello", config={"callbacks": [recorder]}))
        logs.append(_log(recorder))
    want, got = messages
    assert type(got) is AIMessage and got.content == want.content == MOCK_TEXT
    assert got.response_metadata["model_name"] == want.response_metadata["model_name"] == "mock-gpt"
    assert got.response_metadata["finish_reason"] == want.response_metadata["finish_reason"] == "stop"
    assert got.id.startswith("chatcmpl-") or got.id.startswith("run-")
    _check_usage(got.usage_metadata)
    assert got.usage_metadata["total_tokens"] == want.usage_metadata["total_tokens"]
    assert [e[0] for e in events(logs[1])] == [e[0] for e in events(logs[0])] == ["on_chat_model_start", "on_llm_end"]
    assert events(logs[1])[0] == events(logs[0])[0]  # same messages in on_chat_model_start


@pytest.mark.parametrize("api", ["stream", "astream"])
def test_stream(litellm_proxy, api):
    native, bridged = _models(litellm_proxy)
    outs, logs = [], []
    for model in (native, bridged):
        recorder = RecordingHandler()
        config = {"callbacks": [recorder]}
        if api == "stream":
            chunks = list(model.stream("Say hello", config=config))
        else:
            async def drain():
                return [c async for c in model.astream("Say hello", config=config)]
            chunks = asyncio.run(drain())
        outs.append(chunks)
        logs.append(_log(recorder))
    want, got = outs
    assert all(type(c) is AIMessageChunk for c in got)
    total = got[0] + got[1:]
    assert total.content == MOCK_TEXT
    _check_usage(total.usage_metadata)
    # the counts are the server's; the detail dicts are each integration's own mapping
    counts = lambda usage: {k: usage[k] for k in ("input_tokens", "output_tokens", "total_tokens")}  # noqa: E731
    assert counts(total.usage_metadata) == counts((want[0] + want[1:]).usage_metadata)
    # the same events and tokens, one per SSE chunk (the empty ones carry finish_reason and usage)
    shape = lambda log: [(e[0], e[1], e[2], e[4][0] if e[0] == "on_llm_new_token" else None) for e in events(log)]  # noqa: E731
    assert shape(logs[1]) == shape(logs[0])
    assert [e[0] for e in shape(logs[1]) if e[0] != "on_llm_new_token"] == ["on_chat_model_start", "on_llm_end"]


def test_tool_call(litellm_proxy):
    @tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return "sunny"

    native, bridged = _models(litellm_proxy, model="mock-tools")
    want = native.bind_tools([get_weather]).invoke("Weather in Paris?")
    got = bridged.bind_tools([get_weather]).invoke("Weather in Paris?")
    assert got.tool_calls == want.tool_calls
    assert [(c["name"], c["args"]) for c in got.tool_calls] == [("get_weather", {"city": "Paris"})]


def test_options_go_to_chatopenai(litellm_proxy):
    _, bridged = _models(litellm_proxy)
    assert bridged.chat_model.model_name == "mock-gpt" and bridged._llm_type == "openai-chat"
    assert litellm_proxy.key not in repr(bridged)
    with pytest.raises(hookchain.errors.OptionError, match="unknown option"):
        hookchain.get_model("langchain", class_="langchain_openai:ChatOpenAI", model="m", api_key="k", no_such_option=1)


class TestChatOpenAIConformance(ChatModelConformance):
    """hookchain's chat-model conformance suite, tool calling included, run on
    ChatOpenAI through the bridge against the proxy (as the openai plugin's)."""

    model_name = "langchain"
    bad_option = ("temperature", "hot")
    failing_model_options = {"class": "langchain_openai:ChatOpenAI", "model": "mock-broken", "max_retries": 0}
    # LiteLLM's mock_response answers ignore `stop`
    test_stop_sequence_honoured = None
    has_tool_calling = True

    @pytest.fixture(autouse=True)
    def _on_the_proxy(self, litellm_proxy, request):
        if request.node.name in ("test_tool_calling[astream]", "test_batch[abatch]", "test_callbacks_in_chain[astream]"):
            # These run a second event loop in one test; langchain-openai reuses the async HTTP
            # client it cached on the first (closed) loop: "Event loop is closed" - LangChain's
            # own ChatOpenAI.ainvoke twice under asyncio.run fails the same way, without the bridge.
            pytest.skip("langchain-openai's cached async client cannot serve a second event loop")
        tools = request.node.name.startswith("test_tool")
        self.model_options = {"class": "langchain_openai:ChatOpenAI", "base_url": litellm_proxy.base_url,
                              "model": "mock-tool-user" if tools else "mock-gpt", "api_key": litellm_proxy.key,
                              "max_retries": 0, "stream_usage": True}
        if self.failing_model_options is not None:
            self.failing_model_options = {**self.failing_model_options, "base_url": litellm_proxy.base_url,
                                          "api_key": litellm_proxy.key}
