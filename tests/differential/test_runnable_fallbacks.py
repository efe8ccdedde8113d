"""``with_fallbacks`` (``RunnableWithFallbacks``) and ``.assign()`` on any
runnable, against langchain-core 1.7.2: outputs, callback events and
``astream_events`` (issue 13)."""

from __future__ import annotations

import asyncio

import langchain_core.runnables as lc_runnables
import pytest

import hookchain.runnables as hc_runnables

from .harness import (
    HC, LC, araised, both, collect, drop_last_chunks, event_stream, events, norm, raised, stream_event_trees, trees,
)


def R(fw):
    return lc_runnables if fw is LC else hc_runnables


class Boom(ValueError):
    pass


def fail(x):
    raise Boom(f"boom {x}")


def fail_odd(x):
    if x % 2:
        raise Boom(f"odd {x}")
    return x * 10


def reparented(fw, log):
    """LangChain 1.7.2's ``RunnableWithFallbacks.invoke``/``ainvoke`` start
    the attempts with the parent's config instead of the child config
    (langchain-ai/langchain#36072): at the root, their runs come out as
    roots. hookchain nests them under the fallbacks run (as LangChain's
    stream and batch do); this moves LangChain's orphans under the root."""
    if fw is not LC:
        return log
    out, root = [], None
    for e in log:
        if e["parent_run_id"] is None and e["name"] == "RunnableWithFallbacks":
            root = e["run_id"]
        elif e["parent_run_id"] is None and e["run_id"] != root:
            e = {**e, "parent_run_id": root}
        out.append(e)
    return out


def test_invoke_falls_back_in_order():
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.RunnableLambda(fail).with_fallbacks([fw.RunnableLambda(fail_odd), fw.RunnableLambda(lambda x: x + 1)])
        outs = [chain.invoke(1, {"callbacks": [h], "tags": ["t"], "metadata": {"m": 1}}), chain.invoke(2, {"callbacks": [h]})]
        return outs, events(fw, reparented(fw, h.log)), chain.get_name()

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == [2, 20]
    assert hc[2] == "RunnableWithFallbacks"


def test_hookchain_nests_the_attempts_of_invoke():
    h = HC.Recorder()
    chain = hc_runnables.RunnableLambda(fail).with_fallbacks([hc_runnables.RunnableLambda(lambda x: x)])
    chain.invoke(1, {"callbacks": [h]})
    root = h.log[0]["run_id"]
    assert [e["parent_run_id"] for e in h.log] == [None, root, root, root, root, None]


def test_all_fail_raises_the_first_error():
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.RunnableLambda(fail).with_fallbacks([fw.RunnableLambda(fail_odd)])
        return raised(lambda: chain.invoke(3, {"callbacks": [h]})), events(fw, reparented(fw, h.log))

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == ("raised", "Boom", "boom 3")


def test_unhandled_exception_is_raised_at_once():
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.RunnableLambda(fail).with_fallbacks([fw.RunnableLambda(lambda x: x)], exceptions_to_handle=(KeyError,))
        return raised(lambda: chain.invoke(1, {"callbacks": [h]})), events(fw, reparented(fw, h.log))

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0][1] == "Boom"


def test_exception_key_hands_the_error_on():
    def scenario(fw):
        h = fw.Recorder()
        first = fw.RunnableLambda(lambda d: fail(d["x"]))
        second = fw.RunnableLambda(lambda d: ("second", type(d["err"]).__name__, str(d["err"])))
        chain = first.with_fallbacks([second], exception_key="err")
        out = chain.invoke({"x": 1}, {"callbacks": [h]})
        return out, events(fw, reparented(fw, h.log)), raised(lambda: chain.invoke(1))

    lc, hc = both(scenario)
    assert lc[:2] == hc[:2]
    assert hc[0] == ("second", "Boom", "boom 1")
    assert lc[2][1] == hc[2][1] == "ValueError"
    assert hc[2][2] == "with_fallbacks(exception_key='err') needs a dict input, got int; pass a dict or drop exception_key"


