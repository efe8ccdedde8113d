"""``RunnableBranch``, ``RunnableGenerator``, ``RunnablePick``/``.pick()``,
``.map()`` (``RunnableEach``), ``@chain`` and ``batch_as_completed`` /
``abatch_as_completed`` against langchain-core 1.7.2: outputs, callback
events and ``astream_events`` (issue 13)."""

from __future__ import annotations

import asyncio
import threading

import langchain_core.runnables as lc_runnables
import pytest

import hookchain.runnables as hc_runnables

from .harness import (
    LC, araised, both, collect, drop_last_chunks, event_stream, events, norm, raised, stream_event_trees, trees,
)


def R(fw):
    return lc_runnables if fw is LC else hc_runnables


def _branch(fw):
    return R(fw).RunnableBranch(
        (lambda x: x["n"] > 10, fw.RunnableLambda(lambda x: "big")),
        (fw.RunnableLambda(lambda x: x["n"] > 5), lambda x: "medium"),
        lambda x: "small",
    )


# --------------------------------------------------------------------------- #
# RunnableBranch
# --------------------------------------------------------------------------- #


def test_branch_invoke():
    def scenario(fw):
        h = fw.Recorder()
        b = _branch(fw)
        outs = [b.invoke({"n": n}, {"callbacks": [h], "tags": ["t"]}) for n in (20, 7, 1)]
        return outs, events(fw, h.log), b.get_name()

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == ["big", "medium", "small"]
    assert hc[2] == "RunnableBranch"


def test_branch_ainvoke_with_async_condition():
    async def scenario(fw):
        h = fw.AsyncRecorder()

        async def is_big(x):
            return x > 10

        b = R(fw).RunnableBranch((is_big, lambda x: "big"), lambda x: "small")
        return [await b.ainvoke(n, {"callbacks": [h]}) for n in (11, 3)], events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == ["big", "small"]


def test_branch_errors():
    def scenario(fw):
        h = fw.Recorder()

        def bad(x):
            raise KeyError("cond")

        b = R(fw).RunnableBranch((bad, lambda x: 1), lambda x: 2)
        return raised(lambda: b.invoke(1, {"callbacks": [h]})), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_branch_bad_arguments():
    def scenario(fw):
        B = R(fw).RunnableBranch
        return [raised(lambda: B(lambda x: 1))[1], raised(lambda: B("x", lambda x: 1))[1],
                raised(lambda: B((lambda x: 1,), lambda x: 1))[1], raised(lambda: B((lambda x: 1, 1, 2), 3))[1]]

    lc, hc = both(scenario)
    assert lc == hc == ["ValueError", "TypeError", "ValueError", "TypeError"]


def test_branch_stream_and_events():
    async def scenario(fw):
        h = fw.Recorder()
        model = fw.ChatPromptTemplate.from_messages([("human", "{q}")]) | fw.EchoModel(n=3)
        b = R(fw).RunnableBranch((lambda x: x["q"].startswith("h"), model), lambda x: "no")
        chunks = drop_last_chunks(fw, norm(list(b.stream({"q": "hello"}, {"callbacks": [h]}))))
        other = list(b.stream({"q": "x"}, {"callbacks": [h]}))
        achunks = drop_last_chunks(fw, norm(await collect(b.astream({"q": "hey"}))))
        seq = fw.RunnableLambda(lambda x: x) | b
        return (chunks, other, events(fw, h.log), achunks, await event_stream(fw, b, {"q": "ho"}),
                await event_stream(fw, seq, {"q": "hi"}))

    lc, hc = both(scenario)
    assert lc == hc
    assert [c[1] for c in hc[0]] == ["h", "e", "l", ""]


# --------------------------------------------------------------------------- #
# RunnablePick / .pick()
# --------------------------------------------------------------------------- #


