"""A handler may only ever cost its own runs: a stuck sync handler in an async
run costs at most its timeout, once, and never blocks unrelated runs; a run
started from inside a handler cannot wait on itself; state handed to handlers
(``serialized``) and the process's handler list stay intact.

No timing is asserted: stuck handlers block on an event the test releases at
the end, and every run is joined with a generous hang guard."""

from __future__ import annotations

import asyncio
import threading

import pytest

import hookchain
from hookchain.callbacks import BaseCallbackHandler
from hookchain.callbacks import manager as _manager
from hookchain.prompts import ChatPromptTemplate

HANG_GUARD = 60.0  # seconds; only ever reached when the code under test hangs


def finishes(call, *args):
    """``call(*args)`` in a daemon thread; its result, or a test failure if it
    does not return within the hang guard (a hang must not hang the suite)."""
    box: dict = {}

    def target():
        try:
            box["result"] = call(*args)
        except BaseException as e:  # noqa: BLE001 - reported below
            box["error"] = e

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(HANG_GUARD)
    assert not thread.is_alive(), f"{getattr(call, '__name__', call)} did not return: it hangs"
    if "error" in box:
        raise box["error"]
    return box.get("result")


class Stuck(BaseCallbackHandler):
    """Blocks in ``on_chain_start`` until the test releases it."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def on_chain_start(self, serialized, inputs, **kwargs):
        self.calls += 1
        self.entered.set()
        self.release.wait()


@pytest.fixture(params=["own timeout", "process handler_timeout"])
def stuck(request, monkeypatch):
    handler = Stuck()
    if request.param == "own timeout":
        handler.timeout = 0.05
    else:
        monkeypatch.setattr(_manager, "handler_timeout", 0.05)
    yield handler
    handler.release.set()


@pytest.fixture
def chain():
    return ChatPromptTemplate.from_template("say {x}") | hookchain.get_model("echo", n=3)


def names(recorder):
    return [e[0] for e in recorder.events]


EXPECTED = ["on_chain_start", "on_chain_start", "on_chain_end", "on_chat_model_start", "on_llm_end", "on_chain_end"]


def test_stuck_sync_handler_in_an_async_run_does_not_block_later_runs(chain, stuck, recorder, caplog):
    out = finishes(asyncio.run, chain.ainvoke({"x": "hi"}, config={"callbacks": [stuck]}))
    assert out.content == "say"
    assert stuck.entered.is_set()
    # Later runs that do not use the stuck handler: async, then sync (which
    # used to wait for the shared delivery thread first).
    finishes(asyncio.run, chain.ainvoke({"x": "hi"}, config={"callbacks": [recorder]}))
    assert names(recorder) == EXPECTED
    recorder.events.clear()
    finishes(chain.invoke, {"x": "hi"}, {"callbacks": [recorder]})
    assert names(recorder) == EXPECTED
    # A later run with the stuck handler still attached is not held up by
    # it: while its call is in progress, it gets no further events.
    recorder.events.clear()
    finishes(asyncio.run, chain.ainvoke({"x": "hi"}, config={"callbacks": [stuck, recorder]}))
    assert names(recorder) == EXPECTED
    assert stuck.calls == 1
    assert "Stuck.on_chain_start did not return within 0.05 s" in caplog.text


def test_well_behaved_handlers_keep_their_order_across_an_abandoned_call(chain, stuck, recorder):
    # The stuck handler and a recorder share the async run: the recorder gets
    # every event, in order, although the call before its first was abandoned.
    finishes(asyncio.run, chain.ainvoke({"x": "hi"}, config={"callbacks": [stuck, recorder]}))
    assert names(recorder) == EXPECTED


def test_run_started_by_a_sync_handler_in_an_async_run_does_not_wait_on_itself(chain, recorder):
    # The nested run's sync handler would be delivered by the thread that is
    # running the outer handler: it is delivered inline instead.
    inner = type(recorder)()

    class Nested(BaseCallbackHandler):
        answers: list = []

        def on_chain_end(self, outputs, *, parent_run_id=None, **kwargs):
            if parent_run_id is None:
                model = hookchain.get_model("echo", n=2)
                self.answers.append(asyncio.run(model.ainvoke("nested", config={"callbacks": [inner]})).content)

    handler = Nested()
    finishes(asyncio.run, chain.ainvoke({"x": "hi"}, config={"callbacks": [handler, recorder]}))
    assert handler.answers == ["ne"]
    assert names(inner) == ["on_chat_model_start", "on_llm_end"]
    assert names(recorder) == EXPECTED


def test_stuck_handler_with_raise_error_fails_its_run_and_does_not_hang_the_loop(chain, stuck):
    # A raise_error handler is waited for: its timeout fails the run, and
    # asyncio.run's executor shutdown does not wait for the stuck call.
    stuck.raise_error = True
    with pytest.raises(asyncio.TimeoutError):
        finishes(asyncio.run, chain.ainvoke({"x": "hi"}, config={"callbacks": [stuck]}))
    assert stuck.calls == 1


class Scribbler(BaseCallbackHandler):
    """Changes the ``serialized`` dict it is given (its own business)."""

    def on_chain_start(self, serialized, inputs, **kwargs):
        serialized["name"] = "scribbled"
        serialized["id"].append("scribbled")
        serialized["extra"] = True

    def on_chat_model_start(self, serialized, messages, **kwargs):
        self.on_chain_start(serialized, messages)


def test_a_handler_changing_serialized_does_not_change_it_for_later_runs(chain, recorder):
    chain.invoke({"x": "hi"}, config={"callbacks": [recorder]})
    clean = [e[3][0] for e in recorder.events if e[0].endswith("_start")]
    finishes(asyncio.run, chain.ainvoke({"x": "hi"}, config={"callbacks": [Scribbler()]}))
    chain.invoke({"x": "hi"}, config={"callbacks": [Scribbler()]})
    recorder.events.clear()
    chain.invoke({"x": "hi"}, config={"callbacks": [recorder]})
    assert [e[3][0] for e in recorder.events if e[0].endswith("_start")] == clean
    assert clean[0] == {"id": ["hookchain", "runnables", "base", "RunnableSequence"], "name": "RunnableSequence"}


def test_enable_and_disable_from_many_threads_lose_no_update(chain):
    # Several threads enable, then disable, hundreds of handlers while runs
    # are in flight; every change must stick. (The switch interval is made
    # tiny so that an unlocked read-modify-write would lose updates.)
    import sys

    from hookchain.callbacks import disable_handler, enable_handler, enabled_handlers

    handlers = [BaseCallbackHandler() for _ in range(800)]
    chunks = [handlers[i::8] for i in range(8)]
    stop = threading.Event()

    def runs():
        while not stop.is_set():
            chain.invoke({"x": "hi"})

    def change(chunk, barrier, action):
        barrier.wait()
        for handler in chunk:
            action(handler)

    def in_threads(action):
        barrier = threading.Barrier(len(chunks))
        threads = [threading.Thread(target=change, args=(c, barrier, action), daemon=True) for c in chunks]
        for t in threads:
            t.start()
        for t in threads:
            t.join(HANG_GUARD)

    runner = threading.Thread(target=runs, daemon=True)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        runner.start()
        in_threads(enable_handler)
        assert len(enabled_handlers()) == len(handlers)
        assert {id(h) for h in enabled_handlers()} == {id(h) for h in handlers}
        in_threads(disable_handler)
        assert enabled_handlers() == ()
    finally:
        sys.setswitchinterval(interval)
        stop.set()
        runner.join(HANG_GUARD)


@pytest.mark.parametrize("entry", ["chain.ainvoke", "model.ainvoke", "chain.astream"])
def test_first_async_run_reads_the_config_off_the_event_loop(entry, chain, recorder, monkeypatch):
    # The first root run reads the config file (hookchain.config.autoload);
    # in an async run that must not happen on the event loop's thread. The
    # handlers it enables still get every event of that first run.
    import hookchain.config

    seen = []

    def autoload():
        try:
            asyncio.get_running_loop()
            seen.append("on the event loop")
        except RuntimeError:
            seen.append("off the event loop")
        _manager.enable_handler(recorder)

    monkeypatch.setattr(hookchain.config, "autoload", autoload)
    monkeypatch.setattr(_manager, "_autoload_pending", True)
    model = hookchain.get_model("echo", n=3)

    async def first_run():
        if entry == "chain.ainvoke":
            return await chain.ainvoke({"x": "hi"})
        if entry == "model.ainvoke":
            return await model.ainvoke("say")
        return [chunk async for chunk in chain.astream({"x": "hi"})]

    finishes(asyncio.run, first_run())
    assert seen == ["off the event loop"]
    expected = ["on_chat_model_start", "on_llm_end"] if entry == "model.ainvoke" else EXPECTED
    assert [n for n in names(recorder) if n != "on_llm_new_token"] == expected
