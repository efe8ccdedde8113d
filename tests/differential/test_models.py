"""Chat models alone, as the seeds use them: invoke, batch, stream, astream,
ainvoke, abatch, astream_events, constructor callbacks with streaming=True,
stop sequences, errors. Every test runs the same scenario under langchain-core
and under hookchain and compares the normalised results."""

from __future__ import annotations

from .harness import araised, both, drop_last_chunks, event_stream, events, norm, raised, trees


def _seed_model(fw, **kwargs):
    return fw.SeedModel(n=3, model_name="my_custom_model", **kwargs)


def test_seed_invoke_messages():
    def scenario(fw):
        h = fw.Recorder()
        out = _seed_model(fw).invoke(
            [fw.HumanMessage(content="hello!"), fw.AIMessage(content="Hi there human!"), fw.HumanMessage(content="Meow!")],
            config={"callbacks": [h]},
        )
        return norm(out), out.response_metadata, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == ("AIMessage", "Meo")
    assert hc[1] == {"time_in_seconds": 3}


def test_seed_invoke_str_batch_stream():
    def scenario(fw):
        model = _seed_model(fw)
        h = fw.Recorder()
        invoked = norm(model.invoke("hello", config={"callbacks": [h]}))
        batched = norm(model.batch(["hello", "goodbye"]))
        streamed = drop_last_chunks(fw, [norm(c) for c in model.stream("cat")])
        return invoked, batched, streamed, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[1] == [("AIMessage", "hel"), ("AIMessage", "goo")]
    # The seed prints c|a|t|| : three characters and the metadata chunk. (LC 1.x
    # adds a third empty chunk_position="last" chunk; dropped, see harness.)
    assert [c[1] for c in hc[2]] == ["c", "a", "t", ""]


def test_seed_astream():
    async def scenario(fw):
        return drop_last_chunks(fw, [norm(c) async for c in _seed_model(fw).astream("cat")])

    lc, hc = both(scenario)
    assert lc == hc
    assert [c[1] for c in hc] == ["c", "a", "t", ""]


def test_seed_astream_events():
    async def scenario(fw):
        return await event_stream(fw, _seed_model(fw), "cat")

    lc, hc = both(scenario)
    assert lc == hc


def test_message_id_format_differs_on_purpose():
    # Deliberate difference: hookchain ids are run-<uuid>-0 (as the seeds show),
    # LangChain 1.x uses lc_run--<uuid>-0. Both embed the chat model run's id.
    def scenario(fw):
        h = fw.Recorder()
        out = fw.EchoModel(n=2).invoke("hi", config={"callbacks": [h]})
        run_id = str(h.log[0]["run_id"])
        streamed = list(fw.EchoModel(n=2).stream("hi", config={"callbacks": [h]}))
        stream_run_id = str(h.log[-1]["run_id"])
        return out.id, run_id, [c.id for c in streamed], stream_run_id

    (lc_id, lc_run, lc_chunk_ids, lc_srun), (hc_id, hc_run, hc_chunk_ids, hc_srun) = both(scenario)
    assert lc_id == f"lc_run--{lc_run}-0"
    assert hc_id == f"run-{hc_run}-0"
    assert set(lc_chunk_ids) == {f"lc_run--{lc_srun}"}
    assert set(hc_chunk_ids) == {f"run-{hc_srun}"}


def test_constructor_callbacks_streaming_invoke():
    # Seeds 000-002: a constructor handler on a streaming model sees every token.
    def scenario(fw):
        h = fw.Recorder()
        model = fw.EchoModel(n=12, streaming=True, callbacks=[h])
        out = model.invoke("Why do bears")
        return norm(out), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    tokens = [e[6][0] for e in hc[1] if e[0] == "on_llm_new_token"]
    assert tokens == list("Why do bears") + [""]


def test_streaming_false_invoke_has_no_tokens():
    def scenario(fw):
        h = fw.Recorder()
        out = fw.EchoModel(n=5, callbacks=[h]).invoke("hello world")
        return norm(out), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert [e[0] for e in hc[1]] == ["on_chat_model_start", "on_llm_end"]


def test_stream_and_astream_events_and_chunks():
    def sync(fw):
        h = fw.Recorder()
        chunks = [norm(c) for c in fw.EchoModel(n=3).stream("hello", config={"callbacks": [h]})]
        return drop_last_chunks(fw, chunks), events(fw, h.log)

    async def asynchronous(fw):
        h = fw.Recorder()
        chunks = [norm(c) async for c in fw.AsyncEchoModel(n=3).astream("hello", config={"callbacks": [h]})]
        return drop_last_chunks(fw, chunks), events(fw, h.log)

    for scenario in (sync, asynchronous):
        lc, hc = both(scenario)
        assert lc == hc
        assert [c[1] for c in hc[0]] == ["h", "e", "l", ""]