def test_pick():
    def scenario(fw):
        h = fw.Recorder()
        src = fw.RunnableLambda(lambda x: {"a": x, "b": x + 1, "c": None})
        outs = [src.pick("a").invoke(1, {"callbacks": [h]}), src.pick(["a", "c"]).invoke(2, {"callbacks": [h]}),
                src.pick(["z"]).invoke(3), src.pick("z").invoke(3), type(src.pick(["a"]).invoke(1)).__name__]
        pick = R(fw).RunnablePick(["a", "b"])
        return (outs, events(fw, h.log), pick.get_name(), R(fw).RunnablePick("a").get_name(),
                raised(lambda: pick.invoke(1))[1])

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == [1, {"a": 2, "c": None}, None, None, "AddableDict"]
    assert hc[2:] == ("RunnablePick<a,b>", "RunnablePick<a>", "ValueError")


def test_pick_streams():
    async def scenario(fw):
        h = fw.Recorder()
        chain = fw.RunnableLambda(lambda x: {"a": x, "b": x * 2}).pick(["b"])
        chunks = list(chain.stream(1, {"callbacks": [h]}))
        achunks = await collect(chain.astream(2))
        return chunks, trees(fw, h.log), achunks, stream_event_trees(fw, await collect(chain.astream_events(3, version="v2")))

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == [{"b": 2}]


# --------------------------------------------------------------------------- #
# .map() (RunnableEach)
# --------------------------------------------------------------------------- #


def test_map():
    def scenario(fw):
        h = fw.Recorder()
        each = fw.RunnableLambda(lambda x: x * 2).map()
        return each.invoke([1, 2, 3], {"callbacks": [h]}), trees(fw, h.log), each.get_name()

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == [2, 4, 6]
    assert hc[2] == "RunnableEach<RunnableLambda>"


