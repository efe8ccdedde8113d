"""``on_llm_new_token`` delivery while a chat model streams: hookchain prepares
the token dispatch once per run (``callbacks.manager.token_sink``); these
scenarios pin what must stay as LangChain does it per event: the ``ignore_llm``
flag read for every token, a failing handler isolated, sync and async handlers
mixed in sync and async runs, in order."""

from __future__ import annotations

import pytest

from .harness import both, collect, drop_last_chunks, events, norm


def _chain(fw):
    prompt = fw.ChatPromptTemplate.from_messages(["{text}"])
    return prompt | fw.AsyncEchoModel(n=6)


def _muting(fw, after: int, asynchronous: bool):
    """A recorder whose ``ignore_llm`` (a property, as LangChain's) turns true
    once it has seen ``after`` tokens. (In an async run, an async one: a sync
    handler's calls there are delivered off the event loop, after the flag was
    read, by design.)"""

    class Muting(fw.AsyncRecorder if asynchronous else fw.Recorder):
        @property
        def ignore_llm(self) -> bool:
            return sum(e["event"] == "on_llm_new_token" for e in self.log) >= after

    return Muting()


@pytest.mark.parametrize("mode", ["stream", "astream", "invoke_streaming"])
def test_ignore_llm_is_read_for_every_token(mode):
    def scenario(fw):
        h = _muting(fw, after=3, asynchronous=mode == "astream")
        chain = _chain(fw)
        config = {"callbacks": [h]}
        if mode == "stream":
            out = drop_last_chunks(fw, [norm(c) for c in chain.stream({"text": "abcdefgh"}, config)])
        elif mode == "astream":
            import asyncio

            out = drop_last_chunks(fw, [norm(c) for c in asyncio.run(collect(chain.astream({"text": "abcdefgh"}, config)))])
        else:
            model = fw.EchoModel(n=6, streaming=True)
            out = norm((fw.ChatPromptTemplate.from_messages(["{text}"]) | model).invoke({"text": "abcdefgh"}, config))
        return out, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert [e[0] for e in hc[1]].count("on_llm_new_token") == 3


@pytest.mark.parametrize("asynchronous_run", [False, True])
def test_failing_token_handler_is_isolated_and_others_keep_their_order(asynchronous_run):
    def scenario(fw):
        failing, sync_rec, async_rec = fw.Recorder(fail_on={"on_llm_new_token"}), fw.Recorder(), fw.AsyncRecorder()
        config = {"callbacks": [failing, async_rec, sync_rec]}
        chain = _chain(fw)
        if asynchronous_run:
            import asyncio

            out = drop_last_chunks(fw, [norm(c) for c in asyncio.run(collect(chain.astream({"text": "abcdefgh"}, config)))])
        else:
            out = drop_last_chunks(fw, [norm(c) for c in chain.stream({"text": "abcdefgh"}, config)])
        return out, events(fw, failing.log), events(fw, sync_rec.log), events(fw, async_rec.log)

    lc, hc = both(scenario)
    assert lc == hc
    for log in hc[1:]:
        assert [e[0] for e in log].count("on_llm_new_token") == 7  # six characters, then the empty chunk with response_metadata
