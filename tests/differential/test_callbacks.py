"""Callback semantics: where handlers come from (constructor, runtime,
with_config), tags / metadata / run_name inheritance, ignore_* flags, handler
failures with and without raise_error, async handlers, the on_llm_start
fallback, and the documented difference in ``serialized``."""

from __future__ import annotations

import logging

import pytest

from .harness import both, events, handler_class, norm, raised, trees


def _chain(fw, **model_kwargs):
    prompt = fw.ChatPromptTemplate.from_messages(["Tell me a joke about {animal}"])
    return prompt | fw.EchoModel(n=9, **model_kwargs)


def test_seed_runtime_callbacks():
    # Seed 003: prompt | llm with config={"callbacks": [LoggingHandler()]}.
    def scenario(fw):
        h = fw.Recorder()
        prompt = fw.ChatPromptTemplate.from_template("What is 1 + {number}?")
        out = (prompt | fw.EchoModel()).invoke({"number": "2"}, config={"callbacks": [h]})
        return norm(out), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert [(e[0], e[5]) for e in hc[1]] == [
        ("on_chain_start", "RunnableSequence"),
        ("on_chain_start", "ChatPromptTemplate"),
        ("on_chain_end", None),
        ("on_chat_model_start", None),
        ("on_llm_end", None),
        ("on_chain_end", None),
    ]


def test_seed_constructor_callbacks_in_chain():
    # Seeds 000-002: constructor callbacks on the model fire for its own run only.
    def scenario(fw):
        h = fw.Recorder()
        out = _chain(fw, streaming=True, callbacks=[h]).invoke({"animal": "bears"})
        return norm(out), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert {e[0] for e in hc[1]} == {"on_chat_model_start", "on_llm_new_token", "on_llm_end"}


