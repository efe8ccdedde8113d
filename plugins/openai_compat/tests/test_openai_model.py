"""ChatOpenAI against a scripted fake HTTP server: the request it sends, the
error mapping, retries, broken streams, secrets. (The end-to-end tests against
a real server are in test_openai_e2e.py.)"""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest
from tenacity import RetryCallState

import hookchain
from hookchain.callbacks import BaseCallbackHandler
from hookchain.errors import HookchainError, OptionError
from hookchain.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
from hookchain.prompts import ChatPromptTemplate
from hookchain_openai import ChatOpenAI, errors

from .conftest import Reply, completion, sse, text_chunks

KEY = "sk-unit-test-secret-9c41d7a0e2"


def make(server, model="gpt-4o-mini", **options):
    options.setdefault("retry_backoff", 0.01)
    return hookchain.get_model("openai", base_url=server.base_url, model=model, api_key=KEY, **options)


def leaks(recorder) -> list[str]:
    return [repr(e) for e in recorder.events if KEY in repr(e)]


# -- registration and options ---------------------------------------------- #


def test_registered_under_both_names():
    from hookchain.plugins import list_models, list_plugins

    assert list_models()["openai"] == ["openai"] and list_models()["openai-compatible"] == ["openai"]
    plugin = next(p for p in list_plugins() if p.name == "openai")
    assert plugin.distribution == "hookchain-openai" and plugin.error is None
    assert type(hookchain.get_model("openai-compatible", api_key="x")) is ChatOpenAI


def test_options_as_the_cli_gives_them():
    model = hookchain.get_model("openai", base_url="http://localhost:8000/v1/", model="m", api_key="k",
                                temperature="0.5", max_tokens="64", stop="END", timeout="2.5", max_retries="0")
    assert model.base_url == "http://localhost:8000/v1"
    assert (model.temperature, model.max_tokens, model.stop, model.timeout, model.max_retries) == (0.5, 64, ["END"], 2.5, 0)
    # LangChain ChatOpenAI's spellings
    legacy = ChatOpenAI(model_name="legacy", openai_api_key="k", openai_api_base="http://h:1/v1", request_timeout=3,
                        stop_sequences=["x"], openai_organization="org")
    assert (legacy.model, legacy.api_key.get_secret_value(), legacy.base_url, legacy.timeout, legacy.stop, legacy.organization) == (
        "legacy", "k", "http://h:1/v1", 3.0, ["x"], "org")
    with pytest.raises(OptionError, match="base_url.*http:// or https://"):
        hookchain.get_model("openai", base_url="localhost:8000")
    with pytest.raises(OptionError, match="unknown option 'temprature'"):
        hookchain.get_model("openai", temprature=1)
    with pytest.raises(OptionError, match="max_tokens"):
        hookchain.get_model("openai", max_tokens=0)


def test_key_and_base_url_from_the_environment(monkeypatch, fake_server):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_server.base_url)
    fake_server.script("env-model", Reply(body=completion("ok")))
    model = ChatOpenAI(model="env-model")
    assert model.base_url == fake_server.base_url
    assert model.invoke("hi").content == "ok"
    assert fake_server.requests[-1]["headers"]["Authorization"] == f"Bearer {KEY}"
    assert KEY not in repr(model) and KEY not in str(model) and KEY not in model.model_dump_json()


def test_request_body(fake_server):
    fake_server.script("m", Reply(body=completion("ok")))
    model = make(fake_server, "m", temperature=0.2, max_tokens=50, top_p=0.9, seed=7, stop=["DEFAULT"],
                 extra_body={"top_k": 20}, model_kwargs={"user": "u1"})
    model.invoke([SystemMessage("sys"), HumanMessage("hi")])
    body = fake_server.requests[-1]["body"]
    assert body == {"model": "m", "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}],
                    "temperature": 0.2, "max_tokens": 50, "top_p": 0.9, "seed": 7, "stop": ["DEFAULT"],
                    "user": "u1", "top_k": 20}
    assert fake_server.requests[-1]["path"] == "/v1/chat/completions"
    model.invoke("hi", stop=["CALL"])  # a call's stop replaces the default
    assert fake_server.requests[-1]["body"]["stop"] == ["CALL"]
    # call-time keyword arguments (tools, response_format...) reach the request
    model.invoke("hi", tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}])
    assert fake_server.requests[-1]["body"]["tools"][0]["function"]["name"] == "f"


