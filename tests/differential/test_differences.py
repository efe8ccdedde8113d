"""Every known difference between hookchain and langchain-core 1.7.2, asserted
explicitly (the other tests normalise them away; these tests fail if one of
them disappears or changes, so the list stays true).

Deliberate (hookchain's design):
* message ids ``run-<uuid>-0`` (LangChain: ``lc_run--<uuid>-0``): test_models.
* ``stream()`` has no extra empty final chunk (LangChain: ``chunk_position="last"``).
* ``serialized`` of ``on_chain_start`` is always a dict: test_callbacks.
* a streamed run's ``on_chain_start`` gets the real input (LangChain:
  ``{"input": ""}``, ``defers_inputs=True``, input later in ``inputs=``).
* no ``ls_*`` / ``lc_versions`` metadata on chat model runs.
* concise message reprs.

Kept, reported (see each test): ``on_llm_new_token``'s token passed
positionally, no ``run_type=None`` keyword, no error-metadata generations in
``on_llm_error``'s response, astream_events' input on the root run only, no
streaming through RunnableAssign (test_stream_events), sync
generator lambdas accepted by astream (test_stream_events).
"""

from __future__ import annotations

from .harness import HC, LC, both, collect


def _spy(fw, sink, *events):
    def make(event):
        def method(self, *args, **kwargs):
            sink.append((event, args, kwargs))
        return method

    return type("Spy", (fw.BaseCallbackHandler,), {e: make(e) for e in events})()


def test_stream_final_chunk():
    def scenario(fw):
        return list(fw.EchoModel(n=2).stream("hi"))

    lc, hc = both(scenario)
    assert [c.content for c in lc] == ["h", "i", "", ""]
    assert lc[-1].chunk_position == "last"
    assert [c.content for c in hc] == ["h", "i", ""]  # the seeds' c|a|t|| shape


def test_streamed_sequence_start_input():
    def scenario(fw):
        seen = []
        chain = fw.RunnableLambda(lambda x: x) | fw.RunnableLambda(lambda x: x + 1)
        list(chain.stream(1, config={"callbacks": [_spy(fw, seen, "on_chain_start", "on_chain_end")]}))
        return seen[0][1][1], sorted(seen[0][2]), seen[-1][2].get("inputs")

    (lc_input, lc_kwargs, lc_late), (hc_input, hc_kwargs, hc_late) = both(scenario)
    assert (lc_input, lc_late) == ({"input": ""}, 1)
    assert "defers_inputs" in lc_kwargs
    assert (hc_input, hc_late) == (1, None)
    assert "defers_inputs" not in hc_kwargs


def test_no_tracing_metadata():
    def scenario(fw):
        seen = []
        fw.EchoModel(n=1).invoke("x", config={"callbacks": [_spy(fw, seen, "on_chat_model_start")], "metadata": {"mine": 1}})
        return seen[0][2]["metadata"]

    lc, hc = both(scenario)
    assert lc["mine"] == hc["mine"] == 1
    assert any(k.startswith("ls_") for k in lc)
    assert hc == {"mine": 1}


def test_concise_message_repr():
    assert repr(HC.AIMessage(content="x")) == "AIMessage(content='x')"
    assert repr(LC.AIMessage(content="x")).startswith("AIMessage(content='x', additional_kwargs={}")


def test_new_token_passed_positionally():
    # LangChain's *sync* run manager passes on_llm_new_token(token=...) by
    # keyword, its async one positionally; hookchain always positionally. A
    # handler written as on_llm_new_token(self, token, **kwargs) works with both.
    def scenario(fw):
        seen = []
        list(fw.EchoModel(n=1).stream("x", config={"callbacks": [_spy(fw, seen, "on_llm_new_token")]}))
        return seen[0][1], "token" in seen[0][2]

    lc, hc = both(scenario)
    assert lc == ((), True)
    assert hc == (("x",), False)


def test_run_type_keyword():
    # LangChain passes run_type=None to on_chain_start from the runnables built
    # on _call_with_config (lambdas, passthrough); hookchain passes run_type
    # only when there is one ("prompt" for templates, as LangChain).
    def scenario(fw):
        seen = []
        spy = _spy(fw, seen, "on_chain_start")
        fw.RunnableLambda(lambda x: x).invoke(1, config={"callbacks": [spy]})
        fw.ChatPromptTemplate.from_template("{x}").invoke({"x": 1}, config={"callbacks": [spy]})
        return [e[2].get("run_type", "absent") for e in seen]

    lc, hc = both(scenario)
    assert lc == [None, "prompt"]
    assert hc == ["absent", "prompt"]


def test_llm_error_response():
    # LangChain appends to on_llm_error's response a list of generations built
    # from the error's HTTP response (error.response), empty for other errors.
    def scenario(fw):
        seen = []
        try:
            fw.EchoModel(fail_after=0).invoke("x", config={"callbacks": [_spy(fw, seen, "on_llm_error")]})
        except ValueError:
            pass
        return seen[0][2]["response"].generations

    lc, hc = both(scenario)
    assert lc == [[]]
    assert hc == []


def test_stream_events_root_input_with_filters():
    # LangChain gives the *first emitted* event the astream_events input; with
    # filters hiding the root run that is a chat model start showing the
    # chain's input. hookchain gives it to the root run's start event only.
    async def scenario(fw):
        chain = fw.ChatPromptTemplate.from_template("{x}") | fw.AsyncEchoModel(n=1)
        events = await collect(chain.astream_events({"x": "hi"}, version="v2", include_types=["chat_model"]))
        return events[0]["data"]["input"]

    lc, hc = both(scenario)
    assert lc == {"x": "hi"}
    assert [[m.content for m in ms] for ms in hc["messages"]] == [["hi"]]