def test_constructor_and_runtime_callbacks_together():
    def scenario(fw):
        ctor, runtime = fw.Recorder(), fw.Recorder()
        _chain(fw, callbacks=[ctor]).invoke({"animal": "cats"}, config={"callbacks": [runtime]})
        return events(fw, ctor.log), events(fw, runtime.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_serialized_differs_on_purpose():
    # Deliberate difference: hookchain always passes serialized={"id": [...],
    # "name": ...}; LangChain 1.x passes None for a RunnableSequence (so the
    # seed's LoggingHandler cannot print "Chain RunnableSequence started" from it).
    def scenario(fw):
        seen = []

        class Spy(fw.BaseCallbackHandler):
            def on_chain_start(self, serialized, inputs, **kwargs):
                seen.append((kwargs["name"], serialized))

        prompt = fw.ChatPromptTemplate.from_template("What is 1 + {number}?")
        (prompt | fw.EchoModel()).invoke({"number": "2"}, config={"callbacks": [Spy()]})
        return seen

    lc, hc = both(scenario)
    assert [name for name, _ in lc] == [name for name, _ in hc] == ["RunnableSequence", "ChatPromptTemplate"]
    assert lc[0][1] is None
    assert hc[0][1]["name"] == "RunnableSequence" and hc[0][1]["id"][-1] == "RunnableSequence"
    assert hc[1][1]["name"] == lc[1][1]["name"] == "ChatPromptTemplate"


def test_tags_and_metadata_inheritance():
    def scenario(fw):
        h = fw.Recorder()
        inner = fw.RunnableLambda(lambda x: x + "!").with_config(tags=["inner"], metadata={"inner": 1})
        model = fw.EchoModel(n=4, tags=["model-tag"], metadata={"model": True})
        chain = fw.RunnableLambda(lambda x: x["q"]) | inner | model
        out = chain.invoke({"q": "hello"}, config={"callbacks": [h], "tags": ["root"], "metadata": {"root": "r"}})
        return norm(out), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_with_config_callbacks_and_run_name():
    def scenario(fw):
        outer, scoped = fw.Recorder(), fw.Recorder()
        step = (fw.RunnableLambda(lambda x: x * 2) | fw.RunnableLambda(lambda x: x + 1)).with_config(
            callbacks=[scoped], run_name="scoped", tags=["s"])
        chain = fw.RunnableLambda(lambda x: x + 1) | fw.RunnableLambda(lambda x: step.invoke(x))
        out = chain.invoke(1, config={"callbacks": [outer], "run_name": "root"})
        return out, events(fw, outer.log), events(fw, scoped.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == 5


def test_run_name_applies_to_root_only():
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.ChatPromptTemplate.from_template("{x}") | fw.EchoModel(n=2)
        chain.invoke({"x": "abc"}, config={"callbacks": [h], "run_name": "MyChain"})
        return events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0][5] == "MyChain"


def test_lambda_names():
    def named_function(x):
        return x

    def scenario(fw):
        h = fw.Recorder()
        chain = fw.RunnableLambda(named_function) | fw.RunnableLambda(lambda x: x) | fw.RunnableLambda(named_function, name="custom")
        chain.invoke(1, config={"callbacks": [h]})
        return events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert [e[5] for e in hc if e[0] == "on_chain_start"] == ["RunnableSequence", "named_function", "RunnableLambda", "custom"]


@pytest.mark.parametrize("flag", [
    "ignore_chain", "ignore_llm", "ignore_chat_model", "ignore_custom_event", "ignore_agent", "ignore_retry",
])
def test_ignore_flags(flag):
    def scenario(fw):
        dispatch = fw.dispatch_custom_event
        h = handler_class(fw, **{flag: True})()

        def emit(x):
            dispatch("progress", {"x": x})
            return x

        chain = _chain(fw, streaming=True) | fw.RunnableLambda(emit)
        out = chain.invoke({"animal": "owls"}, config={"callbacks": [h]})
        return norm(out), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_llm_start_fallback_for_handlers_without_chat_model_start():
    # As LangChain: a handler without on_chat_model_start gets on_llm_start with
    # the messages rendered as strings.
    def scenario(fw):
        seen = []

        class Old(fw.BaseCallbackHandler):
            def on_llm_start(self, serialized, prompts, **kwargs):
                seen.append(("start", prompts, kwargs.get("name")))

            def on_llm_end(self, response, **kwargs):
                seen.append(("end", norm(response)))

        _chain(fw).invoke({"animal": "cats"}, config={"callbacks": [Old()]})
        return seen

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0][:2] == ("start", ["Human: Tell me a joke about cats"])


