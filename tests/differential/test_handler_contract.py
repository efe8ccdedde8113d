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
