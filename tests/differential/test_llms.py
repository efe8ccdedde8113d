"""Text-completion models (``BaseLLM``, ``LLM``, ``FakeListLLM``,
``FakeStreamingListLLM``) against langchain-core 1.7.2: outputs, callback
events with their arguments (``on_llm_start`` prompts, ``invocation_params``,
``options``, ``batch_size``; ``on_llm_new_token``; ``on_llm_end``'s
``LLMResult``; ``on_llm_error``), invoke/ainvoke/batch/abatch/stream/astream,
errors and ``prompt | llm`` chains.

The echo LLM below reports its own tokens in ``_stream`` (as LangChain's docs
ask of an LLM); hookchain fires ``on_llm_new_token`` itself and gives
``_stream`` a run manager that ignores the model's own call, so both
frameworks record the same events (see test_new_token_without_model_calls).
"""

from __future__ import annotations

from typing import Any, Optional

import langchain_core.language_models as lc_lm
import langchain_core.language_models.fake as lc_fake
import langchain_core.outputs as lc_outputs
import pytest

import hookchain.language_models as hc_lm
import hookchain.language_models.fake as hc_fake
import hookchain.outputs as hc_outputs

from .harness import LC, araised, both, collect, events, norm, raised, stream_events, trees


def lm(fw):
    return lc_lm if fw is LC else hc_lm


def fake(fw):
    return lc_fake if fw is LC else hc_fake


def outputs(fw):
    return lc_outputs if fw is LC else hc_outputs


class EchoFailure(ValueError):
    pass


_MODELS: dict[str, Any] = {}


def echo_llm(fw, *, asynchronous: bool = False, stream: bool = True):
    """The echo LLM of ``fw``: echoes the prompt's first ``n`` characters, cut
    after the first stop sequence (included); streams one character per
    chunk; ``fail_after=k`` raises ``EchoFailure`` after ``k`` chunks
    (``_call`` raises for any ``k``)."""
    key = (fw.name, asynchronous, stream)
    if key in _MODELS:
        return _MODELS[key]
    out = outputs(fw)

    class EchoLLM(lm(fw).LLM):
        n: int = 200
        fail_after: Optional[int] = None

        def _answer(self, prompt, stop):
            text = prompt[: self.n]
            for s in stop or ():
                i = text.find(s)
                if i >= 0:
                    text = text[: i + len(s)]
            return text

        def _call(self, prompt, stop=None, run_manager=None, **kwargs):
            if self.fail_after is not None:
                raise EchoFailure("echo llm failed")
            return self._answer(prompt, stop)

        @property
        def _llm_type(self):
            return "echo-llm"

        @property
        def _identifying_params(self):
            return {"model_name": "echo", "n": self.n}

    def _chunks(self, prompt, stop):
        for i, char in enumerate(self._answer(prompt, stop)):
            if self.fail_after is not None and i >= self.fail_after:
                raise EchoFailure("echo llm failed")
            yield out.GenerationChunk(text=char, generation_info={"i": i})

    ns: dict[str, Any] = {}
    if stream:
        def _stream(self, prompt, stop=None, run_manager=None, **kwargs):
            for chunk in _chunks(self, prompt, stop):
                if run_manager:
                    run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk
        ns["_stream"] = _stream
    if asynchronous:
        async def _acall(self, prompt, stop=None, run_manager=None, **kwargs):
            return self._call(prompt, stop, **kwargs)

        async def _astream(self, prompt, stop=None, run_manager=None, **kwargs):
            for chunk in _chunks(self, prompt, stop):
                if run_manager:
                    await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk
        ns.update(_acall=_acall, _astream=_astream)
    cls = type("EchoLLM", (EchoLLM,), ns)
    _MODELS[key] = cls
    return cls


def start_args(fw):
    """A recorder that also keeps on_llm_start's keyword values."""

    class StartRecorder(fw.Recorder):
        def __init__(self):
            super().__init__()
            self.starts = []

        def on_llm_start(self, serialized, prompts, **kwargs):
            self.starts.append({k: kwargs.get(k) for k in ("invocation_params", "options", "batch_size", "name")})
            self._record("on_llm_start", (serialized, prompts), kwargs)

    return StartRecorder