@pytest.mark.parametrize("event", [
    "on_chain_start", "on_chain_end", "on_chat_model_start", "on_llm_new_token", "on_llm_end",
])
def test_raising_handler_is_isolated(event, caplog):
    # Without raise_error a failing handler is logged and the run goes on; the
    # other handlers and the failing one's other events are unaffected.
    def scenario(fw):
        bad, good = fw.Recorder(fail_on={event}), fw.Recorder()
        with caplog.at_level(logging.WARNING):
            out = _chain(fw, streaming=True).invoke({"animal": "cats"}, config={"callbacks": [bad, good]})
        return norm(out), events(fw, bad.log), events(fw, good.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[1] == hc[2]


@pytest.mark.parametrize("event", [
    "on_chain_start", "on_chain_end", "on_chat_model_start", "on_llm_new_token", "on_llm_end",
])
def test_raising_handler_with_raise_error(event):
    # raise_error=True: the handler's exception stops the run and propagates;
    # the runs already open get their error events.
    def scenario(fw):
        bad = handler_class(fw, raise_error=True)(fail_on={event})
        good = fw.Recorder()
        chain = _chain(fw, streaming=True)
        error = raised(lambda: chain.invoke({"animal": "cats"}, config={"callbacks": [good, bad]}))
        return error, events(fw, bad.log), events(fw, good.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0][1] == "HandlerFailure"


def test_async_handler_in_sync_run():
    def scenario(fw):
        sync, asynchronous = fw.Recorder(), fw.AsyncRecorder()
        out = _chain(fw, streaming=True).invoke({"animal": "cats"}, config={"callbacks": [sync, asynchronous]})
        return norm(out), events(fw, sync.log), events(fw, asynchronous.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[1] == hc[2]


def test_async_and_sync_handlers_in_async_run():
    async def scenario(fw):
        sync, asynchronous = fw.Recorder(), fw.AsyncRecorder()
        chain = _chain(fw, streaming=True) | fw.RunnableLambda(lambda m: m.content.upper())
        out = await chain.ainvoke({"animal": "cats"}, config={"callbacks": [sync, asynchronous]})
        return out, events(fw, sync.log), events(fw, asynchronous.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[1] == hc[2]


def test_async_handler_constructor_callbacks():
    async def scenario(fw):
        h = fw.AsyncRecorder()
        model = fw.AsyncEchoModel(n=3, streaming=True, callbacks=[h])
        out = await (fw.ChatPromptTemplate.from_template("{x}") | model).ainvoke({"x": "hello"})
        return norm(out), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_async_raising_handler_with_raise_error():
    async def scenario(fw):
        bad = handler_class(fw, asynchronous=True, raise_error=True)(fail_on={"on_llm_new_token"})
        chain = _chain(fw, streaming=True)
        try:
            await chain.ainvoke({"animal": "cats"}, config={"callbacks": [bad]})
        except Exception as e:  # noqa: BLE001
            return type(e).__name__, events(fw, bad.log)
        return None

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == "HandlerFailure"


def test_batch_runtime_callbacks_per_input_trees():
    def scenario(fw):
        h = fw.Recorder()
        outs = _chain(fw).batch([{"animal": a} for a in ("cats", "dogs", "owls")], config={"callbacks": [h], "tags": ["b"]})
        return norm(outs), trees(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert len(hc[1]) == 3


@pytest.mark.parametrize("flag", ["ignore_llm", "ignore_chat_model"])
def test_llm_start_fallback_respects_ignore_flags(flag):
    # LangChain: on_chat_model_start is skipped under ignore_chat_model; its
    # on_llm_start fallback is skipped under ignore_llm.
    def scenario(fw):
        seen = []

        class Old(fw.BaseCallbackHandler):
            def on_llm_start(self, serialized, prompts, **kwargs):
                seen.append(("start", prompts))

            def on_llm_end(self, response, **kwargs):
                seen.append(("end", norm(response)))

        handler = type("OldWithFlag", (Old,), {flag: True})()
        fw.EchoModel(n=2).invoke("hi", config={"callbacks": [handler]})
        return seen

    lc, hc = both(scenario)
    assert lc == hc


def test_async_handler_llm_start_fallback():
    async def scenario(fw):
        seen = []

        class Old(fw.AsyncCallbackHandler):
            async def on_llm_start(self, serialized, prompts, **kwargs):
                seen.append(prompts)

        await fw.AsyncEchoModel(n=2).ainvoke("hi", config={"callbacks": [Old()]})
        fw.EchoModel(n=2).invoke("yo", config={"callbacks": [Old()]})
        return seen

    lc, hc = both(scenario)
    assert lc == hc == [["Human: hi"], ["Human: yo"]]


def test_seed_custom_handler_prints_tokens(capsys):
    # Seeds 000-002, their MyCustomHandler verbatim: printed lines compared.
    def scenario(fw):
        class MyCustomHandler(fw.BaseCallbackHandler):
            def on_llm_new_token(self, token: str, **kwargs) -> None:
                print(f"My custom handler, token: {token}")

        prompt = fw.ChatPromptTemplate.from_messages(["Tell me a joke about {animal}"])
        model = fw.EchoModel(n=10, streaming=True, callbacks=[MyCustomHandler()])
        chain = prompt | model
        chain.invoke({"animal": "bears"})
        return capsys.readouterr().out.splitlines()

    lc, hc = both(scenario)
    # LangChain 1.x's extra final empty chunk prints one more (empty) token.
    assert lc == hc + ["My custom handler, token: "]
    assert hc[0] == "My custom handler, token: T" and len(hc) == 11
