"""``BaseChatModel.disable_streaming`` and a model's own ``chunk_position="last"``,
compared with langchain-core 1.7.2 (issue 12)."""

from __future__ import annotations

import pytest

from .harness import both, collect, drop_last_chunks, event_stream, events, norm

TOOLS = [{"type": "function", "function": {"name": "noop", "parameters": {"type": "object", "properties": {}}}}]


@pytest.mark.parametrize("disable", [False, True, "tool_calling"])
def test_disable_streaming_in_stream_astream_and_invoke(disable):
    async def scenario(fw):
        h = fw.Recorder()
        model = fw.AsyncEchoModel(n=3, disable_streaming=disable)
        streaming = fw.AsyncEchoModel(n=3, disable_streaming=disable, streaming=True)
        cfg = {"callbacks": [h]}
        # (LangChain's extra final empty chunk dropped: see the harness)
        out = [
            drop_last_chunks(fw, [norm(c) for c in model.stream("hello", cfg)]),
            drop_last_chunks(fw, [norm(c) for c in model.stream("hello", cfg, tools=TOOLS)]),
            drop_last_chunks(fw, [norm(c) for c in await collect(model.astream("hello", cfg))]),
            drop_last_chunks(fw, [norm(c) for c in await collect(model.astream("hello", cfg, tools=TOOLS))]),
            norm(streaming.invoke("hello", cfg)),
            norm(await streaming.ainvoke("hello", cfg, tools=TOOLS)),
        ]
        return out, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    streamed = [len(s) > 1 for s in hc[0][:4]]
    assert streamed == {False: [True] * 4, True: [False] * 4, "tool_calling": [True, False, True, False]}[disable]


def test_disable_streaming_in_astream_events():
    async def scenario(fw):
        return await event_stream(fw, fw.AsyncEchoModel(n=3, disable_streaming=True), "hello")

    lc, hc = both(scenario)
    assert lc == hc
    assert "on_chat_model_stream" not in [e[0] for e in hc]


def test_a_models_own_last_chunk_is_kept_and_nothing_is_added():
    def scenario(fw):
        class Marks(fw.EchoModel):
            def _stream(self, messages, stop=None, run_manager=None, **kwargs):
                yield fw.ChatGenerationChunk(message=fw.AIMessageChunk(content="a"))
                yield fw.ChatGenerationChunk(message=fw.AIMessageChunk(content="b", chunk_position="last"))

        h = fw.Recorder()
        chunks = list(Marks().stream("x", {"callbacks": [h]}))
        ends = [e for e in h.log if e["event"] == "on_llm_end"]
        return [(c.content, c.chunk_position) for c in chunks], ends[0]["data"]

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == [("a", None), ("b", "last")]