# -- invoke ------------------------------------------------------------------ #


@pytest.mark.parametrize("input", ["hello world", [("system", "be brief"), ("human", "hi")], "prompt_value"])
def test_invoke_inputs_and_events(input):
    def scenario(fw):
        h = start_args(fw)()
        llm = echo_llm(fw)(n=30, tags=["own"], metadata={"m": 1})
        value = fw.ChatPromptTemplate.from_messages([("human", "hi {x}")]).invoke({"x": "there"}) if input == "prompt_value" else input
        out = llm.invoke(value, {"callbacks": [h], "tags": ["t"], "metadata": {"k": "v"}, "run_name": "named"})
        return out, events(fw, h.log), h.starts

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[1][0][0] == "on_llm_start" and isinstance(hc[1][0][6][0][0], str)
    assert hc[2][0]["invocation_params"] == {"model_name": "echo", "n": 30, "_type": "echo-llm", "stop": None}


def test_invoke_stop_and_kwargs():
    def scenario(fw):
        h = start_args(fw)()
        out = echo_llm(fw)().invoke("abc. def. ghi", {"callbacks": [h]}, stop=[". "], temperature=0)
        return out, events(fw, h.log), h.starts

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == "abc. "
    assert hc[2][0]["options"] == {"stop": [". "]}


def test_invoke_error():
    def scenario(fw):
        h = fw.Recorder()
        return raised(lambda: echo_llm(fw)(fail_after=0).invoke("x", {"callbacks": [h]})), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[1][-1][0] == "on_llm_error"


def test_invalid_input():
    lc, hc = both(lambda fw: raised(lambda: echo_llm(fw)().invoke(42)))
    assert lc == hc


def test_ainvoke():
    async def scenario(fw):
        h = fw.AsyncRecorder()
        outs = []
        for cls in (echo_llm(fw), echo_llm(fw, asynchronous=True)):
            outs.append(await cls(n=3).ainvoke("hello", {"callbacks": [h]}, stop=["l"]))
            outs.append(await araised(cls(fail_after=1).ainvoke("hello", {"callbacks": [h]})))
        return outs, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_constructor_callbacks_and_tags():
    def scenario(fw):
        h = fw.Recorder()
        return echo_llm(fw)(callbacks=[h], tags=["mine"]).invoke("yo"), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


# -- generate / batch -------------------------------------------------------- #


def test_generate_many_prompts():
    def scenario(fw):
        h = start_args(fw)()
        result = echo_llm(fw)(n=2).generate(["abc", "def"], callbacks=[h], tags=["g"], metadata={"a": 1}, run_name="gen")
        return norm(result), result.llm_output, events(fw, h.log), h.starts

    lc, hc = both(scenario)
    assert lc == hc
    assert [s["batch_size"] for s in hc[3]] == [2, 2]


def test_generate_not_a_list():
    lc, hc = both(lambda fw: raised(lambda: echo_llm(fw)().generate("abc")))
    assert lc == hc


def test_batch_events_and_configs():
    def scenario(fw):
        h = start_args(fw)()
        llm = echo_llm(fw)(n=4)
        configs = [{"callbacks": [h], "tags": [f"t{i}"], "run_name": f"r{i}"} for i in range(3)]
        return llm.batch(["one", "two", "three"], configs), events(fw, h.log), h.starts

    lc, hc = both(scenario)
    assert lc == hc
    assert [e[0] for e in hc[1]] == ["on_llm_start"] * 3 + ["on_llm_end"] * 3


def test_batch_max_concurrency_and_errors():
    def scenario(fw):
        h = start_args(fw)()
        ok = echo_llm(fw)().batch(["a", "b", "c"], {"callbacks": [h], "max_concurrency": 2})
        failing = echo_llm(fw)(fail_after=0)
        returned = [norm(x) for x in failing.batch(["a", "b"], {"callbacks": [h]}, return_exceptions=True)]
        return ok, returned, raised(lambda: failing.batch(["a"], {"callbacks": [h]})), events(fw, h.log), h.starts

    lc, hc = both(scenario)
    assert lc == hc
    assert [s["batch_size"] for s in hc[4][:3]] == [2, 2, 1]


