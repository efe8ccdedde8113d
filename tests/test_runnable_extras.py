"""hookchain-only checks of the issue-13 runnables: the documented
differences from LangChain, clear errors for bad input, and a failing
listener that leaves the run alone."""

from __future__ import annotations

import asyncio
import logging

import pytest

from hookchain.runnables import (
    RunnableBranch, RunnableGenerator, RunnableLambda, RunnablePick, RunnableRetry, RunnableWithFallbacks,
)


def fail(x):
    raise ValueError(f"bad {x}")


def test_exception_key_leaves_the_callers_dict_alone():
    # README differences table: LangChain writes the key into the caller's dict.
    seen = []
    chain = RunnableLambda(fail).with_fallbacks([RunnableLambda(lambda d: seen.append(d) or "ok")], exception_key="e")
    given = {"x": 1}
    assert chain.invoke(given) == "ok"
    assert given == {"x": 1}
    assert isinstance(seen[0]["e"], ValueError)


def test_fallbacks_bad_input():
    with pytest.raises(TypeError, match="with_fallbacks needs a list of runnables, got RunnableLambda"):
        RunnableLambda(fail).with_fallbacks(RunnableLambda(fail))


def test_runnable_each_supports_astream_events():
    # LangChain's RunnableEach raises NotImplementedError here.
    async def run():
        return [e["event"] async for e in RunnableLambda(lambda x: x + 1).map().astream_events([1, 2])]

    names = asyncio.run(run())
    assert names[0] == "on_chain_start" and names[-1] == "on_chain_end"
    assert names.count("on_chain_start") == 3


def test_retry_wrapped_by_bind_keeps_retrying():
    calls = []

    def flaky(x, **kwargs):
        calls.append(kwargs)
        if len(calls) < 2:
            raise ValueError("once")
        return x

    retry = RunnableLambda(flaky).with_retry(wait_exponential_jitter=False)
    assert isinstance(retry, RunnableRetry)
    assert retry.bind(k=1).invoke(5) == 5
    assert calls == [{"k": 1}, {"k": 1}]


def test_failing_listener_is_logged_and_the_run_goes_on(caplog):
    def broken(run):
        raise RuntimeError("listener broke")

    with caplog.at_level(logging.WARNING):
        assert RunnableLambda(lambda x: x * 2).with_listeners(on_end=broken).invoke(4) == 8
    assert "listener broke" in caplog.text


@pytest.mark.parametrize("make, message", [
    (lambda: RunnableBranch(lambda x: 1), "RunnableBranch needs at least 2 arguments"),
    (lambda: RunnableBranch("no", lambda x: 1), "RunnableBranch branch 1 must be a (condition, runnable) tuple, got str"),
    (lambda: RunnableGenerator(lambda x: x), "RunnableGenerator needs a generator function"),
    (lambda: RunnablePick(3), "RunnablePick keys must be a str or a list of str, got int"),
])
def test_bad_arguments_say_what_is_wrong(make, message):
    with pytest.raises((TypeError, ValueError)) as info:
        make()
    assert str(info.value).startswith(message)


def test_pick_of_a_non_dict_names_itself():
    with pytest.raises(ValueError, match=r"RunnablePick<a> needs a dict input, got int"):
        RunnablePick("a").invoke(1)


def test_fallbacks_reads_the_wrapped_runnables_attributes():
    chain = RunnableLambda(fail, name="first").with_fallbacks([RunnableLambda(lambda x: x)])
    assert isinstance(chain, RunnableWithFallbacks)
    assert chain.name is None and chain.runnable.name == "first"
    with pytest.raises(AttributeError):
        chain.no_such_attribute
