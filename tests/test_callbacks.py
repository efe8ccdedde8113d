"""Callback semantics: the run tree, inheritance, isolation of failing handlers."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

import hookchain
from hookchain.callbacks import AsyncCallbackHandler, BaseCallbackHandler, dispatch_custom_event
from hookchain.prompts import ChatPromptTemplate
from hookchain.runnables import RunnableLambda


def names(rec):
    return [e[0] for e in rec.events]


@pytest.fixture
def chain():
    return ChatPromptTemplate.from_template("What is 1 + {number}?") | hookchain.get_model("echo", n=5)


def test_runtime_callbacks_reach_every_nested_run(chain, recorder):
    out = chain.invoke({"number": "2"}, config={"callbacks": [recorder], "tags": ["t"], "metadata": {"k": 1}})
    assert out.content == "What "
    assert names(recorder) == ["on_chain_start", "on_chain_start", "on_chain_end", "on_chat_model_start", "on_llm_end", "on_chain_end"]
    root = recorder.events[0][1]
    assert recorder.events[0][2] is None
    assert recorder.events[1][2] == root and recorder.events[3][2] == root
    assert recorder.events[0][4]["tags"] == ["t"] and recorder.events[0][4]["metadata"] == {"k": 1}
    assert recorder.events[1][4]["tags"] == ["seq:step:1", "t"]
    assert recorder.events[3][4]["tags"] == ["seq:step:2", "t"]
    assert recorder.events[0][4]["name"] == "RunnableSequence"
    assert recorder.events[0][3][0]["name"] == "RunnableSequence"  # serialized is never None


def test_constructor_callbacks_are_local(recorder):
    model = hookchain.get_model("echo", n=3, callbacks=[recorder])
    chain = ChatPromptTemplate.from_template("{x}") | model
    chain.invoke({"x": "hello"})
    assert names(recorder) == ["on_chat_model_start", "on_llm_end"]


def test_streaming_true_fires_tokens_inside_invoke(recorder):
    model = hookchain.get_model("echo", n=3, streaming=True)
    model.invoke("cat", config={"callbacks": [recorder]})
    tokens = [e[3][0] for e in recorder.events if e[0] == "on_llm_new_token"]
    assert tokens == ["c", "a", "t", ""]


class Boom(BaseCallbackHandler):
    def on_llm_new_token(self, token, **kwargs):
        raise RuntimeError("handler bug")

    def on_chain_end(self, outputs, **kwargs):
        raise RuntimeError("handler bug")


def test_failing_handler_is_logged_and_the_run_goes_on(chain, recorder, caplog):
    with caplog.at_level(logging.WARNING, logger="hookchain.callbacks"):
        chunks = list(chain.stream({"number": "2"}, config={"callbacks": [Boom(), recorder]}))
    assert "".join(c.content for c in chunks) == "What "
    assert names(recorder)[-1] == "on_chain_end"  # later handlers still see every event
    assert "Error in Boom.on_llm_new_token callback" in caplog.text


def test_raise_error_stops_the_run(chain):
    class Strict(Boom):
        raise_error = True

    with pytest.raises(RuntimeError, match="handler bug"):
        chain.invoke({"number": "2"}, config={"callbacks": [Strict()]})


def test_ignore_flags_mute_events(chain, recorder):
    class Quiet(type(recorder)):
        ignore_chain = True

    quiet = Quiet()
    chain.invoke({"number": "2"}, config={"callbacks": [quiet]})
    assert names(quiet) == ["on_chat_model_start", "on_llm_end"]


def test_error_fires_on_every_open_run_then_propagates(recorder):
    err = ValueError("bad input")

    def fail(_):
        raise err

    chain = ChatPromptTemplate.from_template("{x}") | hookchain.get_model("echo") | RunnableLambda(fail)
    with pytest.raises(ValueError) as info:
        chain.invoke({"x": "y"}, config={"callbacks": [recorder]})
    assert info.value is err
    errors = [e for e in recorder.events if e[0].endswith("_error")]
    assert [e[0] for e in errors] == ["on_chain_error", "on_chain_error"]
    assert errors[0][2] == errors[1][1]  # lambda run, then its parent sequence
    assert all(e[3][0] is err for e in errors)


def test_model_error_fires_llm_error(recorder):
    model = hookchain.get_model("echo")
    with pytest.raises(ValueError, match="at least one message"):
        model.invoke([], config={"callbacks": [recorder]})
    assert names(recorder) == ["on_chat_model_start", "on_llm_error"]


def test_stream_closed_early_ends_runs_with_error(chain, recorder):
    stream = chain.stream({"number": "2"}, config={"callbacks": [recorder]})
    next(stream)
    stream.close()
    assert names(recorder)[-2:] == ["on_llm_error", "on_chain_error"]
    assert all(isinstance(e[3][0], GeneratorExit) for e in recorder.events[-2:])


def test_cancelled_astream_ends_runs_with_error(recorder):
    class Slow(AsyncCallbackHandler):
        async def on_llm_new_token(self, token, **kwargs):
            await asyncio.sleep(10)

    chain = ChatPromptTemplate.from_template("{x}") | hookchain.get_model("echo")

    async def main():
        async def consume():
            async for _ in chain.astream({"x": "abc"}, config={"callbacks": [recorder, Slow()]}):
                pass

        task = asyncio.ensure_future(consume())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert names(recorder)[-2:] == ["on_llm_error", "on_chain_error"]
    assert all(isinstance(e[3][0], asyncio.CancelledError) for e in recorder.events[-2:])


def test_batch_keeps_each_run_tree_apart_across_threads(chain, recorder):
    threads = set()

    class Where(BaseCallbackHandler):
        def on_chat_model_start(self, serialized, messages, **kwargs):
            threads.add(threading.get_ident())

    outs = chain.batch([{"number": str(i)} for i in range(40)], config={"callbacks": [recorder, Where()], "max_concurrency": 4})
    assert [o.content for o in outs] == ["What "] * 40
    starts = {e[1]: e for e in recorder.events if e[0] == "on_chain_start" and e[2] is None}
    assert len(starts) == 40
    models = [e for e in recorder.events if e[0] == "on_chat_model_start"]
    assert len(models) == 40 and all(m[2] in starts for m in models)
    assert len({m[2] for m in models}) == 40  # every model under its own sequence
    assert len(threads) <= 4


def test_batch_return_exceptions(chain):
    outs = chain.batch([{"number": "1"}, {}], return_exceptions=True)
    assert outs[0].content == "What "
    assert isinstance(outs[1], KeyError)
    with pytest.raises(KeyError):
        chain.batch([{"number": "1"}, {}])


def test_abatch_honours_max_concurrency():
    active, peak = 0, 0

    async def slow(x):
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.01)
        active -= 1
        return x * 2

    outs = asyncio.run(RunnableLambda(slow).abatch(list(range(20)), config={"max_concurrency": 3}))
    assert outs == [x * 2 for x in range(20)]
    assert peak == 3


def test_async_handlers_are_awaited_and_sync_ones_run_in_async_runs(chain):
    seen = []

    class A(AsyncCallbackHandler):
        async def on_llm_end(self, response, **kwargs):
            await asyncio.sleep(0)
            seen.append(("async", threading.get_ident()))

    class S(BaseCallbackHandler):
        def on_llm_end(self, response, **kwargs):
            seen.append(("sync", threading.get_ident()))

    class Inline(S):
        run_inline = True

    main_thread = threading.get_ident()
    a, s, inline = A(), S(), Inline()
    asyncio.run(chain.ainvoke({"number": "1"}, config={"callbacks": [a, s, inline]}))
    # All three ran before ainvoke returned; the plain sync handler off the loop
    # thread (hookchain's delivery thread), run_inline on it.
    assert sorted(kind for kind, _ in seen) == ["async", "sync", "sync"]
    threads = {kind: [t for k, t in seen if k == kind] for kind in ("async", "sync")}
    assert threads["async"] == [main_thread]
    assert sorted(t == main_thread for t in threads["sync"]) == [False, True]
    seen.clear()
    chain.invoke({"number": "1"}, config={"callbacks": [A()]})  # async handler in a sync run
    assert [s[0] for s in seen] == ["async"]


def test_custom_events_reach_handlers_with_the_dispatching_run(recorder):
    def work(x):
        dispatch_custom_event("progress", {"done": 1})
        return x

    RunnableLambda(work).invoke(1, config={"callbacks": [recorder]})
    start, custom = recorder.events[0], recorder.events[1]
    assert custom[0] == "on_custom_event" and custom[3] == ("progress", {"done": 1})
    assert custom[1] == start[1]
    with pytest.raises(RuntimeError, match="inside a run"):
        dispatch_custom_event("x", 1)


def test_chat_model_start_falls_back_to_llm_start():
    prompts = []

    class Old(BaseCallbackHandler):
        def on_chat_model_start(self, serialized, messages, **kwargs):
            raise NotImplementedError

        def on_llm_start(self, serialized, p, **kwargs):
            prompts.extend(p)

    hookchain.get_model("echo").invoke("hi", config={"callbacks": [Old()]})
    assert prompts == ["Human: hi"]


def test_non_handler_callback_is_a_clear_error(chain):
    with pytest.raises(TypeError, match="subclass hookchain.callbacks.BaseCallbackHandler"):
        chain.invoke({"number": "1"}, config={"callbacks": [print]})


def test_unknown_config_key_is_a_clear_error(chain):
    with pytest.raises(TypeError, match="unknown RunnableConfig key 'callback'"):
        chain.invoke({"number": "1"}, config={"callback": []})


def test_custom_event_from_a_sync_lambda_thread_reaches_astream_events():
    def work(x):
        dispatch_custom_event("from-thread", {"thread": threading.get_ident() != main})
        return x

    main = threading.get_ident()

    async def run():
        return [e async for e in RunnableLambda(work).astream_events(1, version="v2")]

    events = asyncio.run(run())
    custom = [e for e in events if e["event"] == "on_custom_event"]
    assert custom and custom[0]["name"] == "from-thread" and custom[0]["data"] == {"thread": True}
    assert [e["event"] for e in events][-1] == "on_chain_end"


def test_parallel_branches_stream_chunk_by_chunk(recorder):
    from hookchain.runnables import RunnableParallel

    both = RunnableParallel(a=hookchain.get_model("echo", n=3), b=hookchain.get_model("echo", n=2))
    chunks = list(both.stream("xyz", config={"callbacks": [recorder]}))
    assert len(chunks) > 2 and all(len(c) == 1 for c in chunks)
    total = {}
    for c in chunks:
        for k, v in c.items():
            total[k] = total[k] + v if k in total else v
    assert {k: v.content for k, v in total.items()} == {"a": "xyz", "b": "xy"}

    async def collect():
        return [c async for c in both.astream("xyz")]

    assert len(asyncio.run(collect())) == len(chunks)
    stream = both.stream("xyz", config={"callbacks": [recorder]})
    next(stream)
    stream.close()
    assert recorder.events[-1][0] == "on_chain_error"


def test_sync_constructor_handler_has_run_when_ainvoke_returns():
    seen = []

    class Slowish(BaseCallbackHandler):
        def on_llm_end(self, response, **kwargs):
            import time

            time.sleep(0.02)
            seen.append(response.generations[0][0].text)

    chain = ChatPromptTemplate.from_template("{x}") | hookchain.get_model("echo", callbacks=[Slowish()])
    for i in range(5):
        asyncio.run(chain.ainvoke({"x": f"run {i}"}))
        assert seen[-1] == f"run {i}"
