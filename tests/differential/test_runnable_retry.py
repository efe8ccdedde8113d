"""``with_retry`` (``RunnableRetry``) against langchain-core 1.7.2: outputs,
callback events (attempts as child runs tagged ``retry:attempt:N``) and
``astream_events`` (issue 13). No waits: ``wait_exponential_jitter=False``."""

from __future__ import annotations

import itertools
import threading

import pytest

from .harness import araised, both, event_stream, events, raised, trees


class Flaky(ValueError):
    pass


def flaky(failures, exc=Flaky):
    """A function failing its first ``failures`` calls per input, then x * 10."""
    calls: dict = {}
    lock = threading.Lock()

    def f(x):
        with lock:
            calls[x] = calls.get(x, 0) + 1
            n = calls[x]
        if n <= failures:
            raise exc(f"fail {x} #{n}")
        return x * 10

    return f


def test_invoke_retries_until_success():
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.RunnableLambda(flaky(2)).with_retry(wait_exponential_jitter=False)
        out = chain.invoke(1, {"callbacks": [h], "tags": ["t"]})
        return out, events(fw, h.log), chain.get_name(), type(chain).__name__

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == 10
    assert [e[3] for e in hc[1] if e[0] == "on_chain_start"] == [["t"], ["t"], ["retry:attempt:2", "t"], ["retry:attempt:3", "t"]]


def test_invoke_gives_up_after_stop_after_attempt():
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.RunnableLambda(flaky(5)).with_retry(stop_after_attempt=2, wait_exponential_jitter=False)
        return raised(lambda: chain.invoke(1, {"callbacks": [h]})), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == ("raised", "Flaky", "fail 1 #2")


def test_other_exceptions_are_not_retried():
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.RunnableLambda(flaky(1, KeyError)).with_retry(
            retry_if_exception_type=(Flaky,), wait_exponential_jitter=False)
        return raised(lambda: chain.invoke(1, {"callbacks": [h]})), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0][1] == "KeyError"


def test_ainvoke_retries():
    async def scenario(fw):
        h = fw.AsyncRecorder()
        chain = fw.RunnableLambda(flaky(1)).with_retry(wait_exponential_jitter=False)
        out = await chain.ainvoke(2, {"callbacks": [h]})
        bad = fw.RunnableLambda(flaky(9)).with_retry(wait_exponential_jitter=False)
        err = await araised(bad.ainvoke(3, {"callbacks": [h]}))
        return out, err, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[:2] == (20, ("raised", "Flaky", "fail 3 #3"))


def test_retry_of_a_model_in_a_sequence():
    def scenario(fw):
        h = fw.Recorder()
        count = itertools.count()

        def maybe(x):
            if next(count) == 0:
                raise Flaky("first")
            return x

        model = (fw.RunnableLambda(maybe) | fw.EchoModel(n=3)).with_retry(wait_exponential_jitter=False)
        chain = fw.ChatPromptTemplate.from_messages([("human", "{q}")]) | model
        return chain.invoke({"q": "hello"}, {"callbacks": [h]}).content, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == "hel"


@pytest.mark.parametrize("return_exceptions", [False, True])
def test_batch_retries_only_the_failed_inputs(return_exceptions):
    def scenario(fw):
        h = fw.Recorder()
        f = flaky(1)
        always = flaky(9)
        chain = fw.RunnableLambda(lambda x: always(x) if x == 3 else f(x) if x % 2 else x).with_retry(
            wait_exponential_jitter=False)
        if return_exceptions:
            out = chain.batch([1, 2, 3], {"callbacks": [h]}, return_exceptions=True)
        else:
            out = raised(lambda: chain.batch([1, 2, 3], {"callbacks": [h]}))
        return str(out), trees(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_batch_all_succeed_after_retry():
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.RunnableLambda(flaky(1)).with_retry(wait_exponential_jitter=False)
        return chain.batch([1, 2], {"callbacks": [h]}), trees(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == [10, 20]


@pytest.mark.parametrize("return_exceptions", [False, True])
def test_abatch(return_exceptions):
    async def scenario(fw):
        h = fw.AsyncRecorder()
        f = flaky(1)
        chain = fw.RunnableLambda(lambda x: flaky(9)(x) if x == 3 else f(x)).with_retry(wait_exponential_jitter=False)
        if return_exceptions:
            out = await chain.abatch([1, 2, 3], {"callbacks": [h]}, return_exceptions=True)
        else:
            out = await araised(chain.abatch([1, 2, 3], {"callbacks": [h]}))
        return str(out), trees(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_batch_non_retried_error_fails_every_input():
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.RunnableLambda(lambda x: flaky(1, KeyError)(x) if x == 2 else x).with_retry(
            retry_if_exception_type=(Flaky,), wait_exponential_jitter=False)
        return str(chain.batch([1, 2], {"callbacks": [h]}, return_exceptions=True)), trees(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_stream_and_astream_events_are_not_retried():
    async def scenario(fw):
        chain = fw.RunnableLambda(flaky(0)).with_retry(wait_exponential_jitter=False)
        streamed = list(chain.stream(1))
        return streamed, await event_stream(fw, chain, 2)

    lc, hc = both(scenario)
    assert lc == hc


def test_astream_events_of_retried_invoke_inside_a_lambda():
    async def scenario(fw):
        inner = fw.RunnableLambda(flaky(1)).with_retry(wait_exponential_jitter=False)

        async def outer(x):
            return await inner.ainvoke(x)

        return await event_stream(fw, fw.RunnableLambda(outer), 4)

    lc, hc = both(scenario)
    assert lc == hc


def test_exponential_jitter_params_reach_tenacity():
    # Tiny waits: the schedule is tenacity's; only that it retries is asserted.
    def scenario(fw):
        chain = fw.RunnableLambda(flaky(2)).with_retry(
            exponential_jitter_params={"initial": 0.001, "max": 0.002, "jitter": 0.0})
        return chain.invoke(3)

    lc, hc = both(scenario)
    assert lc == hc == 30
