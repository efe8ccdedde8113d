"""Closing or cancelling a stream ends its runs at once, innermost first, and a
stream keeps no chunk nobody asked for."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from typing import Any

import pytest

from hookchain.language_models import BaseChatModel
from hookchain.messages import AIMessage, AIMessageChunk
from hookchain.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from hookchain.prompts import ChatPromptTemplate
from hookchain.runnables import RunnableLambda, RunnableParallel


class Stalls(BaseChatModel):
    """Streams ``a`` then waits forever (until closed or cancelled)."""

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        return ChatResult(generations=[ChatGeneration(AIMessage("a"))])

    async def _astream(self, messages, stop=None, run_manager=None, **kwargs):
        yield ChatGenerationChunk(AIMessageChunk("a"))
        await asyncio.Event().wait()
        yield ChatGenerationChunk(AIMessageChunk("never"))

    @property
    def _llm_type(self) -> str:
        return "stalls"


@pytest.fixture
def recorder(recorder):
    # Inline: events are recorded as they fire (a sync handler of an async run
    # is otherwise called from a delivery thread), so their order is the runs'.
    recorder.run_inline = True
    return recorder


def ends(recorder) -> list[tuple[str, Any]]:
    """``(event, run name)`` of every end or error event, in order."""
    starts = {e[1]: e[4].get("name") or e[3][0]["name"] for e in recorder.events if e[0].endswith("_start")}
    return [(e[0], starts[e[1]]) for e in recorder.events if e[0].endswith(("_end", "_error"))]


CHAINS = {
    "sequence": lambda: ChatPromptTemplate.from_template("{x}") | Stalls(),
    "bound model": lambda: ChatPromptTemplate.from_template("{x}") | Stalls().bind(stop=["z"]),
    "nested sequence": lambda: RunnableLambda(lambda v: v, name="first") | (ChatPromptTemplate.from_template("{x}") | Stalls()).with_config(run_name="inner"),
    "parallel": lambda: ChatPromptTemplate.from_template("{x}") | RunnableParallel(m=Stalls()),
}
EXPECTED_ENDS = {
    "sequence": [("on_chain_end", "ChatPromptTemplate"), ("on_llm_error", "Stalls"), ("on_chain_error", "RunnableSequence")],
    "bound model": [("on_chain_end", "ChatPromptTemplate"), ("on_llm_error", "Stalls"), ("on_chain_error", "RunnableSequence")],
    "nested sequence": [("on_chain_end", "first"), ("on_chain_end", "ChatPromptTemplate"), ("on_llm_error", "Stalls"),
                        ("on_chain_error", "inner"), ("on_chain_error", "RunnableSequence")],
    "parallel": [("on_chain_end", "ChatPromptTemplate"), ("on_llm_error", "Stalls"),
                 ("on_chain_error", "RunnableParallel<m>"), ("on_chain_error", "RunnableSequence")],
}


@pytest.mark.parametrize("kind", CHAINS)
def test_aclose_ends_children_then_parent_before_it_returns(kind, recorder):
    async def main():
        stream = CHAINS[kind]().astream({"x": "hi"}, config={"callbacks": [recorder]})
        await stream.__anext__()
        await stream.aclose()
        return ends(recorder)

    assert asyncio.run(main()) == EXPECTED_ENDS[kind]
    # (a parallel branch runs in its own task, which is cancelled)
    assert isinstance(recorder.events[-1][3][0], GeneratorExit)


@pytest.mark.parametrize("kind", CHAINS)
def test_cancelled_consumer_ends_children_then_parent(kind, recorder):
    # The task is cancelled while its code, not the stream, is waiting: the
    # stream is closed later (by the event loop's async-generator finaliser),
    # and must still end the model's run before its parents'.
    async def main():
        got = asyncio.Event()

        async def consume():
            async for _ in CHAINS[kind]().astream({"x": "hi"}, config={"callbacks": [recorder]}):
                got.set()
                await asyncio.Event().wait()

        task = asyncio.ensure_future(consume())
        await got.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert ends(recorder) == EXPECTED_ENDS[kind]


@pytest.mark.parametrize("kind", CHAINS)
def test_task_cancelled_inside_the_model_ends_children_then_parent(kind, recorder):
    async def main():
        got = asyncio.Event()

        async def consume():
            async for _ in CHAINS[kind]().astream({"x": "hi"}, config={"callbacks": [recorder]}):
                got.set()

        task = asyncio.ensure_future(consume())
        await got.wait()
        await asyncio.sleep(0)  # the consumer is back inside the model's stream
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return ends(recorder)

    assert asyncio.run(main()) == EXPECTED_ENDS[kind]


@pytest.mark.parametrize("kind", ["sequence", "nested sequence", "parallel"])
def test_close_ends_children_then_parent(kind, recorder):
    chains = {
        "sequence": lambda: ChatPromptTemplate.from_template("{x}") | Many(n=5),
        "nested sequence": lambda: RunnableLambda(lambda v: v, name="first") | (ChatPromptTemplate.from_template("{x}") | Many(n=5)).with_config(run_name="inner"),
        "parallel": lambda: ChatPromptTemplate.from_template("{x}") | RunnableParallel(m=Many(n=5)),
    }
    stream = chains[kind]().stream({"x": "hi"}, config={"callbacks": [recorder]})
    next(stream)
    stream.close()
    expected = [(event, "Many" if name == "Stalls" else name) for event, name in EXPECTED_ENDS[kind]]
    assert ends(recorder) == expected


class Many(BaseChatModel):
    """Streams ``n`` chunks of 100 characters, made as they are asked for."""

    n: int = 10

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        return ChatResult(generations=[ChatGeneration(AIMessage("x" * 100 * self.n))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        for i in range(self.n):
            yield ChatGenerationChunk(AIMessageChunk("%100d" % i))

    async def _astream(self, messages, stop=None, run_manager=None, **kwargs):
        for chunk in self._stream(messages, stop):
            yield chunk

    @property
    def _llm_type(self) -> str:
        return "many"


def _peak(consume, n: int) -> int:
    """Peak traced memory (bytes) while ``consume(n)`` runs."""
    consume(5)  # warm caches
    gc.collect()
    tracemalloc.start()
    try:
        consume(n)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _drain(make_stream):
    def consume(n: int) -> None:
        for _ in make_stream(n):
            pass

    return consume


def _adrain(make_stream):
    def consume(n: int) -> None:
        async def main():
            async for _ in make_stream(n):
                pass

        asyncio.run(main())

    return consume


STREAMS = {
    "model.stream": _drain(lambda n: Many(n=n).stream("hi")),
    "chain.stream": _drain(lambda n: (ChatPromptTemplate.from_template("{x}") | Many(n=n)).stream({"x": "hi"})),
    "model.astream": _adrain(lambda n: Many(n=n).astream("hi")),
    "chain.astream": _adrain(lambda n: (ChatPromptTemplate.from_template("{x}") | Many(n=n)).astream({"x": "hi"})),
}


@pytest.mark.parametrize("kind", STREAMS)
def test_a_stream_nobody_listens_to_keeps_no_chunk(kind):
    # Without handlers nobody gets the merged output: memory must not grow
    # with the stream's length (it grew by about 570 bytes per chunk).
    short, long = _peak(STREAMS[kind], 100), _peak(STREAMS[kind], 3_000)
    assert (long - short) / 2_900 < 20, (short, long)