def test_astream_falls_back_to_sync_stream():
    # EchoModel has no _astream: both run _stream in a worker thread.
    async def scenario(fw):
        h = fw.Recorder()
        chunks = [norm(c) async for c in fw.EchoModel(n=3).astream("hello", config={"callbacks": [h]})]
        return drop_last_chunks(fw, chunks), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_ainvoke_and_abatch():
    async def scenario(fw):
        h = fw.Recorder()
        model = fw.AsyncEchoModel(n=4)
        one = norm(await model.ainvoke("abcdef", config={"callbacks": [h]}))
        first = events(fw, h.log)
        h2 = fw.Recorder()
        many = norm(await model.abatch(["hello", "goodbye", "ok"], config={"callbacks": [h2]}))
        return one, first, many, trees(fw, h2.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[2] == [("AIMessage", "hell"), ("AIMessage", "good"), ("AIMessage", "ok")]


def test_async_streaming_invoke_uses_astream():
    async def scenario(fw):
        h = fw.AsyncRecorder()
        out = await fw.AsyncEchoModel(n=3, streaming=True, callbacks=[h]).ainvoke("hello")
        return norm(out), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_batch_per_input_trees():
    def scenario(fw):
        h = fw.Recorder()
        outs = fw.EchoModel(n=3, streaming=True).batch(["one", "two", "three"], config={"callbacks": [h], "tags": ["b"]})
        return norm(outs), trees(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert len(hc[1]) == 3


def test_batch_with_config_list():
    def scenario(fw):
        h = fw.Recorder()
        outs = fw.EchoModel(n=2).batch(
            ["one", "two"],
            config=[{"callbacks": [h], "tags": ["first"], "run_name": "a"}, {"callbacks": [h], "metadata": {"i": 2}}],
        )
        return norm(outs), trees(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_stop_sequences():
    def scenario(fw):
        h = fw.Recorder()
        model = fw.EchoModel()
        invoked = norm(model.invoke("hello world, again", stop=["o w"], config={"callbacks": [h]}))
        bound = norm(model.bind(stop=[","]).invoke("hello world, again"))
        streamed = drop_last_chunks(fw, [norm(c) for c in model.stream("a.b.c", stop=["."])])
        start = h.log[0]
        return invoked, bound, streamed, events(fw, h.log), start["options"] if "options" in start else None

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == ("AIMessage", "hello w")
    assert hc[1] == ("AIMessage", "hello world,")


def test_stop_in_invocation_params_and_options():
    def scenario(fw):
        seen = {}

        class Spy(fw.BaseCallbackHandler):
            def on_chat_model_start(self, serialized, messages, **kwargs):
                params = dict(kwargs["invocation_params"])
                seen["stop"] = params.get("stop")
                seen["type"] = params.get("_type")
                seen["options"] = kwargs["options"]

        fw.EchoModel(n=3).invoke("hello", stop=["l"], config={"callbacks": [Spy()]})
        return seen

    lc, hc = both(scenario)
    assert lc == hc
    assert hc == {"stop": ["l"], "type": "echo", "options": {"stop": ["l"]}}


def test_error_in_generate():
    def scenario(fw):
        h = fw.Recorder()
        model = fw.EchoModel(fail_after=0)
        error = raised(lambda: model.invoke("boom", config={"callbacks": [h]}))
        return error, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == ("raised", "EchoFailure", "echo model failed")
    assert [e[0] for e in hc[1]] == ["on_chat_model_start", "on_llm_error"]


def test_error_mid_stream():
    def scenario(fw):
        h = fw.Recorder()
        got = []

        def run():
            for chunk in fw.EchoModel(fail_after=2).stream("hello", config={"callbacks": [h]}):
                got.append(chunk.content)

        error = raised(run)
        return error, got, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[1] == ["h", "e"]
    assert hc[2][-1][0] == "on_llm_error"


def test_error_mid_astream():
    async def scenario(fw):
        h = fw.AsyncRecorder()
        got = []

        async def run():
            async for chunk in fw.AsyncEchoModel(fail_after=1).astream("hello", config={"callbacks": [h]}):
                got.append(chunk.content)

        error = await araised(run())
        return error, got, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0][1] == "EchoFailure"


def test_error_in_streaming_invoke():
    def scenario(fw):
        h = fw.Recorder()
        model = fw.EchoModel(fail_after=3, streaming=True, callbacks=[h])
        return raised(lambda: model.invoke("hello")), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_model_astream_events():
    async def scenario(fw):
        return await event_stream(fw, fw.AsyncEchoModel(n=3), "hello", {"tags": ["x"], "metadata": {"m": 1}})

    lc, hc = both(scenario)
    assert lc == hc


def test_model_run_name():
    def scenario(fw):
        h = fw.Recorder()
        fw.EchoModel(n=1).invoke("hi", config={"callbacks": [h], "run_name": "my-model"})
        fw.EchoModel(n=1, name="named").invoke("hi", config={"callbacks": [h]})
        return events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_ainvoke_sync_only_model_runs_generate_in_thread():
    async def scenario(fw):
        h = fw.Recorder()
        out = await fw.EchoModel(n=3).ainvoke("hello", config={"callbacks": [h]})
        streamed = await fw.EchoModel(n=3, streaming=True).ainvoke("hello", config={"callbacks": [h]})
        return norm(out), norm(streamed), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_model_with_config_run_name_and_tags():
    def scenario(fw):
        h = fw.Recorder()
        model = fw.EchoModel(n=2, tags=["ctor"], metadata={"ctor": 1}).with_config(run_name="named", tags=["wc"], metadata={"wc": 2})
        chain = fw.RunnableLambda(lambda x: x) | model
        chain.invoke("hello", config={"callbacks": [h], "tags": ["root"]})
        return events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
