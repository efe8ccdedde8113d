"""Isolation of misbehaving handlers: raising, hanging, slow; logged once per run."""

from __future__ import annotations

import asyncio
import logging

import pytest

import hookchain
from hookchain.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from hookchain.callbacks import manager
from hookchain.prompts import ChatPromptTemplate


@pytest.fixture
def chain():
    return ChatPromptTemplate.from_template("{x}") | hookchain.get_model("echo", n=20)


class Hangs(AsyncCallbackHandler):
    timeout = 0.05

    async def on_llm_new_token(self, token, **kwargs):
        await asyncio.sleep(3600)


class RaisesOnEveryToken(BaseCallbackHandler):
    def on_llm_new_token(self, token, **kwargs):
        raise RuntimeError("token bug")


def test_hanging_async_handler_is_abandoned_and_others_see_everything(chain, recorder, caplog):
    async def run():
        return [c.content async for c in chain.astream({"x": "abc"}, config={"callbacks": [Hangs(), recorder]})]

    with caplog.at_level(logging.WARNING, logger="hookchain.callbacks"):
        assert "".join(asyncio.run(run())) == "abc"
    tokens = [e[3][0] for e in recorder.events if e[0] == "on_llm_new_token"]
    assert tokens == ["a", "b", "c", ""]
    assert caplog.text.count("Error in Hangs.on_llm_new_token") == 1  # once per run
    assert "TimeoutError" in caplog.text


def test_process_default_timeout_applies_to_sync_runs_too(chain, monkeypatch):
    monkeypatch.setattr(manager, "handler_timeout", 0.05)

    class SlowAsync(AsyncCallbackHandler):
        async def on_chain_end(self, outputs, **kwargs):
            await asyncio.sleep(3600)

    assert chain.invoke({"x": "hi"}, config={"callbacks": [SlowAsync()]}).content == "hi"
    with pytest.raises(ValueError):
        manager.set_handler_timeout(-1)


def test_failure_logged_once_per_run_output_unchanged(chain, caplog):
    with caplog.at_level(logging.WARNING, logger="hookchain.callbacks"):
        out = [c.content for c in chain.stream({"x": "hello"}, config={"callbacks": [RaisesOnEveryToken()]})]
        again = [c.content for c in chain.stream({"x": "hello"}, config={"callbacks": [RaisesOnEveryToken()]})]
    assert "".join(out) == "".join(again) == "hello"
    assert caplog.text.count("Error in RaisesOnEveryToken.on_llm_new_token") == 2  # one per run, not per token