def test_stream_request_asks_for_usage(fake_server):
    fake_server.script("m", Reply(events=[*text_chunks("hey"), "[DONE]"]))
    model = make(fake_server, "m")
    assert "".join(c.content for c in model.stream("hi", stop=["x"])) == "hey"
    body = fake_server.requests[-1]["body"]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True} and body["stop"] == ["x"]
    list(make(fake_server, "m", stream_usage=False).stream("hi"))
    assert "stream_options" not in fake_server.requests[-1]["body"]


# -- answers ------------------------------------------------------------------ #


def test_invoke_and_stream_give_the_same_answer(fake_server, recorder):
    fake_server.script("m", Reply(body=completion("Hello world")))
    fake_server.script("s", Reply(events=[*text_chunks("Hello world"), "[DONE]"]))
    message = make(fake_server, "m").invoke("hi", config={"callbacks": [recorder]})
    assert isinstance(message, AIMessage) and message.content == "Hello world"
    assert message.id.startswith("run-")
    start = recorder.of("on_chat_model_start")[0]
    assert start[4]["invocation_params"]["model_name"] == "m"
    assert start[4]["invocation_params"]["base_url"] == fake_server.base_url
    assert start[4]["invocation_params"]["_type"] == "openai-chat"

    recorder.events.clear()
    chunks = list(make(fake_server, "s").stream("hi", config={"callbacks": [recorder]}))
    assert [c.content for c in chunks] == ["", "Hell", "o wo", "rld", "", ""]
    tokens = recorder.of("on_llm_new_token")
    assert [t[3][0] for t in tokens] == [c.content for c in chunks]
    total = chunks[0] + chunks[1:]
    assert total.usage_metadata == {"input_tokens": 9, "output_tokens": 5, "total_tokens": 14}
    assert total.response_metadata["finish_reason"] == "stop"
    end = recorder.of("on_llm_end")[0][3][0]
    assert end.generations[0][0].message.content == "Hello world"


def test_invoke_with_streaming_true_streams(fake_server, recorder):
    fake_server.script("s", Reply(events=[*text_chunks("abcdefgh", size=2), "[DONE]"]))
    message = make(fake_server, "s", streaming=True).invoke("hi", config={"callbacks": [recorder]})
    assert type(message) is AIMessage and message.content == "abcdefgh"
    assert message.usage_metadata["total_tokens"] == 14
    assert len(recorder.of("on_llm_new_token")) == 7  # role + 4 content + finish + usage
    assert fake_server.requests[-1]["body"]["stream"] is True


def test_streamed_tool_calls_end_up_parsed(fake_server):
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    events = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [
            {"index": 0, "id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1'}}]}}]},
        {**base, "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": ', "b": 2}'}}]}}]},
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        "[DONE]",
    ]
    fake_server.script("t", Reply(events=events))
    model = make(fake_server, "t", streaming=True)
    message = model.invoke("add 1 and 2")
    assert message.tool_calls == [{"name": "add", "args": {"a": 1, "b": 2}, "id": "call_1", "type": "tool_call"}]
    chunks = list(model.stream("add 1 and 2"))
    assert (chunks[0] + chunks[1:]).tool_call_chunks[0]["args"] == '{"a": 1, "b": 2}'


async def _collect(aiter):
    return [c async for c in aiter]


def test_async_paths_use_the_async_client(fake_server, recorder):
    fake_server.script("m", Reply(body=completion("async ok")))
    fake_server.script("s", Reply(events=[*text_chunks("async stream"), "[DONE]"]))
    model = make(fake_server, "m")
    streamer = make(fake_server, "s")

    async def main():
        one = await model.ainvoke("hi", config={"callbacks": [recorder]})
        chunks = await _collect(streamer.astream("hi", config={"callbacks": [recorder]}))
        many = await model.abatch(["a", "b", "c"], config={"max_concurrency": 2})
        return one, chunks, many

    one, chunks, many = asyncio.run(main())
    assert one.content == "async ok" and [m.content for m in many] == ["async ok"] * 3
    assert "".join(c.content for c in chunks) == "async stream"
    assert len(recorder.of("on_llm_new_token")) == len(chunks)
    assert model._client is None  # the sync client was never needed
    # a second event loop gets its own async client (an httpx.AsyncClient cannot outlive its loop)
    assert asyncio.run(model.ainvoke("again")).content == "async ok"


def test_one_sync_client_per_model_instance(fake_server):
    fake_server.script("m", Reply(body=completion("ok")))
    model = make(fake_server, "m")
    assert model._client is None  # created on first use
    model.invoke("a")
    client = model._sync_client()
    model.batch(["b", "c", "d"])
    assert model._sync_client() is client
    assert model.model_copy(update={"streaming": True})._sync_client() is client  # same settings: shared
    other = model.model_copy(update={"base_url": "http://127.0.0.1:9/v1"})
    assert other._sync_client() is not client and str(other._sync_client().base_url).startswith("http://127.0.0.1:9/v1")
    assert make(fake_server, "m")._client is None


