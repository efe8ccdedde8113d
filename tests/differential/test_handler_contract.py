"""The handler contract as LangChain defines it: the class hierarchy of the
handler bases, and what a handler's call may see or change (context
variables)."""

from __future__ import annotations

import contextvars

from .harness import both, events


def test_async_callback_handler_is_a_base_callback_handler():
    # Code written for LangChain filters handlers with
    # isinstance(h, BaseCallbackHandler); async handlers must pass it, and
    # still be awaited as async handlers (sync and async runs).
    def scenario(fw):
        handlers = [fw.AsyncRecorder(), object()]
        kept = [h for h in handlers if isinstance(h, fw.BaseCallbackHandler)]
        chain = fw.ChatPromptTemplate.from_template("say {x}") | fw.EchoModel(n=3)
        chain.invoke({"x": "hi"}, config={"callbacks": kept})
        sync_events = events(fw, kept[0].log)
        kept[0].log.clear()

        async def run():
            await chain.ainvoke({"x": "hi"}, config={"callbacks": kept})
            return events(fw, kept[0].log)

        import asyncio

        return (issubclass(fw.AsyncCallbackHandler, fw.BaseCallbackHandler), len(kept),
                sync_events, asyncio.run(run()))

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] is True and hc[1] == 1
    assert [e[0] for e in hc[3]][:2] == ["on_chain_start", "on_chain_start"]


def test_handlers_not_run_inline_do_not_leak_context_variables():
    # LangChain copies the context for each call of a sync handler in an async
    # run (run_inline=False): what it sets is seen neither by the run's own
    # function nor by the handler's next call. A sync run calls handlers in
    # the run's context, in both frameworks.
    var = contextvars.ContextVar("leak", default="unset")

    def scenario(fw):
        class Setter(fw.BaseCallbackHandler):
            def __init__(self):
                self.seen = []

            def on_chain_start(self, serialized, inputs, **kwargs):
                self.seen.append(("start", var.get()))
                var.set("set by on_chain_start")

            def on_chain_end(self, outputs, **kwargs):
                self.seen.append(("end", var.get()))
                var.set("set by on_chain_end")

        def read(_):
            return var.get()

        async def aread(_):
            return var.get()

        async def run():
            out = []
            for runnable in (fw.RunnableLambda(read), fw.RunnableLambda(aread),
                             fw.RunnableLambda(read) | fw.RunnableLambda(aread)):
                handler = Setter()
                out.append((await runnable.ainvoke(1, config={"callbacks": [handler]}), var.get(), handler.seen))
            return out

        import asyncio

        handler = Setter()
        sync = contextvars.copy_context().run(
            lambda: (fw.RunnableLambda(read).invoke(1, config={"callbacks": [handler]}), handler.seen))
        return asyncio.run(run()), sync

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0][0] == ("unset", "unset", [("start", "unset"), ("end", "unset")])
