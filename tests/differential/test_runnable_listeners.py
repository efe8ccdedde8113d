"""``with_listeners`` / ``with_alisteners`` against langchain-core 1.7.2: which
listener is called when, with which ``Run`` (name, type, inputs, outputs,
error, tags, metadata) and config; the run's callback events are unchanged
(issue 13)."""

from __future__ import annotations

import pytest

from .harness import LC, araised, both, clean_metadata, collect, drop_last_chunks, events, norm, raised


def _record(log, which):
    def listener(run, config):
        log.append((
            which, run.name, run.run_type, norm(run.inputs), norm(run.outputs),
            run.error.splitlines()[0] if run.error else None, sorted(run.tags), clean_metadata(run.metadata),
            run.parent_run_id is None, sorted(config.get("tags") or []),
            run.start_time is not None, run.end_time is not None,
        ))

    return listener


def _listeners(log):
    return {"on_start": _record(log, "start"), "on_end": _record(log, "end"), "on_error": _record(log, "error")}


def _alisteners(log):
    def wrap(f):
        async def listener(run, config):
            f(run, config)

        return listener

    return {k: wrap(v) for k, v in _listeners(log).items()}


def fail(x):
    raise ValueError(f"bad {x}")


def test_listeners_of_invoke_and_error():
    def scenario(fw):
        log, h = [], fw.Recorder()
        ok = fw.RunnableLambda(lambda x: x + 1).with_listeners(**_listeners(log))
        out = ok.invoke(1, {"callbacks": [h], "tags": ["t"], "metadata": {"m": 1}})
        err = raised(lambda: fw.RunnableLambda(fail).with_listeners(**_listeners(log)).invoke(2, {"callbacks": [h]}))
        return out, err, log, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert [entry[0] for entry in hc[2]] == ["start", "end", "start", "error"]


def test_listeners_of_a_sequence_inside_a_sequence():
    def scenario(fw):
        log, h = [], fw.Recorder()
        inner = (fw.ChatPromptTemplate.from_messages([("human", "{q}")]) | fw.EchoModel(n=3)).with_listeners(
            **_listeners(log))
        chain = fw.RunnableLambda(lambda x: {"q": x}) | inner | fw.RunnableLambda(lambda m: m.content)
        return chain.invoke("hello", {"callbacks": [h]}), log, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_listeners_of_a_chat_model():
    def scenario(fw):
        log = []
        model = fw.EchoModel(n=2).with_listeners(**_listeners(log))
        model.invoke("hey")
        return [(e[0], e[1], e[2], e[5], e[6]) for e in log]

    lc, hc = both(scenario)
    assert lc == hc
    assert hc == [("start", "EchoModel", "chat_model", None, []), ("end", "EchoModel", "chat_model", None, [])]


@pytest.mark.parametrize("return_exceptions", [False, True])
def test_listeners_in_batch(return_exceptions):
    def scenario(fw):
        log = []
        r = fw.RunnableLambda(lambda x: fail(x) if x == 2 else x).with_listeners(**_listeners(log))
        out = (r.batch([1, 2], return_exceptions=True) if return_exceptions else raised(lambda: r.batch([1, 2])))
        return norm(out), sorted(log, key=repr)

    lc, hc = both(scenario)
    assert lc == hc


def test_listeners_of_a_stream():
    def scenario(fw):
        log = []
        r = (fw.RunnableLambda(lambda x: x) | fw.EchoModel(n=3)).with_listeners(**_listeners(log))
        chunks = drop_last_chunks(fw, norm(list(r.stream("hello"))))
        return chunks, [(e[0], e[1], e[5]) for e in log]

    lc, hc = both(scenario)
    assert lc == hc


def test_async_listeners():
    async def scenario(fw):
        log = []
        ok = fw.RunnableLambda(lambda x: x * 3).with_alisteners(**_alisteners(log))
        out = await ok.ainvoke(2, {"tags": ["a"]})
        err = await araised(fw.RunnableLambda(fail).with_alisteners(**_alisteners(log)).ainvoke(1))
        streamed = await collect(ok.astream(3))
        # A streamed lambda's start: LangChain defers its input ({"input": ""}),
        # hookchain gives it (the README's "streamed sequence start" row).
        start = log[-2]
        assert start[0] == "start" and start[3] == ({"input": ""} if fw is LC else {"input": 3})
        return out, err, streamed, log[:-2] + log[-1:]

    lc, hc = both(scenario)
    assert lc == hc


def test_sync_listeners_in_an_async_run_and_listener_without_config():
    async def scenario(fw):
        log = []
        r = fw.RunnableLambda(lambda x: x).with_listeners(on_end=lambda run: log.append(norm(run.outputs)))
        await r.ainvoke(5)
        await r.abatch([6, 7])
        return sorted(log, key=repr)

    lc, hc = both(scenario)
    assert lc == hc
