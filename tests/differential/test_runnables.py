"""Compositions: nested sequences, parallel branches, RunnablePassthrough(.assign),
batch / abatch, streaming through a sequence, errors in a model or a lambda,
custom events. Same scenario under both frameworks, normalised results compared."""

from __future__ import annotations

from .harness import LC, araised, both, drop_last_chunks, events, norm, raised, trees


def _prompt(fw):
    return fw.ChatPromptTemplate.from_messages([("system", "be brief"), ("human", "Tell me about {topic}")])


def _content(message):
    return message.content


def test_prompt_model_lambda_sequence():
    def scenario(fw):
        h = fw.Recorder()
        chain = _prompt(fw) | fw.EchoModel(n=10) | fw.RunnableLambda(_content)
        out = chain.invoke({"topic": "owls"}, config={"callbacks": [h]})
        return out, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == "Tell me ab"


def test_sequences_compose_flat():
    # a | (b | c) and (a | b) | c are one flat sequence in both.
    def scenario(fw):
        h = fw.Recorder()
        inc = fw.RunnableLambda(lambda x: x + 1)
        dbl = fw.RunnableLambda(lambda x: x * 2)
        left = (inc | dbl) | inc
        right = inc | (dbl | inc)
        return left.invoke(1, config={"callbacks": [h]}), right.invoke(1, config={"callbacks": [h]}), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[:2] == (5, 5)


def test_nested_sequence_inside_lambda():
    # A sequence invoked from inside a lambda joins the run tree as its child.
    def scenario(fw):
        h = fw.Recorder()
        inner = _prompt(fw) | fw.EchoModel(n=6)

        def outer_step(x):
            return inner.invoke({"topic": x}).content

        chain = fw.RunnableLambda(str.upper) | fw.RunnableLambda(outer_step)
        out = chain.invoke("cats", config={"callbacks": [h], "tags": ["outer"], "metadata": {"m": 1}})
        return out, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_nested_sequence_explicit_config():
    def scenario(fw):
        h = fw.Recorder()
        inner = fw.RunnableLambda(lambda x: x + 1) | fw.RunnableLambda(lambda x: x * 10)

        def outer_step(x, config):
            return inner.invoke(x, config)

        out = (fw.RunnableLambda(lambda x: x) | fw.RunnableLambda(outer_step)).invoke(1, config={"callbacks": [h]})
        return out, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == 20


def test_lambda_returning_runnable():
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.RunnableLambda(lambda x: fw.RunnableLambda(lambda y: y * 3))
        return chain.invoke(2, config={"callbacks": [h]}), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == 6


def _parallel_chain(fw):
    return _prompt(fw) | {
        "echo": fw.EchoModel(n=4) | fw.RunnableLambda(_content),
        "count": fw.RunnableLambda(lambda pv: len(pv.to_messages())),
    }


def test_parallel_branches_ordered():
    # max_concurrency=1: both run the branches one after the other, in order.
    def scenario(fw):
        h = fw.Recorder()
        out = _parallel_chain(fw).invoke({"topic": "bees"}, config={"callbacks": [h], "max_concurrency": 1})
        return out, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == {"echo": "Tell", "count": 2}