def test_ainvoke():
    async def scenario(fw):
        h = fw.AsyncRecorder()
        chain = fw.RunnableLambda(fail).with_fallbacks([fw.RunnableLambda(fail_odd)])
        out = await chain.ainvoke(2, {"callbacks": [h]})
        err = await araised(chain.ainvoke(1, {"callbacks": [h]}))
        return out, err, events(fw, reparented(fw, h.log))

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[:2] == (20, ("raised", "Boom", "boom 1"))


@pytest.mark.parametrize("return_exceptions", [False, True])
def test_batch(return_exceptions):
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.RunnableLambda(fail_odd).with_fallbacks([fw.RunnableLambda(lambda x: x if x < 3 else fail(x))])
        if return_exceptions:
            out = chain.batch([1, 2, 3, 4], {"callbacks": [h]}, return_exceptions=True)
        else:
            out = raised(lambda: chain.batch([1, 2, 3, 4], {"callbacks": [h]}))
        return out, trees(fw, h.log)

    lc, hc = both(scenario)
    assert str(lc) == str(hc)
    assert lc[1] == hc[1]


@pytest.mark.parametrize("return_exceptions", [False, True])
def test_abatch(return_exceptions):
    async def scenario(fw):
        h = fw.AsyncRecorder()
        chain = fw.RunnableLambda(fail_odd).with_fallbacks([fw.RunnableLambda(lambda x: x if x < 3 else fail(x))])
        if return_exceptions:
            out = await chain.abatch([1, 2, 3, 4], {"callbacks": [h]}, return_exceptions=True)
        else:
            out = await araised(chain.abatch([1, 2, 3, 4], {"callbacks": [h]}))
        return out, trees(fw, h.log)

    lc, hc = both(scenario)
    assert str(lc) == str(hc)
    assert lc[1] == hc[1]


