"""A text-completion model's stream adds its chunks up in batches, not one
``+`` per chunk: adding each chunk to the running total copied the whole text
so far every time, quadratic in the answer's length (a 300,000-character echo
took 5x as long per character as a 100,000 one). Counted, never timed."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.outputs import GenerationChunk as LCGenerationChunk

from hookchain.outputs import GenerationChunk
from hookchain_echo.model import EchoLLM

CHUNKS = 10_000


def test_a_list_adds_like_the_chunks_one_by_one():
    infos = [None, {"a": "x", "n": [1]}, {}, {"a": "y", "n": [2]}]
    ours = [GenerationChunk(text=str(i), generation_info=info) for i, info in enumerate(infos)]
    theirs = [LCGenerationChunk(text=str(i), generation_info=info) for i, info in enumerate(infos)]
    total, expected = ours[0] + ours[1:], theirs[0]
    for chunk in theirs[1:]:
        expected = expected + chunk
    assert (total.text, total.generation_info) == (expected.text, expected.generation_info)
    assert isinstance(total, GenerationChunk)
    with pytest.raises(TypeError):
        ours[0] + [ours[1], "text"]


@pytest.fixture
def additions(monkeypatch):
    calls = []
    add = GenerationChunk.__add__

    def counting(self, other):
        calls.append(len(other) if isinstance(other, list) else 1)
        return add(self, other)

    monkeypatch.setattr(GenerationChunk, "__add__", counting)
    return calls


def test_stream_adds_chunks_up_in_batches(additions):
    ends = []

    from hookchain.callbacks import BaseCallbackHandler

    class Ends(BaseCallbackHandler):
        def on_llm_end(self, response, **kwargs):
            ends.append(response.generations[0][0].text)

    text = "".join(EchoLLM(n=CHUNKS).stream("x" * CHUNKS, config={"callbacks": [Ends()]}))
    assert text == "x" * CHUNKS and ends == [text]
    assert sum(additions) == CHUNKS - 1  # every chunk added once...
    assert len(additions) <= CHUNKS // 1000 + 2  # ...in a few batches, not 9,999 additions of the whole text


def test_astream_adds_chunks_up_in_batches(additions):
    async def go():
        return "".join([t async for t in EchoLLM(n=CHUNKS).astream("x" * CHUNKS)])

    assert asyncio.run(go()) == "x" * CHUNKS
    assert sum(additions) == CHUNKS - 1 and len(additions) <= CHUNKS // 1000 + 2