def test_map_async_and_errors():
    async def scenario(fw):
        h = fw.AsyncRecorder()

        def f(x):
            if x == 2:
                raise ValueError("two")
            return x

        each = fw.RunnableLambda(f).map()
        ok = await each.ainvoke([1, 3], {"callbacks": [h]})
        err = await araised(each.ainvoke([1, 2], {"callbacks": [h]}))
        return ok, err, trees(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


# --------------------------------------------------------------------------- #
# RunnableGenerator
# --------------------------------------------------------------------------- #


def _doubler(fw):
    def double(chunks):
        for chunk in chunks:
            yield chunk * 2

    return double


def test_generator_stream_invoke_and_transform_in_a_sequence():
    def scenario(fw):
        h = fw.Recorder()
        gen = R(fw).RunnableGenerator(_doubler(fw))
        out = gen.invoke("ab", {"callbacks": [h]})
        streamed = list(gen.stream("c", {"callbacks": [h]}))
        model = fw.ChatPromptTemplate.from_messages([("human", "{q}")]) | fw.EchoModel(n=3)

        def upper(chunks):
            for chunk in chunks:
                yield chunk.content.upper()

        seq = model | R(fw).RunnableGenerator(upper)
        seq_chunks = "".join(seq.stream({"q": "hello"}, {"callbacks": [h]}))
        return out, streamed, seq_chunks, seq.invoke({"q": "hey"}), events(fw, h.log), gen.get_name(), repr(gen)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[:4] == ("abab", ["cc"], "HEL", "HEY")


def test_generator_invokes_runnables_as_children_and_takes_config():
    def scenario(fw):
        h = fw.Recorder()
        inner = fw.RunnableLambda(lambda x: x + "!")

        def shout(chunks, config):
            for chunk in chunks:
                yield inner.invoke(chunk) + str(sorted(config["tags"]))

        return R(fw).RunnableGenerator(shout).invoke("a", {"callbacks": [h], "tags": ["x"]}), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_async_generator_and_astream_events():
    async def scenario(fw):
        h = fw.AsyncRecorder()

        async def double(chunks):
            async for chunk in chunks:
                yield chunk * 2

        gen = R(fw).RunnableGenerator(double)
        out = await gen.ainvoke(2, {"callbacks": [h]})
        seq = fw.RunnableLambda(lambda x: x + 1) | gen
        return (out, await collect(gen.astream(3)), events(fw, h.log), await event_stream(fw, gen, 4),
                await event_stream(fw, seq, 5), raised(lambda: gen.invoke(1))[1])

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[:2] == (4, [6])
    assert hc[5] == "NotImplementedError"


def test_generator_needs_a_generator_function():
    def scenario(fw):
        return raised(lambda: R(fw).RunnableGenerator(lambda x: x))[1]

    lc, hc = both(scenario)
    assert lc == hc == "TypeError"


# --------------------------------------------------------------------------- #
# @chain
# --------------------------------------------------------------------------- #


def test_chain_decorator():
    def scenario(fw):
        h = fw.Recorder()
        model = fw.EchoModel(n=4)

        @R(fw).chain
        def ask(text):
            return model.invoke(text).content.upper()

        return ask.invoke("hello", {"callbacks": [h]}), events(fw, h.log), type(ask).__name__, ask.get_name()

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == "HELL" and hc[3] == "ask"


# --------------------------------------------------------------------------- #
# batch_as_completed / abatch_as_completed
# --------------------------------------------------------------------------- #


def _ordered(fw, order):
    """A lambda whose input ``order[k]`` finishes k-th, each after the
    consumer received the previous one (``received(x)``): events, no sleeps."""
    received = {x: threading.Event() for x in order}

    def f(x):
        i = order.index(x)
        if i:
            assert received[order[i - 1]].wait(30), "hang guard"
        if x == 99:
            raise ValueError("bad")
        return x * 10

    return fw.RunnableLambda(f), received


def test_batch_as_completed_yields_in_completion_order():
    def scenario(fw):
        h = fw.Recorder()
        inputs = [1, 2, 3]
        runnable, received = _ordered(fw, [3, 1, 2])
        got = []
        for i, out in runnable.batch_as_completed(inputs, {"callbacks": [h]}):
            got.append((i, out))
            received[inputs[i]].set()
        return got, trees(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == [(2, 30), (0, 10), (1, 20)]


@pytest.mark.parametrize("return_exceptions", [False, True])
def test_batch_as_completed_errors(return_exceptions):
    def scenario(fw):
        inputs = [1, 99, 2]
        runnable, received = _ordered(fw, [2, 99, 1] if return_exceptions else [2, 1, 99])
        got = []

        def run():
            for i, out in runnable.batch_as_completed(inputs, return_exceptions=return_exceptions):
                got.append((i, norm(out)))
                received[inputs[i]].set()
            return got

        if return_exceptions:
            return run()
        return raised(run), got

    lc, hc = both(scenario)
    assert lc == hc
    assert hc == ([(2, 20), (1, ("error", "ValueError", "bad")), (0, 10)] if return_exceptions
                  else (("raised", "ValueError", "bad"), [(2, 20), (0, 10)]))


def test_batch_as_completed_single_and_empty_and_max_concurrency():
    def scenario(fw):
        r = fw.RunnableLambda(lambda x: x + 1)
        return (list(r.batch_as_completed([5])), list(r.batch_as_completed([])),
                sorted(r.batch_as_completed([1, 2, 3, 4], {"max_concurrency": 2})))

    lc, hc = both(scenario)
    assert lc == hc


def test_abatch_as_completed():
    async def scenario(fw):
        h = fw.AsyncRecorder()
        gates = {x: asyncio.Event() for x in (1, 2, 3)}

        async def f(x):
            if x != 2:
                await asyncio.wait_for(gates[{1: 3, 3: 2}[x]].wait(), 30)
            gates[x].set()
            if x == 1:
                raise ValueError("one")
            return x

        got = [item async for item in fw.RunnableLambda(f).abatch_as_completed([1, 2, 3], {"callbacks": [h]},
                                                                             return_exceptions=True)]
        limited = sorted([i async for i in fw.RunnableLambda(lambda x: x).abatch_as_completed([1, 2, 3], {"max_concurrency": 1})])
        return norm(got), trees(fw, h.log), limited

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0][0] == [1, 2]