def test_abatch():
    async def scenario(fw):
        h = fw.AsyncRecorder()
        llm = echo_llm(fw, asynchronous=True)(n=2)
        out = await llm.abatch(["abc", "def", "ghi"], {"callbacks": [h], "max_concurrency": 2})
        errs = await echo_llm(fw)(fail_after=0).abatch(["a", "b"], {"callbacks": [h]}, return_exceptions=True)
        return out, norm(errs), trees(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


# -- stream ------------------------------------------------------------------- #


def test_stream_events_and_merged_end():
    def scenario(fw):
        h = start_args(fw)()
        chunks = list(echo_llm(fw)(n=3).stream("hello", {"callbacks": [h]}, stop=["z"], temperature=1))
        return chunks, events(fw, h.log), h.starts

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == ["h", "e", "l"]
    assert hc[2][0]["invocation_params"]["temperature"] == 1  # stream adds the call's kwargs, as LangChain


def test_stream_without_stream_method_yields_once():
    def scenario(fw):
        h = fw.Recorder()
        sync = list(echo_llm(fw, stream=False)(n=3).stream("hello", {"callbacks": [h]}))
        return sync, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == ["hel"]


def test_stream_error_keeps_partial_generation():
    def scenario(fw):
        h = fw.Recorder()
        got = []

        def run():
            for c in echo_llm(fw)(fail_after=2).stream("hello", {"callbacks": [h]}):
                got.append(c)

        return raised(run), got, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[2][-1][0] == "on_llm_error"
    assert hc[2][-1][6][-1] == ["LLMResult", [[["GenerationChunk", "he", {"i": 1}]]]]


def test_stream_empty_is_an_error():
    def scenario(fw):
        h = fw.Recorder()
        return raised(lambda: list(echo_llm(fw)(n=0).stream("hello", {"callbacks": [h]}))), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == ("raised", "ValueError", "No generation chunks were returned")


@pytest.mark.parametrize("asynchronous", [False, True])
def test_astream(asynchronous):
    async def scenario(fw):
        h = fw.AsyncRecorder()
        cls = echo_llm(fw, asynchronous=asynchronous)
        chunks = await collect(cls(n=4).astream("hello", {"callbacks": [h]}))
        err = await araised(collect(cls(fail_after=1).astream("hello", {"callbacks": [h]})))
        single = await collect(echo_llm(fw, stream=False)(n=2).astream("hello", {"callbacks": [h]}))
        return chunks, err, single, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


# -- chains ------------------------------------------------------------------- #


def test_prompt_llm_chain_invoke_stream_batch():
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.PromptTemplate.from_template("Say {x}") | echo_llm(fw)(n=8)
        out = chain.invoke({"x": "hi"}, {"callbacks": [h]})
        invoked = events(fw, h.log)
        h.log.clear()
        streamed = list(chain.stream({"x": "yo"}, {"callbacks": [h]}))
        streamed_events = events(fw, h.log)
        h.log.clear()
        batched = chain.batch([{"x": "a"}, {"x": "b"}], {"callbacks": [h]})
        return out, invoked, streamed, streamed_events, batched, trees(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_chat_prompt_llm_chain_uses_buffer_string():
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.ChatPromptTemplate.from_messages([("system", "sys"), ("human", "{q}")]) | echo_llm(fw)()
        return chain.invoke({"q": "why"}, {"callbacks": [h]}), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == "System: sys\nHuman: why"


def test_prompt_llm_chain_astream():
    async def scenario(fw):
        h = fw.AsyncRecorder()
        chain = fw.PromptTemplate.from_template("Say {x}") | echo_llm(fw, asynchronous=True)(n=6)
        return await collect(chain.astream({"x": "hi"}, {"callbacks": [h]})), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


# -- fakes -------------------------------------------------------------------- #


def test_exported():
    for name in ("BaseLLM", "LLM", "FakeListLLM", "FakeStreamingListLLM"):
        assert getattr(lc_lm, name).__name__ == getattr(hc_lm, name).__name__ == name


def test_fake_list_llm_cycles():
    def scenario(fw):
        h = start_args(fw)()
        m = fake(fw).FakeListLLM(responses=["a", "bc", "d"])
        out = [(m.invoke("x", {"callbacks": [h]}), m.i) for _ in range(4)]
        return out, m.batch(["1", "2"]), list(m.stream("x")), m._llm_type, m._identifying_params, events(fw, h.log), h.starts

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == [("a", 1), ("bc", 2), ("d", 0), ("a", 1)]


def test_fake_streaming_list_llm():
    def scenario(fw):
        h = fw.Recorder()
        m = fake(fw).FakeStreamingListLLM(responses=["abc", "defg"], error_on_chunk_number=3)
        first = list(m.stream("x", {"callbacks": [h]}))
        got = []

        def run():
            for c in m.stream("x", {"callbacks": [h]}):
                got.append(c)

        return first, raised(run), got, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[1][1] == "FakeListLLMError"


def test_fake_streaming_list_llm_async():
    async def scenario(fw):
        h = fw.AsyncRecorder()
        m = fake(fw).FakeStreamingListLLM(responses=["hey", "yo"], sleep=0.001)
        chunks = await collect(m.astream("x", {"callbacks": [h]}))
        return chunks, await m.ainvoke("x"), await m.abatch(["a", "b", "c"]), m.i, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_stream_closed_early():
    def scenario(fw):
        h = fw.Recorder()
        it = echo_llm(fw)().stream("hello", {"callbacks": [h]})
        first = next(it)
        it.close()
        return first, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[1][-1][0] == "on_llm_error" and hc[1][-1][6][0][1] == "GeneratorExit"


# -- deliberate difference (README) ------------------------------------------ #


def test_new_token_without_model_calls():
    """A ``_stream`` that does not call ``run_manager.on_llm_new_token``:
    LangChain fires no token events, hookchain fires one per chunk (as its
    chat models); the rest of the run is the same."""

    def scenario(fw):
        out = outputs(fw)

        class Quiet(lm(fw).LLM):
            def _call(self, prompt, stop=None, run_manager=None, **kwargs):
                return prompt

            def _stream(self, prompt, stop=None, run_manager=None, **kwargs):
                for char in prompt:
                    yield out.GenerationChunk(text=char)

            @property
            def _llm_type(self):
                return "quiet"

        h = fw.Recorder()
        return list(Quiet().stream("ab", {"callbacks": [h]})), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc[0] == hc[0] == ["a", "b"]
    assert [e[0] for e in lc[1]] == ["on_llm_start", "on_llm_end"]
    assert [e[0] for e in hc[1]] == ["on_llm_start", "on_llm_new_token", "on_llm_new_token", "on_llm_end"]
    assert [e for e in hc[1] if e[0] != "on_llm_new_token"] == lc[1]


# -- astream_events ------------------------------------------------------------ #

@pytest.mark.parametrize("which", ["llm", "chain", "fake"])
def test_astream_events(which):
    async def scenario(fw):
        if which == "fake":
            runnable = fake(fw).FakeStreamingListLLM(responses=["ab"])
        else:
            runnable = echo_llm(fw, asynchronous=True)(n=4)
            if which == "chain":
                runnable = fw.PromptTemplate.from_template("Say {x}") | runnable
        items = await collect(runnable.astream_events({"x": "hi"} if which == "chain" else "hello", version="v2"))
        return stream_events(fw, items)

    lc, hc = both(scenario)
    assert lc == hc


def test_bound_stop_and_parallel_llms():
    def scenario(fw):
        h = start_args(fw)()
        bound = echo_llm(fw)().bind(stop=["o"])
        single = bound.invoke("hello world", {"callbacks": [h]})
        first = events(fw, h.log)
        h.log.clear()
        both_llms = fw.RunnableParallel(a=bound, b=fake(fw).FakeListLLM(responses=["B"]))
        return single, first, h.starts, both_llms.invoke("xo", {"callbacks": [h]}), trees(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == "hello"