def test_parallel_branches_concurrent_trees():
    # Concurrent branches interleave nondeterministically: compare trees with
    # siblings sorted.
    def scenario(fw):
        h = fw.Recorder()
        out = _parallel_chain(fw).invoke({"topic": "bees"}, config={"callbacks": [h], "tags": ["p"]})
        return out, trees(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_parallel_async():
    async def scenario(fw):
        h = fw.Recorder()
        out = await _parallel_chain(fw).ainvoke({"topic": "bees"}, config={"callbacks": [h]})
        return out, trees(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_runnable_parallel_direct_and_name():
    def scenario(fw):
        h = fw.Recorder()
        par = fw.RunnableParallel(a=fw.RunnableLambda(lambda x: x + 1), b=fw.RunnablePassthrough())
        out = par.invoke(1, config={"callbacks": [h], "max_concurrency": 1})
        return out, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == {"a": 2, "b": 1}


def test_passthrough_assign():
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.RunnablePassthrough.assign(
            answer=_prompt(fw) | fw.EchoModel(n=7) | fw.RunnableLambda(_content),
        ) | fw.RunnableLambda(lambda d: f"{d['topic']}: {d['answer']}")
        out = chain.invoke({"topic": "frogs"}, config={"callbacks": [h], "max_concurrency": 1})
        return out, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == "frogs: Tell me"


def test_passthrough_assign_async():
    async def scenario(fw):
        h = fw.Recorder()
        chain = fw.RunnablePassthrough.assign(n=fw.RunnableLambda(lambda d: len(d["topic"])), same=fw.RunnablePassthrough())
        out = await chain.ainvoke({"topic": "frogs"}, config={"callbacks": [h]})
        return out, trees(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_chain_batch_trees():
    def scenario(fw):
        h = fw.Recorder()
        chain = _prompt(fw) | fw.EchoModel(n=9, streaming=True) | fw.RunnableLambda(_content)
        outs = chain.batch([{"topic": t} for t in ("a", "b", "c", "d")], config={"callbacks": [h], "metadata": {"batch": True}})
        return outs, trees(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == ["Tell me a", "Tell me a", "Tell me a", "Tell me a"]


def test_chain_abatch_trees():
    async def scenario(fw):
        h = fw.AsyncRecorder()
        chain = _prompt(fw) | fw.AsyncEchoModel(n=12) | fw.RunnableLambda(_content)
        outs = await chain.abatch([{"topic": t} for t in ("x", "yy", "zzz")], config={"callbacks": [h]})
        return outs, trees(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == ["Tell me abou", "Tell me abou", "Tell me abou"]


def test_batch_return_exceptions():
    def scenario(fw):
        h = fw.Recorder()

        def check(x):
            if x < 0:
                raise ValueError(f"negative: {x}")
            return x

        outs = fw.RunnableLambda(check).batch([1, -1, 2], config={"callbacks": [h]}, return_exceptions=True)
        return [norm(o) for o in outs], trees(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_stream_through_sequence():
    def scenario(fw):
        h = fw.Recorder()
        chain = _prompt(fw) | fw.EchoModel(n=5)
        chunks = drop_last_chunks(fw, [norm(c) for c in chain.stream({"topic": "ants"}, config={"callbacks": [h]})])
        return chunks, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert [c[1] for c in hc[0]] == ["T", "e", "l", "l", " ", ""]


def test_stream_through_generator_lambda():
    def upper_stream(message):
        # A generator function gets the whole (accumulated) input, and streams.
        for char in message.content:
            yield char.upper()

    def scenario(fw):
        h = fw.Recorder()
        chain = _prompt(fw) | fw.EchoModel(n=4) | fw.RunnableLambda(upper_stream)
        chunks = list(chain.stream({"topic": "ants"}, config={"callbacks": [h]}))
        return chunks, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == ["T", "E", "L", "L"]


def test_astream_through_sequence():
    async def scenario(fw):
        h = fw.AsyncRecorder()
        chain = _prompt(fw) | fw.AsyncEchoModel(n=5)
        chunks = drop_last_chunks(fw, [norm(c) async for c in chain.astream({"topic": "ants"}, config={"callbacks": [h]})])
        return chunks, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_error_in_model_inside_sequence():
    def scenario(fw):
        h = fw.Recorder()
        chain = _prompt(fw) | fw.EchoModel(fail_after=0) | fw.RunnableLambda(_content)
        error = raised(lambda: chain.invoke({"topic": "x"}, config={"callbacks": [h]}))
        return error, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0][1] == "EchoFailure"
    assert [e[0] for e in hc[1]][-2:] == ["on_llm_error", "on_chain_error"]


def test_error_in_lambda_inside_sequence():
    def boom(x):
        raise KeyError("missing")

    def scenario(fw):
        h = fw.Recorder()
        chain = _prompt(fw) | fw.EchoModel(n=3) | fw.RunnableLambda(boom) | fw.RunnableLambda(_content)
        error = raised(lambda: chain.invoke({"topic": "x"}, config={"callbacks": [h]}))
        return error, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0][1] == "KeyError"


def test_error_in_nested_lambda():
    # The error closes every open run, innermost first.
    def scenario(fw):
        h = fw.Recorder()

        def fail(x):
            raise ValueError("deep")

        inner = fw.RunnableLambda(lambda x: x) | fw.RunnableLambda(fail)
        chain = fw.RunnableLambda(lambda x: x) | fw.RunnableLambda(lambda x: inner.invoke(x))
        return raised(lambda: chain.invoke(1, config={"callbacks": [h]})), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert [e[0] for e in hc[1]][-4:] == ["on_chain_error"] * 4


def test_error_in_parallel_branch():
    def scenario(fw):
        h = fw.Recorder()

        def fail(x):
            raise ValueError("branch")

        chain = fw.RunnableLambda(lambda x: x) | {"ok": fw.RunnableLambda(lambda x: x), "bad": fw.RunnableLambda(fail)}
        return raised(lambda: chain.invoke(1, config={"callbacks": [h], "max_concurrency": 1})), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_error_during_stream():
    def scenario(fw):
        h = fw.Recorder()
        got = []
        chain = _prompt(fw) | fw.EchoModel(fail_after=2)

        def run():
            for chunk in chain.stream({"topic": "x"}, config={"callbacks": [h]}):
                got.append(chunk.content)

        return raised(run), got, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[1] == ["T", "e"]


def test_error_in_async_lambda():
    async def scenario(fw):
        h = fw.AsyncRecorder()

        async def fail(x):
            raise ValueError("async boom")

        chain = fw.RunnableLambda(lambda x: x) | fw.RunnableLambda(fail)
        return await araised(chain.ainvoke(1, config={"callbacks": [h]})), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_custom_events_in_lambda():
    def scenario(fw):
        h = fw.Recorder()

        def step(x):
            fw.dispatch_custom_event("progress", {"stage": 1, "x": x})
            fw.dispatch_custom_event("done", "ok")
            return x * 2

        chain = fw.RunnableLambda(lambda x: x + 1) | fw.RunnableLambda(step)
        out = chain.invoke(1, config={"callbacks": [h], "tags": ["t"], "metadata": {"k": "v"}})
        return out, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_custom_events_with_explicit_config():
    def scenario(fw):
        h = fw.Recorder()

        def step(x, config):
            fw.dispatch_custom_event("with-config", x, config=config)
            return x

        return fw.RunnableLambda(step).invoke(3, config={"callbacks": [h]}), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_async_custom_events():
    async def scenario(fw):
        h = fw.AsyncRecorder()

        async def step(x):
            await fw.adispatch_custom_event("progress", {"x": x})
            return x

        return await fw.RunnableLambda(step).ainvoke(3, config={"callbacks": [h]}), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_custom_event_outside_run_raises():
    def scenario(fw):
        return raised(lambda: fw.dispatch_custom_event("x", 1))[1]

    lc, hc = both(scenario)
    assert lc == hc == "RuntimeError"


# -- behaviour bugs of issue 12 ----------------------------------------------- #
def test_bound_lambda_gets_the_bound_kwargs():
    async def scenario(fw):
        r = fw.RunnableLambda(lambda x, n=0: x + n).bind(n=1)

        async def add(x, n=0):
            return x * 10 + n

        a = fw.RunnableLambda(add).bind(n=2)
        return [r.invoke(1), await r.ainvoke(1), list(r.stream(1)), r.batch([1, 2]), [c async for c in r.astream(1)],
                await a.ainvoke(1), [c async for c in a.astream(1)]]

    lc, hc = both(scenario)
    assert lc == hc == [2, 2, [2], [2, 3], [2], 12, [12]]


def test_passthrough_calls_its_function_with_the_input():
    async def scenario(fw):
        seen = []
        h = fw.Recorder()
        sync = fw.RunnablePassthrough(lambda x: seen.append(("sync", x)))

        async def note(x):
            seen.append(("async", x))

        def with_config(x, config):
            seen.append(("config", x, sorted(config["tags"])))

        outs = [
            sync.invoke(1, {"callbacks": [h]}),
            await sync.ainvoke(2),
            await fw.RunnablePassthrough(note).ainvoke(3),
            await fw.RunnablePassthrough(lambda x: None, afunc=note).ainvoke(4),
            fw.RunnablePassthrough(with_config).invoke(5, {"tags": ["t"]}),
        ]
        return outs, seen, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[1] == [("sync", 1), ("sync", 2), ("async", 3), ("async", 4), ("config", 5, ["t"])]


def _counting_model(fw, log):
    class Counted(fw.EchoModel):
        def batch(self, inputs, config=None, **kwargs):
            log.append(("batch", len(inputs)))
            return super().batch(inputs, config, **kwargs)

        async def abatch(self, inputs, config=None, **kwargs):
            log.append(("abatch", len(inputs)))
            return await super().abatch(inputs, config, **kwargs)

    return Counted(n=3)


def test_sequence_batch_uses_each_steps_batch():
    async def scenario(fw):
        log = []
        h, ah = fw.Recorder(), fw.Recorder()
        chain = _prompt(fw) | _counting_model(fw, log)
        inputs = [{"topic": "cats"}, {"topic": "dogs"}, {"topic": "owls"}]
        outs = chain.batch(inputs, {"callbacks": [h], "tags": ["b"]})
        aouts = await chain.abatch(inputs, {"callbacks": [ah]})
        return [m.content for m in outs], [m.content for m in aouts], log, trees(fw, h.log), trees(fw, ah.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[2] == [("batch", 3), ("abatch", 3)]


def test_sequence_batch_with_return_exceptions_stops_only_the_failed_inputs():
    async def scenario(fw):
        log = []

        def check(x):
            if x == 2:
                raise ValueError("two")
            return x

        chain = fw.RunnableLambda(check) | fw.RunnableLambda(lambda x: log.append(x) or x * 10)
        h, ah = fw.Recorder(), fw.Recorder()
        outs = chain.batch([1, 2, 3], {"callbacks": [h]}, return_exceptions=True)
        aouts = await chain.abatch([1, 2, 3], {"callbacks": [ah]}, return_exceptions=True)
        return norm(outs), norm(aouts), sorted(log), trees(fw, h.log), trees(fw, ah.log), raised(lambda: chain.batch([1, 2]))

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == [10, ("error", "ValueError", "two"), 30]


def test_runnable_returned_by_a_lambda_runs_its_async_path_in_ainvoke():
    async def scenario(fw):
        seen = []

        class Both(fw.Runnable):
            def invoke(self, input, config=None, **kwargs):
                seen.append("sync")
                return input

            async def ainvoke(self, input, config=None, **kwargs):
                seen.append("async")
                return input

        async def make(x):
            return Both()

        outs = [await fw.RunnableLambda(lambda x: Both()).ainvoke(1), await fw.RunnableLambda(make).ainvoke(2),
                fw.RunnableLambda(lambda x: Both()).invoke(3)]
        return outs, seen

    lc, hc = both(scenario)
    assert lc == hc == ([1, 2, 3], ["async", "async", "sync"])


def test_with_config_on_a_users_own_runnable():
    async def scenario(fw):
        class Mine(fw.Runnable):
            def invoke(self, input, config=None, **kwargs):
                config = config or {}
                return input, sorted(config.get("tags") or []), config.get("run_name"), sorted(kwargs)

        r = Mine().with_config(tags=["x"], run_name="mine").bind(k=1)
        return [r.invoke(1), await r.ainvoke(2), list(r.stream(3)), r.batch([4]), await r.abatch([5])]

    lc, hc = both(scenario)
    assert lc == hc


def test_parallel_stream_chunks_are_addable_dicts():
    # RunnableParallel streams AddableDict({key: chunk}); their + adds values
    # key by key, None gives way, incompatible values raise TypeError naming
    # the key (as langchain_core.runnables.utils.AddableDict).
    import langchain_core.runnables.utils as lc_utils

    import hookchain.runnables.utils as hc_utils

    def scenario(fw):
        utils = lc_utils if fw is LC else hc_utils
        par = fw.RunnableParallel(a=fw.RunnableLambda(lambda x: x + 1), b=fw.RunnablePassthrough())
        chunks = list(par.stream(1))
        total = chunks[0]
        for chunk in chunks[1:]:
            total = total + chunk
        added = utils.AddableDict(a="x", b=None) + utils.AddableDict(a="y", b=[1], c=2)
        radded = {"a": "p"} + utils.AddableDict(a="q")
        return ([type(c).__name__ for c in chunks], dict(total), type(added).__name__, dict(added),
                type(radded).__name__, dict(radded), raised(lambda: utils.AddableDict(a=1) + utils.AddableDict(a="s")))

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == ["AddableDict", "AddableDict"] and hc[1] == {"a": 2, "b": 1}


# transform / atransform of a streamed input: RunnablePassthrough passes the
# chunks on as they arrive, a sequence pipes them through its steps'
# transforms, a lambda adds them up and then runs; each as one run that starts
# with {"input": ""} and reports the real input in on_chain_end, as LangChain.
def _raw(log):
    # The events as recorded (deferred inputs not moved): event, name, data, late inputs.
    return [(e["event"], e["name"], e["data"], e.get("inputs")) for e in log]


def _transform_chains(fw, seen):
    def shout(text):
        return text.upper()

    def shout_each(text):
        for char in text:
            yield char.upper()

    return {
        "passthrough": fw.RunnablePassthrough(),
        "passthrough_func": fw.RunnablePassthrough(seen.append),
        "lambda": fw.RunnableLambda(shout),
        "generator_lambda": fw.RunnableLambda(shout_each),
        "sequence": fw.RunnablePassthrough() | fw.RunnablePassthrough(),
        "sequence_lambda": fw.RunnableLambda(shout) | fw.RunnablePassthrough(),
    }


def test_transform_passes_chunks():
    def scenario(fw):
        out = {}
        seen = []
        for key, chain in _transform_chains(fw, seen).items():
            h = fw.Recorder()
            chunks = list(chain.transform(iter(["ab", "cd", "e"]), config={"callbacks": [h]}))
            out[key] = chunks, _raw(h.log), events(fw, h.log)
        return out, seen

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0]["passthrough"][0] == ["ab", "cd", "e"]
    assert hc[0]["sequence"][0] == ["ab", "cd", "e"]
    assert hc[0]["lambda"][0] == ["ABCDE"]
    assert hc[0]["passthrough"][1][0][2] == [{"input": ""}]
    assert hc[0]["passthrough"][1][-1][3] == "abcde"
    assert hc[1] == ["abcde"]


def test_atransform_passes_chunks():
    async def scenario(fw):
        out = {}
        seen = []

        async def source():
            for chunk in ["ab", "cd", "e"]:
                yield chunk

        chains = _transform_chains(fw, seen)
        del chains["generator_lambda"]  # LangChain: TypeError, a sync generator cannot stream asynchronously

        async def shout_each(text):
            for char in text:
                yield char.upper()

        chains["async_generator_lambda"] = fw.RunnableLambda(shout_each)
        for key, chain in chains.items():
            h = fw.AsyncRecorder()
            chunks = [c async for c in chain.atransform(source(), config={"callbacks": [h]})]
            out[key] = chunks, _raw(h.log), events(fw, h.log)
        return out, seen

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0]["sequence"][0] == ["ab", "cd", "e"]
    assert hc[0]["async_generator_lambda"][0] == list("ABCDE")


def test_transform_chunks_arrive_one_by_one():
    # The passthrough yields each chunk before the next one is read.
    def scenario(fw):
        pulled = []

        def source():
            for chunk in ["a", "b", "c"]:
                pulled.append(chunk)
                yield chunk

        chain = fw.RunnablePassthrough() | fw.RunnablePassthrough()
        return [(chunk, list(pulled)) for chunk in chain.transform(source())]

    lc, hc = both(scenario)
    assert lc == hc
    assert hc == [("a", ["a"]), ("b", ["a", "b"]), ("c", ["a", "b", "c"])]
