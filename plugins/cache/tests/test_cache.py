"""The cache handler answers repeated chat model calls, in every calling mode."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from typing import Any, Optional

import pytest
from pydantic import SecretStr

import hookchain
from hookchain import model_hooks
from hookchain.callbacks import BaseCallbackHandler, enable_handler
from hookchain.errors import OptionError
from hookchain.messages import AIMessage, HumanMessage, SystemMessage
from hookchain.outputs import ChatGeneration, ChatResult
from hookchain_cache import CacheHandler, SQLiteCache, cache_key, default_path, key_material

from .conftest import CountingEcho


def rows(path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT key, kind, value FROM entries ORDER BY created").fetchall()


async def acollect(stream) -> list:
    return [c async for c in stream]


# --------------------------------------------------------------------------- #
# Every calling mode: the second identical call does not reach the model
# --------------------------------------------------------------------------- #


def test_invoke_twice_calls_the_model_once(model, cache):
    first = model.invoke("hello world")
    second = model.invoke("hello world")
    assert len(CountingEcho.seen) == 1
    assert second.content == first.content == "hello world"
    assert second.response_metadata == first.response_metadata == {"model_name": "echo", "finish_reason": "stop"}
    assert second.id != first.id and second.id.startswith("run-")  # a replay is a new run
    assert (cache.hits, cache.misses, cache.writes) == (1, 1, 1)
    assert [kind for _, kind, _ in rows(cache.path)] == ["result"]


def test_ainvoke_twice_calls_the_model_once(model, cache):
    async def twice():
        return await model.ainvoke("async hello"), await model.ainvoke("async hello")

    first, second = asyncio.run(twice())
    assert first.content == second.content == "async hello"
    assert len(CountingEcho.seen) == 1


def test_stream_replays_the_chunks_with_a_token_each(model, cache, recorder):
    first = [c.content for c in model.stream("cat", config={"callbacks": [recorder]})]
    first_tokens = [e[1][0] for e in recorder.of("on_llm_new_token")]
    recorder.events.clear()
    second = [c.content for c in model.stream("cat", config={"callbacks": [recorder]})]
    second_tokens = [e[1][0] for e in recorder.of("on_llm_new_token")]
    assert first == second == ["c", "a", "t", ""]
    assert first_tokens == second_tokens == ["c", "a", "t", ""]
    assert len(CountingEcho.seen) == 1
    end = recorder.of("on_llm_end")[0][1][0]
    assert end.generations[0][0].message.content == "cat"
    assert [kind for _, kind, _ in rows(cache.path)] == ["chunks"]


def test_astream_replays_the_chunks(model, cache, recorder):
    first = asyncio.run(acollect(model.astream("dog")))
    second = asyncio.run(acollect(model.astream("dog", config={"callbacks": [recorder]})))
    assert [c.content for c in first] == [c.content for c in second] == ["d", "o", "g", ""]
    assert [e[1][0] for e in recorder.of("on_llm_new_token")] == ["d", "o", "g", ""]
    assert second[-1].response_metadata == {"model_name": "echo", "finish_reason": "stop"}
    assert len(CountingEcho.seen) == 1


def test_invoke_with_streaming_stores_and_replays_chunks(cache, recorder):
    CountingEcho.seen = []
    model = CountingEcho(n=20, streaming=True)
    assert model.invoke("abc").content == "abc"
    assert model.invoke("abc", config={"callbacks": [recorder]}).content == "abc"
    assert [e[1][0] for e in recorder.of("on_llm_new_token")] == ["a", "b", "c", ""]
    assert len(CountingEcho.seen) == 1


def test_batch_and_abatch(model, cache):
    inputs = ["one", "two", "three"]
    assert [m.content for m in model.batch(inputs, config={"max_concurrency": 3})] == inputs
    assert len(CountingEcho.seen) == 3
    assert [m.content for m in model.batch(inputs)] == inputs
    assert [m.content for m in asyncio.run(model.abatch(inputs, config={"max_concurrency": 2}))] == inputs
    assert len(CountingEcho.seen) == 3
    assert cache.hits == 6 and len(cache.store) == 3


def test_a_stored_invoke_answers_a_stream_and_a_stored_stream_answers_invoke(model, cache, recorder):
    model.invoke("stored by invoke")
    chunks = [c.content for c in model.stream("stored by invoke", config={"callbacks": [recorder]})]
    assert chunks == ["stored by invoke"]  # one chunk
    assert [e[1][0] for e in recorder.of("on_llm_new_token")] == ["stored by invoke"]
    list(model.stream("stored by stream"))
    assert model.invoke("stored by stream").content == "stored by stream"
    assert asyncio.run(model.ainvoke("stored by stream")).response_metadata["finish_reason"] == "stop"
    assert len(CountingEcho.seen) == 2


def test_a_prompt_chain_is_cached_too(model, cache):
    from hookchain.prompts import ChatPromptTemplate

    chain = ChatPromptTemplate.from_template("Tell me about {animal}") | model
    assert chain.invoke({"animal": "bears"}).content == "Tell me about bears"
    assert chain.invoke({"animal": "bears"}).content == "Tell me about bears"
    assert chain.invoke({"animal": "cats"}).content == "Tell me about cats"
    assert len(CountingEcho.seen) == 2


# --------------------------------------------------------------------------- #
# What makes two calls different
# --------------------------------------------------------------------------- #


def test_different_messages_stop_options_or_model_miss(model, cache):
    model.invoke("hello there")
    model.invoke("hello there", stop=["e"])
    model.invoke("hello there", stop=["l"])
    model.invoke([SystemMessage("be brief"), HumanMessage("hello there")])
    model.invoke([HumanMessage("hello there", name="bob")])
    model.invoke("hello there", temperature=0.5)  # extra call options are part of the key
    CountingEcho(n=3).invoke("hello there")  # other model options
    EchoChatModel = type(model).__mro__[1]
    EchoChatModel(n=20).invoke("hello there")  # another model class
    assert len(CountingEcho.seen) == 7
    assert cache.misses == 8 and cache.hits == 0 and len(cache.store) == 8
    for args, kwargs in (("hello there", {}), ("hello there", {"stop": ["e"]}), ("hello there", {"temperature": 0.5})):
        model.invoke(args, **kwargs)
    assert len(CountingEcho.seen) == 7 and cache.hits == 3


def test_message_ids_and_metadata_of_the_history_do_not_change_the_key(model):
    def key(*messages):
        return cache_key(model, list(messages), None, {})

    assert key(AIMessage("hi", id="run-1", response_metadata={"a": 1}), HumanMessage("x")) == \
        key(AIMessage("hi", id="run-2"), HumanMessage("x", id="other"))
    assert key(AIMessage("hi"), HumanMessage("x")) != key(HumanMessage("hi"), HumanMessage("x"))


def test_the_key_is_stable_and_keeps_secrets_out():
    from hookchain.language_models import BaseChatModel

    class KeyedModel(BaseChatModel):
        api_key: Optional[SecretStr] = None
        token: str = ""
        model_name: str = "m"

        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            return ChatResult(generations=[ChatGeneration(AIMessage("ok"))])

        @property
        def _llm_type(self) -> str:
            return "keyed"

        @property
        def _identifying_params(self) -> dict[str, Any]:
            return {"model_name": self.model_name, "api_key": self.api_key, "token": self.token,
                    "headers": {"Authorization": "Bearer zzz-planted-header"}, "max_tokens": 5}

    a = KeyedModel(api_key=SecretStr("sk-planted-secret-1"), token="planted-token-1")
    b = KeyedModel(api_key=SecretStr("sk-planted-secret-2"), token="planted-token-1")
    messages = [HumanMessage("hi")]
    material = json.dumps(key_material(a, messages, ["x"], {"n": 1}))
    assert "planted-secret" not in material  # SecretStr values are left out, in params and options
    assert '"max_tokens": 5' in material and "KeyedModel" in material
    assert cache_key(a, messages, ["x"], {"n": 1}) == cache_key(b, messages, ["x"], {"n": 1})  # a key rotation
    # a plain string is an option like any other, whatever its name
    c = KeyedModel(api_key=SecretStr("sk-planted-secret-1"), token="planted-token-2")
    assert cache_key(a, messages, None, {}) != cache_key(c, messages, None, {})
    assert cache_key(a, messages, ["x"], {"n": 1}) != cache_key(KeyedModel(model_name="n"), messages, ["x"], {"n": 1})
    assert len(cache_key(a, messages, None, {})) == 64


def _openai(**options):
    from hookchain_openai import ChatOpenAI

    return ChatOpenAI(base_url="http://127.0.0.1:9/v1", model="m", api_key="sk-planted-secret-1", **options)


@pytest.mark.parametrize("a, b", [
    ({}, {"model_kwargs": {"response_format": {"type": "json_object"}}}),  # JSON mode
    ({"extra_body": {"top_k": 20}}, {"extra_body": {"top_k": 40}}),
    ({}, {"extra_body": {"top_k": 20}}),
    ({}, {"default_headers": {"X-Route": "gpu"}}),  # a header's name (its value is hidden like a key)
])
def test_openai_model_options_that_change_the_answer_change_the_key(a, b):
    messages = [HumanMessage("list three colours")]
    assert cache_key(_openai(**a), messages, None, {}) != cache_key(_openai(**b), messages, None, {})
    assert cache_key(_openai(**a), messages, None, {}) == cache_key(_openai(**a), messages, None, {})
    assert cache_key(_openai(**a), messages, None, {}) == cache_key(_openai(**a, streaming=True, tags=["t"]), messages, None, {})


def test_only_secret_values_are_left_out_of_the_key():
    messages = [HumanMessage("hi")]
    with_key = _openai(default_headers={"X-Gateway-Auth": "Bearer hdr-secret-1"})
    other_key = with_key.model_copy(update={"api_key": SecretStr("sk-other"),
                                            "default_headers": {"X-Gateway-Auth": "Bearer hdr-secret-2"}})
    assert cache_key(with_key, messages, None, {}) == cache_key(other_key, messages, None, {})
    material = json.dumps(key_material(with_key, messages, None, {}))
    for secret in ("sk-planted-secret-1", "hdr-secret-1"):
        assert secret not in material


def _tool_history(symbol: str) -> list:
    from hookchain.messages import ToolMessage

    call = {"name": "price", "args": {"token": symbol, "password_hint": "none"}, "id": "c1", "type": "tool_call"}
    return [HumanMessage("price?"), AIMessage("", tool_calls=[call]), ToolMessage("see above", tool_call_id="c1"),
            HumanMessage("and in euros?")]


def test_tool_call_arguments_named_like_credentials_are_in_the_key(model, cache):
    assert cache_key(model, _tool_history("ETH"), None, {}) != cache_key(model, _tool_history("BTC"), None, {})
    model.invoke(_tool_history("ETH"))
    model.invoke(_tool_history("BTC"))  # not answered with the ETH entry
    assert len(CountingEcho.seen) == 2 and cache.hits == 0
    model.invoke(_tool_history("BTC"))
    assert len(CountingEcho.seen) == 2 and cache.hits == 1


def test_an_option_left_out_of_identifying_params_still_misses(cache):
    class Shouting(CountingEcho):
        shout: bool = False  # changes the answer, not reported in _identifying_params

        def _answer(self, messages, stop):
            text, info = super()._answer(messages, stop)
            return (text.upper() if self.shout else text), info

    assert Shouting(n=50).invoke("hello").content == "hello"
    assert Shouting(n=50, shout=True).invoke("hello").content == "HELLO"


def test_the_key_is_the_same_in_another_process():
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "from hookchain.messages import HumanMessage, AIMessage\n"
        "from hookchain_cache import cache_key\n"
        "from hookchain_openai import ChatOpenAI\n"
        "m = ChatOpenAI(base_url='http://127.0.0.1:9/v1', model='m', api_key='k', temperature=0.5,\n"
        "               model_kwargs={'response_format': {'type': 'json_object'}, 'logit_bias': {'50': 1}},\n"
        "               extra_body={'top_k': 20, 'chat_template_kwargs': {'thinking': False}})\n"
        "msgs = [HumanMessage('hi'), AIMessage('', tool_calls=[{'name': 'f', 'args': {'b': 1, 'a': [2.5, None]}, 'id': 'x'}])]\n"
        "print(cache_key(m, msgs, ['END'], {'tools': [{'type': 'function', 'function': {'name': 'f'}}]}))\n"
    )
    here: dict = {}
    exec(code.replace("print(", "key = ("), here)  # this process
    env = {**__import__("os").environ, "PYTHONHASHSEED": "12345"}
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True, env=env).stdout
    assert there.strip() == here["key"] and len(here["key"]) == 64


# --------------------------------------------------------------------------- #
# What is and is not stored
# --------------------------------------------------------------------------- #


def test_the_prompt_is_not_stored_only_the_answer(cache):
    model = CountingEcho(n=5)
    model.invoke("hello planted-prompt-text")
    data = cache.path.read_bytes() + (cache.path.with_name(cache.path.name + "-wal").read_bytes())
    assert b"hello" in data and b"planted-prompt-text" not in data


def test_failed_and_abandoned_calls_store_nothing(model, cache):
    with pytest.raises(ValueError):
        model.invoke([])
    stream = model.stream("abandoned")
    next(stream)
    stream.close()
    assert len(cache.store) == 0
    list(model.stream("abandoned"))
    assert len(CountingEcho.seen) == 3 and len(cache.store) == 1  # [], abandoned, abandoned again


def test_an_unusable_file_is_logged_and_the_model_answers(tmp_path, model, caplog):
    bad = tmp_path / "not-a-db.sqlite"
    bad.write_text("this is not a database" * 100)
    handler = CacheHandler(path=str(bad))
    enable_handler(handler)
    with caplog.at_level(logging.WARNING, logger="hookchain_cache"):
        assert model.invoke("still works").content == "still works"
        assert model.invoke("still works").content == "still works"
    assert len(CountingEcho.seen) == 2 and handler.errors >= 2
    assert "hookchain-cache" in caplog.text and "not-a-db.sqlite" in caplog.text


def test_a_damaged_entry_is_a_miss(model, cache, caplog):
    model.invoke("hello")
    with sqlite3.connect(cache.path) as conn:
        conn.execute("UPDATE entries SET value = '{not json'")
    with caplog.at_level(logging.WARNING, logger="hookchain_cache"):
        assert model.invoke("hello").content == "hello"
    assert len(CountingEcho.seen) == 2
    assert model.invoke("hello").content == "hello"  # the model's answer replaced the damaged entry
    assert len(CountingEcho.seen) == 2


def test_a_hook_raising_around_the_cache_is_logged_and_the_call_goes_on(model, cache, caplog):
    class Broken(BaseCallbackHandler):
        @hookchain.hookimpl(wrapper=True)
        def chat_model_end(self, call, result):
            yield
            raise RuntimeError("broken wrapper")

    enable_handler(Broken())
    with caplog.at_level(logging.WARNING, logger="hookchain.model_hooks"):
        assert model.invoke("goes on").content == "goes on"
        assert model.invoke("goes on").content == "goes on"
    assert "Error in Broken.chat_model_end chat-model hook" in caplog.text
    assert len(CountingEcho.seen) == 1  # the cache stored the answer before the wrapper raised


# --------------------------------------------------------------------------- #
# Options, defaults, the Python API
# --------------------------------------------------------------------------- #


def test_options_are_validated(tmp_path):
    handler = hookchain.get_handler("cache", path=str(tmp_path / "x.sqlite"))
    assert isinstance(handler, CacheHandler) and handler.path == tmp_path / "x.sqlite"
    with pytest.raises(OptionError, match="colour"):
        hookchain.get_handler("cache", colour="red")
    with pytest.raises(OptionError, match="path"):
        hookchain.get_handler("cache", path=["not", "a", "path"])


def test_default_path_is_in_the_user_cache_dir_and_nothing_is_created_up_front(tmp_path):
    handler = hookchain.get_handler("cache")
    assert handler.path == default_path()
    assert handler.path.parts[-2:] == ("hookchain", "cache.sqlite")
    assert str(handler.path).startswith(str(tmp_path / "xdg-cache"))  # XDG_CACHE_HOME, set by conftest
    assert not handler.path.exists()
    assert handler.stats()["entries"] == 0 and not handler.path.exists()


def test_stats_and_clear(model, cache):
    for text in ("a", "b", "c"):
        model.invoke(text)
    stats = cache.stats()
    assert stats["entries"] == 3 and stats["size"] > 0 and stats["path"] == str(cache.path)
    assert (stats["hits"], stats["misses"], stats["writes"], stats["errors"]) == (0, 3, 3, 0)
    assert cache.clear() == 3 and cache.stats()["entries"] == 0
    model.invoke("a")
    assert len(CountingEcho.seen) == 4


def test_nothing_changes_when_the_cache_is_not_enabled(model, tmp_path):
    hookchain.get_handler("cache", path=str(tmp_path / "unused.sqlite"))  # built, not enabled
    assert not model_hooks.active
    assert model.invoke("plain").content == "plain" and model.invoke("plain").content == "plain"
    assert len(CountingEcho.seen) == 2
    assert not (tmp_path / "unused.sqlite").exists()


def test_threads_use_their_own_connections(model, cache):
    inputs = [f"prompt {i % 10}" for i in range(60)]
    out = model.batch(inputs, config={"max_concurrency": 8})
    assert [m.content for m in out] == inputs
    assert len(CountingEcho.seen) <= 60 and len(cache.store) == 10
    CountingEcho.seen = []
    model.batch(inputs, config={"max_concurrency": 8})
    assert CountingEcho.seen == []


def test_schema_version_mismatch_is_reported(tmp_path):
    path = tmp_path / "future.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    store = SQLiteCache(path)
    with pytest.raises(Exception, match="schema version 99"):
        store.get("k")