# -- errors ------------------------------------------------------------------- #


def _error_run(model, recorder, value="hi"):
    chain = ChatPromptTemplate.from_messages([("human", "{q}")]) | model
    with pytest.raises(HookchainError) as info:
        chain.invoke({"q": value}, config={"callbacks": [recorder]})
    return info.value


def test_404_names_the_model(fake_server, recorder):
    # (no script: the fake server answers 404 "model does not exist", as vLLM does)
    error = _error_run(make(fake_server, "llama-9000"), recorder)
    assert isinstance(error, errors.ModelNotFoundError) and isinstance(error, LookupError)
    assert "'llama-9000'" in str(error) and fake_server.base_url in str(error) and error.status_code == 404
    assert len(fake_server.requests) == 1  # not retried
    llm_errors = recorder.of("on_llm_error")
    assert len(llm_errors) == 1 and llm_errors[0][3][0] is error
    assert recorder.names()[-1] == "on_chain_error"


def test_401_says_where_the_key_came_from_without_showing_it(fake_server, recorder, caplog):
    caplog.set_level(logging.DEBUG)
    # a server that echoes the key back in its error message
    fake_server.script("m", Reply(401, {"error": {"message": f"Incorrect API key provided: {KEY}", "type": "invalid_request_error"}}))
    error = _error_run(make(fake_server, "m"), recorder)
    assert isinstance(error, errors.AuthenticationError)
    text = str(error)
    assert "401" in text and fake_server.base_url in text and "api_key option" in text
    assert KEY not in text and KEY not in repr(error) and KEY not in repr(error.body)
    assert error.__cause__ is None and error.__context__ is None  # the SDK error (its request holds the key) is not chained
    assert not leaks(recorder)
    assert not [r for r in caplog.records if KEY in r.getMessage()]


@pytest.mark.parametrize("given", [{}, {"api_key": ""}])
def test_401_without_any_key(monkeypatch, fake_server, given):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    fake_server.script("m", Reply(401, {"error": {"message": "missing key"}}))
    model = ChatOpenAI(base_url=fake_server.base_url, model="m", **given)
    with pytest.raises(errors.AuthenticationError, match="No API key was given: set OPENAI_API_KEY"):
        model.invoke("hi")
    assert fake_server.requests[-1]["headers"]["Authorization"] == "Bearer EMPTY"


class RetryWatcher(BaseCallbackHandler):
    def __init__(self):
        self.snapshots = []

    def on_retry(self, retry_state, **kwargs):
        error = retry_state.outcome.exception()
        self.snapshots.append((retry_state.attempt_number, type(error), error.retry_after))


def test_429_is_retried_with_on_retry(fake_server, recorder):
    seen = RetryWatcher()
    fake_server.script("m", Reply(429, {"error": {"message": "slow down"}}, headers={"retry-after-ms": "10"}),
                       Reply(body=completion("finally")))
    message = make(fake_server, "m").invoke("hi", config={"callbacks": [recorder, seen]})
    assert message.content == "finally"
    assert len(fake_server.requests) == 2
    retries = recorder.of("on_retry")
    assert len(retries) == 1
    assert isinstance(retries[0][3][0], RetryCallState)
    assert retries[0][1] == recorder.of("on_chat_model_start")[0][1]  # same run
    assert recorder.names() == ["on_chat_model_start", "on_retry", "on_llm_end"]
    # what the retry state says when on_retry fires (tenacity updates it afterwards)
    assert seen.snapshots == [(1, errors.RateLimitError, 0.01)]


def test_async_retry_fires_on_retry(fake_server, recorder):
    fake_server.script("m", Reply(503, {"error": {"message": "warming up"}}), Reply(body=completion("up")))
    assert asyncio.run(make(fake_server, "m").ainvoke("hi", config={"callbacks": [recorder]})).content == "up"
    assert len(recorder.of("on_retry")) == 1 and len(fake_server.requests) == 2


def test_5xx_gives_up_after_max_retries(fake_server, recorder):
    fake_server.script("m", Reply(500, {"error": {"message": "boom"}}))
    error = _error_run(make(fake_server, "m", max_retries=2), recorder)
    assert isinstance(error, errors.ServerError) and error.status_code == 500
    assert "boom" in str(error) and "gave up after 3 attempts" in str(error)
    assert len(fake_server.requests) == 3 and len(recorder.of("on_retry")) == 2


