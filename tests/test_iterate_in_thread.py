"""``iterate_in_thread``: a sync iterator (a model's ``_stream``) consumed from
async code through one worker thread, not one thread hop per item."""

import asyncio
import threading

import pytest

from hookchain.language_models import BaseChatModel
from hookchain.messages import AIMessage, AIMessageChunk
from hookchain.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from hookchain.runnables.utils import iterate_in_thread

GUARD = 30  # seconds: a hang guard only


def test_one_worker_thread_runs_the_whole_iterator_ahead_of_the_consumer():
    threads: list[int] = []
    second_made = threading.Event()

    def source():
        for i in range(50):
            threads.append(threading.get_ident())
            if i == 1:
                second_made.set()
            yield i

    async def main():
        agen = iterate_in_thread(source())
        first = await agen.__anext__()
        # The worker goes on without being asked (one hop per item would wait here).
        assert await asyncio.to_thread(second_made.wait, GUARD)
        rest = [x async for x in agen]
        return [first, *rest]

    assert asyncio.run(main()) == list(range(50))
    assert len(set(threads)) == 1 and threads[0] != threading.get_ident()


def test_an_error_of_the_iterator_is_raised_to_the_consumer():
    def source():
        yield 1
        raise KeyError("boom")

    async def main():
        out = []
        with pytest.raises(KeyError, match="boom"):
            async for x in iterate_in_thread(source()):
                out.append(x)
        return out

    assert asyncio.run(main()) == [1]


def test_leaving_early_closes_the_iterator():
    closed = threading.Event()

    def source():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    async def main():
        agen = iterate_in_thread(source())
        async for x in agen:
            if x == 3:
                break
        await agen.aclose()

    asyncio.run(main())
    assert closed.wait(GUARD)


class SyncOnly(BaseChatModel):
    """Only the sync methods: ``astream``/``astream_events`` pump ``_stream``."""

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        return ChatResult(generations=[ChatGeneration(AIMessage(messages[-1].text))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        for ch in messages[-1].text:
            yield ChatGenerationChunk(AIMessageChunk(ch))

    @property
    def _llm_type(self):
        return "sync-only"


def test_astream_of_a_sync_only_model_streams_every_chunk_in_order():
    async def main():
        return [c.content async for c in SyncOnly().astream("hello world")]

    assert "".join(asyncio.run(main())) == "hello world"