def test_batch_with_exception_key():
    def scenario(fw):
        h = fw.Recorder()
        first = fw.RunnableLambda(lambda d: fail_odd(d["x"]))
        chain = first.with_fallbacks([fw.RunnableLambda(lambda d: str(d["e"]))], exception_key="e")
        return chain.batch([{"x": 1}, {"x": 2}], {"callbacks": [h]}), trees(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == ["odd 1", 20]


def test_stream_model_falls_back_before_its_first_chunk():
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.ChatPromptTemplate.from_messages([("human", "{q}")]) | fw.EchoModel(fail_after=0).with_fallbacks(
            [fw.EchoModel(n=4)])
        chunks = drop_last_chunks(fw, [norm(c) for c in chain.stream({"q": "hello"}, {"callbacks": [h]})])
        return chunks, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert [c[1] for c in hc[0]] == ["h", "e", "l", "l", ""]


def test_stream_error_after_first_chunk_is_raised():
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.EchoModel(fail_after=2).with_fallbacks([fw.EchoModel(n=4)])
        got = []

        def run():
            for c in chain.stream("hello", {"callbacks": [h]}):
                got.append(c.content)

        return raised(run), got, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[1] == ["h", "e"]


def test_astream_and_events():
    async def scenario(fw):
        h = fw.AsyncRecorder()
        chain = fw.AsyncEchoModel(fail_after=0).with_fallbacks([fw.AsyncEchoModel(n=3)])
        chunks = drop_last_chunks(fw, [norm(c) async for c in chain.astream("hello", {"callbacks": [h]})])
        seq = fw.RunnableLambda(str.upper) | chain
        return chunks, events(fw, h.log), await event_stream(fw, chain, "abc"), await event_stream(fw, seq, "xyz")

    lc, hc = both(scenario)
    assert lc == hc
    assert [c[1] for c in hc[0]] == ["h", "e", "l", ""]


def test_lambda_fallbacks_in_astream_events():
    async def scenario(fw):
        chain = fw.RunnableLambda(fail).with_fallbacks([fw.RunnableLambda(lambda x: x * 2)])
        # The failed attempt's run is left out: LangChain's astream_events
        # shows it with no input (its start is deferred) and no end.
        return await event_stream(fw, chain, 4, exclude_names=["fail"]), await collect(chain.astream(4))

    lc, hc = both(scenario)
    assert lc == hc


def test_attributes_and_runnable_methods_of_the_wrapped_runnable():
    def scenario(fw):
        class Model(fw.EchoModel):
            def shorter(self, by):
                return type(self)(n=self.n - by, fail_after=self.fail_after)

            shorter.__annotations__ = {"by": int, "return": fw.BaseChatModel}

        model = Model(n=3, fail_after=0).with_fallbacks([Model(n=5)])
        short = model.shorter(1)
        return (model.n, type(short).__name__, short.runnable.n, [f.n for f in short.fallbacks],
                short.invoke("hello").content, type(model.bind(stop=["l"])).__name__)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc == (3, "RunnableWithFallbacks", 2, [4], "hell", "RunnableBinding")


# --------------------------------------------------------------------------- #
# .assign() on any runnable
# --------------------------------------------------------------------------- #


def test_assign_on_any_runnable():
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.RunnableLambda(lambda x: {"x": x}).assign(double=lambda d: d["x"] * 2, same={"y": lambda d: d["x"]})
        return chain.invoke(3, {"callbacks": [h]}), trees(fw, h.log), type(chain).__name__

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == {"x": 3, "double": 6, "same": {"y": 3}}


def test_assign_streams_the_input_keys_then_the_assigned_ones():
    def scenario(fw):
        h = fw.Recorder()
        prompt = fw.ChatPromptTemplate.from_messages([("human", "{q}")])
        chain = fw.RunnableParallel(raw=prompt | fw.EchoModel(n=3)).assign(
            text=lambda d: d["raw"].content.upper())
        chunks = drop_last_chunks(fw, norm(list(chain.stream({"q": "hello"}, {"callbacks": [h]}))))
        direct = list(fw.RunnablePassthrough.assign(y=lambda d: d["x"] + 1).stream({"x": 1, "y": 0}))
        return chunks, trees(fw, h.log), direct

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[2] == [{"x": 1}, {"y": 2}]


def test_assign_astream_events():
    async def scenario(fw):
        chain = fw.RunnableLambda(lambda x: {"x": x}).assign(y=lambda d: d["x"] + 1)
        items = await collect(chain.astream_events(1, version="v2"))
        return stream_event_trees(fw, items), await collect(chain.astream(1))

    lc, hc = both(scenario)
    assert lc == hc


def test_structured_output_include_raw_shape():
    # The composition with_structured_output(include_raw=True) is built from.
    def scenario(fw):
        h = fw.Recorder()

        def parse(message):
            if message.content.startswith("{"):
                return {"ok": message.content}
            raise Boom("not json")

        parser = fw.RunnableLambda(parse)
        with_parsed = fw.RunnablePassthrough.assign(parsed=(lambda d: d["raw"]) | parser, parsing_error=lambda _: None)
        none = fw.RunnablePassthrough.assign(parsed=lambda _: None)
        chain = fw.RunnableParallel(raw=fw.EchoModel()) | with_parsed.with_fallbacks([none], exception_key="parsing_error")
        good = chain.invoke("{a")
        bad = chain.invoke("oops")
        # (invoke inside a sequence: LangChain's attempts join the sequence, not
        # the fallbacks run, langchain-ai/langchain#36072; stream nests them.)
        streamed = drop_last_chunks(fw, norm(list(chain.stream("{b", {"callbacks": [h]}))))
        # Streaming falls back only before the first chunk: here the raw key
        # streamed first, so the parsing error is raised (as LangChain).
        astreamed = asyncio.run(araised(collect(chain.astream("nope"))))
        return norm(good), events(fw, h.log), norm(bad), streamed, astreamed

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[2]["parsed"] is None and hc[2]["parsing_error"] == ("error", "Boom", "not json")
    assert hc[4] == ("raised", "Boom", "not json")