def test_other_4xx_is_not_retried(fake_server):
    fake_server.script("m", Reply(400, {"error": {"message": "temperature must be <= 2"}}))
    with pytest.raises(errors.BadRequestError, match=r"rejected the request for model 'm' \(400\): temperature must be <= 2"):
        make(fake_server, "m").invoke("hi")
    assert len(fake_server.requests) == 1


def test_unreachable_server_names_the_base_url(recorder):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    model = hookchain.get_model("openai", base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY, max_retries=1, retry_backoff=0.01)
    with pytest.raises(errors.ServerUnreachableError, match=rf"cannot reach the OpenAI-compatible server at http://127.0.0.1:{port}/v1") as info:
        model.invoke("hi", config={"callbacks": [recorder]})
    assert "gave up after 2 attempts" in str(info.value)
    assert len(recorder.of("on_retry")) == 1 and len(recorder.of("on_llm_error")) == 1
    with pytest.raises(errors.ServerUnreachableError):
        list(model.stream("hi"))


def test_timeout_names_the_option(fake_server):
    fake_server.script("slow", Reply(body=completion("late"), delay=1.0))
    with pytest.raises(errors.RequestTimeoutError, match=r"did not answer within 0.2 s \(the timeout option\)"):
        make(fake_server, "slow", timeout=0.2, max_retries=0).invoke("hi")


def test_non_json_answer_is_malformed(fake_server):
    fake_server.script("html", Reply(200, "<html>captive portal</html>"))
    with pytest.raises(errors.MalformedResponseError, match="expected a JSON object, got '<html>captive portal"):
        make(fake_server, "html").invoke("hi")


# -- broken streams ------------------------------------------------------------- #


@pytest.mark.parametrize("api", ["stream", "astream"])
def test_connection_cut_mid_stream(fake_server, recorder, api):
    events = [*text_chunks("one two three four"), "[DONE]"]
    fake_server.script("cut", Reply(events=events, cut_after=3))  # role chunk + 2 content chunks, then the line drops
    model = make(fake_server, "cut")
    got: list = []

    async def consume():
        async for c in model.astream("hi", config={"callbacks": [recorder]}):
            got.append(c)

    with pytest.raises(errors.StreamInterruptedError, match=r"broke after 3 chunk\(s\)") as info:
        if api == "stream":
            for c in model.stream("hi", config={"callbacks": [recorder]}):
                got.append(c)
        else:
            asyncio.run(consume())
    assert "".join(c.content for c in got) == "one two "
    assert len(fake_server.requests) == 1  # chunks had arrived: not retried
    assert isinstance(info.value, HookchainError)
    (error_event,) = recorder.of("on_llm_error")
    assert error_event[3][0] is info.value
    partial = error_event[4]["response"].generations[0][0].message
    assert partial.content == "one two "  # what arrived before the cut
    assert len(recorder.of("on_llm_new_token")) == 3 and not recorder.of("on_llm_end")


def test_stream_closed_before_finishing(fake_server):
    # a connection-delimited body that just stops: no error from HTTP, but no finish_reason either
    fake_server.script("eof", Reply(events=text_chunks("partial answer", finish=None, usage=False), close_delimited=True))
    with pytest.raises(errors.StreamInterruptedError, match=r"ended before model 'eof' finished \(no finish_reason after 5 chunk"):
        list(make(fake_server, "eof").stream("hi"))


