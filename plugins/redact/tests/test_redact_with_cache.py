"""Both plugins enabled: redact masks before the cache computes its key and
stores, so the cache file never holds the secret, whatever the enabling order;
with ``restore`` the caller still gets the originals, also from the cache."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest

import hookchain
from hookchain.callbacks import BaseCallbackHandler, enable_handler

from .conftest import CountingEcho

pytest.importorskip("hookchain_cache")

ADDRESS = "bob@example.com"
OTHER = "alice@example.org"
KEY = "sk-live0123456789abcdefghij"


def stored_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


@pytest.fixture
def model() -> CountingEcho:
    CountingEcho.seen = []
    return CountingEcho(n=500)


def enable_both(tmp_path, cache_first: bool, **redact_options):
    cache = hookchain.get_handler("cache", path=str(tmp_path / "c.sqlite"))
    redact = hookchain.get_handler("redact", **redact_options)
    for handler in ((cache, redact) if cache_first else (redact, cache)):
        enable_handler(handler)
    return cache, redact


@pytest.mark.parametrize("cache_first", [True, False], ids=["cache-enabled-first", "redact-enabled-first"])
def test_the_cache_keys_and_stores_masked_messages_only(tmp_path, model, cache_first):
    cache, _ = enable_both(tmp_path, cache_first)
    text = f"write to {ADDRESS} with key {KEY}"
    assert model.invoke(text).content == "write to <EMAIL_1> with key <API_KEY_1>"
    assert model.invoke(text).content == "write to <EMAIL_1> with key <API_KEY_1>"
    assert "".join(c.content for c in model.stream(f"stream {ADDRESS}")) == "stream <EMAIL_1>"
    assert "".join(c.content for c in model.stream(f"stream {ADDRESS}")) == "stream <EMAIL_1>"
    assert len(CountingEcho.seen) == 2 and cache.hits == 2
    data = stored_bytes(cache.path)
    assert b"<EMAIL_1>" in data
    assert ADDRESS.encode() not in data and KEY.encode() not in data
    # the key is computed from what the model saw: another address masks alike
    assert model.invoke(f"write to {OTHER} with key sk-other0123456789abcdefgh").content == \
        "write to <EMAIL_1> with key <API_KEY_1>"
    assert len(CountingEcho.seen) == 2


@pytest.mark.parametrize("cache_first", [True, False], ids=["cache-enabled-first", "redact-enabled-first"])
def test_restore_gives_the_caller_the_originals_and_the_cache_the_placeholders(tmp_path, model, cache_first, recorder):
    cache, _ = enable_both(tmp_path, cache_first, restore=True)
    assert model.invoke(f"hi {ADDRESS}").content == f"hi {ADDRESS}"
    # answered from the cache, restored with *this* call's address
    assert model.invoke(f"hi {OTHER}").content == f"hi {OTHER}"
    assert asyncio.run(model.ainvoke(f"hi {OTHER}")).content == f"hi {OTHER}"

    chunks = [c.content for c in model.stream(f"yo {ADDRESS}")]
    replayed = [c.content for c in model.stream(f"yo {OTHER}", config={"callbacks": [recorder]})]
    assert "".join(chunks) == f"yo {ADDRESS}" and "".join(replayed) == f"yo {OTHER}"
    assert len(replayed) == len(chunks) == len("yo <EMAIL_1>") + 1
    assert [e[1][0] for e in recorder.of("on_llm_new_token")] == replayed

    assert len(CountingEcho.seen) == 2 and cache.hits == 3
    data = stored_bytes(cache.path)
    assert ADDRESS.encode() not in data and OTHER.encode() not in data
    with sqlite3.connect(cache.path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_batch_and_abatch_with_both(tmp_path, model):
    cache, _ = enable_both(tmp_path, cache_first=False, restore=True)
    inputs = [f"to {ADDRESS}", f"to {OTHER}", "plain"]
    assert [m.content for m in model.batch(inputs, config={"max_concurrency": 1})] == inputs
    assert [m.content for m in asyncio.run(model.abatch(inputs))] == inputs
    assert len(CountingEcho.seen) == 2  # "to <EMAIL_1>" and "plain"
    assert ADDRESS not in str(CountingEcho.seen) and OTHER not in str(CountingEcho.seen)


def test_a_raising_wrapper_is_logged_and_both_keep_working(tmp_path, model, caplog):
    cache, _ = enable_both(tmp_path, cache_first=True)

    class Around(BaseCallbackHandler):
        @hookchain.hookimpl(wrapper=True)
        def chat_model_cached(self, call):
            answer = yield
            raise RuntimeError("wrapper bug")  # after the cache looked up

    enable_handler(Around())
    with caplog.at_level(logging.WARNING, logger="hookchain.model_hooks"):
        assert model.invoke(f"hi {ADDRESS}").content == "hi <EMAIL_1>"
        assert model.invoke(f"hi {ADDRESS}").content == "hi <EMAIL_1>"
    assert "Error in Around.chat_model_cached chat-model hook" in caplog.text
    # the failing lookup made every call a miss, but stores still happened and stayed masked
    assert len(CountingEcho.seen) == 2 and cache.writes == 2
    assert ADDRESS.encode() not in stored_bytes(cache.path)


def test_neither_enabled_changes_nothing(tmp_path, model):
    from hookchain import model_hooks

    hookchain.get_handler("cache", path=str(tmp_path / "c.sqlite"))
    hookchain.get_handler("redact")
    assert not model_hooks.active
    assert model.invoke(f"hi {ADDRESS}").content == f"hi {ADDRESS}"
    assert model.invoke(f"hi {ADDRESS}").content == f"hi {ADDRESS}"
    assert len(CountingEcho.seen) == 2 and not (tmp_path / "c.sqlite").exists()