def test_stream_cut_before_the_first_chunk_is_retried(fake_server, caplog):
    caplog.set_level(logging.INFO, logger="hookchain_openai")
    fake_server.script("flaky", Reply(events=text_chunks("x"), cut_after=0), Reply(events=[*text_chunks("second try"), "[DONE]"]))
    chunks = list(make(fake_server, "flaky").stream("hi"))
    assert "".join(c.content for c in chunks) == "second try"
    assert len(fake_server.requests) == 2
    assert any("retry 1 of 2" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("api", ["stream", "astream"])
def test_garbage_in_the_stream(fake_server, api):
    fake_server.script("junk", Reply(events=[text_chunks("ok")[1], b"data: {not json\n\n"]))
    model = make(fake_server, "junk")
    with pytest.raises(errors.MalformedResponseError, match="not JSON after 1 chunk"):
        if api == "stream":
            list(model.stream("hi"))
        else:
            asyncio.run(_collect(model.astream("hi")))
    assert len(fake_server.requests) == 1


def test_error_event_inside_the_stream(fake_server):
    fake_server.script("err", Reply(events=[text_chunks("ok")[1], {"error": {"message": "upstream overloaded"}}]))
    with pytest.raises(errors.ServerError, match="reported an error during the stream for model 'err': upstream overloaded"):
        list(make(fake_server, "err").stream("hi"))


# -- secrets ---------------------------------------------------------------- #


def test_key_never_reaches_handlers_reprs_or_logs(fake_server, recorder, caplog):
    caplog.set_level(logging.DEBUG)
    fake_server.script("m", Reply(body=completion("ok")))
    fake_server.script("s", Reply(events=[*text_chunks("ok"), "[DONE]"]))
    fake_server.script("bad", Reply(500, {"error": {"message": "nope"}}))
    model = make(fake_server, "m", default_headers={"X-Extra-Token": KEY})
    config = {"callbacks": [recorder]}
    outputs = [model.invoke("hi", config=config), *make(fake_server, "s").stream("hi", config=config),
               asyncio.run(model.ainvoke("hi", config=config))]
    with pytest.raises(errors.ServerError) as info:
        make(fake_server, "bad", max_retries=1).invoke("hi", config=config)
    assert recorder.of("on_retry") and recorder.of("on_llm_error")
    for place in (repr(model), str(model), repr(outputs), repr(info.value), str(info.value), repr(model._identifying_params)):
        assert KEY not in place
    assert not leaks(recorder)
    assert not [r for r in caplog.records if KEY in r.getMessage()]
    # ... while the server did get it
    assert fake_server.requests_for("m")[0]["headers"]["Authorization"] == f"Bearer {KEY}"
    assert fake_server.requests_for("m")[0]["headers"]["X-Extra-Token"] == KEY


def test_errors_pickle():
    import pickle

    error = errors.RateLimitError("slow", status_code=429, retry_after=2.0)
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is errors.RateLimitError and str(clone) == "slow" and clone.retry_after == 2.0


PASSWORD = "pw-3f9a61c0d7e2b845"
HEADER_TOKEN = "hdr-tok-6b1e0f93a2c7d458"


def _every_secret_model(server, model):
    base_url = server.base_url.replace("http://", f"http://proxyuser:{PASSWORD}@")
    return hookchain.get_model("openai", base_url=base_url, model=model, api_key=KEY, max_retries=0,
                               default_headers={"X-Gateway-Auth": f"Bearer {HEADER_TOKEN}"})


def _places(model, error, recorder):
    yield "repr(model)", repr(model)
    yield "str(model)", str(model)
    yield "model_dump_json", model.model_dump_json()
    yield "model_dump", repr(model.model_dump())
    yield "_identifying_params", repr(model._identifying_params)
    yield "str(error)", str(error)
    yield "repr(error)", repr(error)
    yield "error.body", repr(error.body)
    yield "callbacks", repr(recorder.events)


@pytest.mark.parametrize("secret", [KEY, HEADER_TOKEN, PASSWORD])
@pytest.mark.parametrize("at", [480, 490, 495, 499])
def test_every_secret_is_scrubbed_before_the_message_is_cut(fake_server, recorder, secret, at):
    # A proxy that echoes a secret close to where the server message is cut (500 characters):
    # neither the whole secret nor a piece of it may show anywhere.
    message = "x" * at + f" {secret} " + "y" * 100
    fake_server.script("echo", Reply(502, {"error": {"message": message, "echo": {"headers": secret}}}))
    model = _every_secret_model(fake_server, "echo")
    error = _error_run(model, recorder)
    assert isinstance(error, errors.ServerError) and len(str(error)) < 800
    for where, text in _places(model, error, recorder):
        for piece in (secret[:8], secret[-8:]):
            assert piece not in text, f"part of a secret ({piece!r}) in {where}"
    # ... while the server did get the key, the header and (as Basic credentials) the password
    headers = fake_server.requests_for("echo")[0]["headers"]
    assert headers["X-Gateway-Auth"] == f"Bearer {HEADER_TOKEN}"


def test_base_url_password_and_headers_are_hidden_but_sent(fake_server):
    import base64

    fake_server.script("ok", Reply(body=completion("ok")))
    model = _every_secret_model(fake_server, "ok")
    assert model.invoke("hi").content == "ok"
    sent = fake_server.requests_for("ok")[0]["headers"]
    assert sent["Authorization"] == "Basic " + base64.b64encode(f"proxyuser:{PASSWORD}".encode()).decode()
    assert model.base_url.startswith(f"http://proxyuser:{PASSWORD}@")  # the option itself keeps it
    assert f"base_url='{fake_server.base_url}'" in repr(model)
    assert model.model_dump()["default_headers"] == {"X-Gateway-Auth": "**********"}
