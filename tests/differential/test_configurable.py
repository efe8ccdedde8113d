"""``configurable_fields`` / ``configurable_alternatives`` against
langchain-core 1.7.2: the runnable each ``config["configurable"]`` selects,
outputs, callback events and ``astream_events`` (a configured runnable adds
no run of its own), ``config_specs``, unknown keys and bad values.

Deliberate difference (README): ``with_config`` on a configured runnable
merges into the config it had (LangChain keeps only the last one).
"""

from __future__ import annotations

import enum

import langchain_core.language_models.fake_chat_models as lc_fakes
import langchain_core.runnables as lc_runnables
import pytest

import hookchain.language_models.fake_chat_models as hc_fakes
import hookchain.runnables as hc_runnables

from .harness import HC, LC, both, collect, drop_last_chunks, event_stream, events, norm, raised, trees


def rt(fw):
    return lc_runnables if fw is LC else hc_runnables


def fakes(fw):
    return lc_fakes if fw is LC else hc_fakes


def _prompt(fw):
    return fw.ChatPromptTemplate.from_messages([("human", "Tell me about {topic}")])


def _echo_n(fw, n=3):
    return fw.EchoModel(n=n).configurable_fields(n=rt(fw).ConfigurableField(id="n", name="Length"))


def _fake(fw, response="abc"):
    # FakeListChatModel, not EchoModel: LangChain rebuilds a configured model
    # with every field given, and an explicit ``streaming=False`` (EchoModel
    # declares the field) turns off its ``stream`` in langchain-core 1.7.2.
    return fakes(fw).FakeListChatModel(responses=[response]).configurable_fields(
        responses=rt(fw).ConfigurableField(id="responses"))


def _two_models(fw, **kwargs):
    return fakes(fw).FakeListChatModel(responses=["one"]).configurable_alternatives(
        rt(fw).ConfigurableField(id="llm"), default_key="first",
        second=fakes(fw).FakeListChatModel(responses=["two"]), **kwargs,
    )


def _spec(spec):
    """A ConfigurableFieldSpec, comparable across frameworks (an enum
    annotation as its name and values)."""
    annotation = spec.annotation
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        annotation = ("enum", annotation.__name__, [m.value for m in annotation])
    elif getattr(annotation, "__args__", None) and isinstance(annotation.__args__[0], type) \
            and issubclass(annotation.__args__[0], enum.Enum):
        annotation = ("seq-enum", annotation.__args__[0].__name__, [m.value for m in annotation.__args__[0]])
    return (spec.id, spec.name, spec.description, annotation, norm(spec.default), spec.is_shared, spec.dependencies)


def test_names_exported():
    for name in ("ConfigurableField", "ConfigurableFieldSingleOption", "ConfigurableFieldMultiOption",
                 "ConfigurableFieldSpec"):
        assert getattr(hc_runnables, name)._fields == getattr(lc_runnables, name)._fields
    import hookchain.runnables.configurable as hc_conf
    import langchain_core.runnables.configurable as lc_conf
    for name in ("RunnableConfigurableFields", "RunnableConfigurableAlternatives", "DynamicRunnable"):
        assert getattr(hc_conf, name).__name__ == getattr(lc_conf, name).__name__


def test_field_switched_per_call_in_a_chain():
    def scenario(fw):
        h = fw.Recorder()
        chain = _prompt(fw) | _echo_n(fw)
        cfg = {"callbacks": [h]}
        out = [
            chain.invoke({"topic": "owls"}, cfg),
            chain.invoke({"topic": "owls"}, {**cfg, "configurable": {"n": 8}}),
            chain.with_config(configurable={"n": 5}).invoke({"topic": "owls"}, cfg),
            _echo_n(fw).with_config(configurable={"n": 6}).invoke("abcdefgh", cfg),
        ]
        return norm(out), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert [m[1] for m in hc[0]] == ["Tel", "Tell me ", "Tell ", "abcdef"]


def test_fake_model_responses_and_default_untouched():
    def scenario(fw):
        model = fakes(fw).FakeListChatModel(responses=["a"])
        conf = model.configurable_fields(responses=rt(fw).ConfigurableField(id="responses"))
        out = [conf.invoke("x", {"configurable": {"responses": ["b"]}}).content, conf.invoke("x").content,
               conf.responses, model.responses]
        return out, [_spec(s) for s in conf.config_specs]

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == ["b", "a", ["a"], ["a"]]


def test_alternatives_switch_models_events():
    def scenario(fw):
        h = fw.Recorder()
        chain = _prompt(fw) | _two_models(fw) | fw.RunnableLambda(lambda m: m.content)
        cfg = {"callbacks": [h], "tags": ["t"]}
        out = [chain.invoke({"topic": "a"}, cfg), chain.invoke({"topic": "a"}, {**cfg, "configurable": {"llm": "second"}}),
               chain.invoke({"topic": "a"}, {**cfg, "configurable": {"llm": "first"}})]
        return out, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == ["one", "two", "one"]


def test_alternative_given_as_a_function():
    def scenario(fw):
        made = []

        def make():
            made.append(1)
            return fakes(fw).FakeListChatModel(responses=["made"])

        model = fakes(fw).FakeListChatModel(responses=["one"]).configurable_alternatives(
            rt(fw).ConfigurableField(id="llm"), lazy=make)
        return [model.invoke("x").content, model.invoke("x", {"configurable": {"llm": "lazy"}}).content, len(made),
                [_spec(s) for s in model.config_specs]]

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[:3] == ["one", "made", 1]


def test_stream_and_batch_mixed_configs():
    def scenario(fw):
        h = fw.Recorder()
        chain = _prompt(fw) | _fake(fw)
        chunks = drop_last_chunks(fw, norm(list(chain.stream({"topic": "bees"}, {"configurable": {"responses": ["hey"]}, "callbacks": [h]}))))
        streamed = events(fw, h.log)
        h2 = fw.Recorder()
        model = _echo_n(fw)
        batch = model.batch(["abcdef", "abcdef", "abcdef"], [
            {"callbacks": [h2]}, {"callbacks": [h2], "configurable": {"n": 1}}, {"callbacks": [h2], "configurable": {"n": 5}}])
        h3 = fw.Recorder()
        same = model.batch(["abcdef", "abcdef"], {"callbacks": [h3]})
        return chunks, streamed, norm(batch), norm(same), trees(fw, h2.log), trees(fw, h3.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert [c[1] for c in hc[0]] == ["h", "e", "y"]
    assert [m[1] for m in hc[2]] == ["abc", "a", "abcde"]


def test_async_paths_and_stream_events():
    async def scenario(fw):
        chain = _prompt(fw) | _two_models(fw)
        out = [(await chain.ainvoke({"topic": "x"}, {"configurable": {"llm": "second"}})).content,
               [m.content for m in await _two_models(fw).abatch(["a", "b"], [{}, {"configurable": {"llm": "second"}}])],
               drop_last_chunks(fw, norm(await collect(_fake(fw).astream("q", {"configurable": {"responses": ["ab"]}}))))]
        evs = await event_stream(fw, chain, {"topic": "x"}, {"configurable": {"llm": "second"}})
        return out, evs

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0][:2] == ["two", ["one", "two"]] and [c[1] for c in hc[0][2]] == ["a", "b"]


def test_prompt_fields_and_alternatives():
    def scenario(fw):
        h = fw.Recorder()
        prompt = fw.PromptTemplate.from_template("Hi {x}").configurable_fields(
            template=rt(fw).ConfigurableField(id="tpl"))
        alt = fw.PromptTemplate.from_template("Hi {x}").configurable_alternatives(
            rt(fw).ConfigurableField(id="prompt"), default_key="hi", bye=fw.PromptTemplate.from_template("Bye {x}"))
        out = [prompt.invoke({"x": 1}, {"callbacks": [h]}).text,
               prompt.invoke({"x": 1}, {"configurable": {"tpl": "Yo {x}!"}, "callbacks": [h]}).text,
               alt.invoke({"x": 2}, {"configurable": {"prompt": "bye"}, "callbacks": [h]}).text,
               _raises_key_error(lambda: prompt.invoke({"x": 1}, {"configurable": {"tpl": "Yo {y}"}}))]
        return out, events(fw, h.log), [s.id for s in prompt.config_specs], [_spec(s) for s in alt.config_specs]

    lc, hc = both(scenario)
    assert lc[:2] == hc[:2] and lc[3] == hc[3]
    assert hc[0] == ["Hi 1", "Yo 1!", "Bye 2", True]
    assert lc[2] == hc[2] == ["tpl"]


def _raises_key_error(call):
    try:
        call()
    except KeyError:  # hookchain's PromptInputError is a KeyError, LangChain raises KeyError
        return True
    return False


def test_options_fields():
    def scenario(fw):
        r = rt(fw)
        model = fw.EchoModel(n=3).configurable_fields(
            n=r.ConfigurableFieldSingleOption(id="len", options={"short": 2, "long": 6}, default="short"))
        multi = fakes(fw).FakeListChatModel(responses=["x"]).configurable_fields(
            responses=r.ConfigurableFieldMultiOption(id="resp", options={"a": "A", "b": "B"}, default=["b"]))
        out = [model.invoke("abcdefgh").content, model.invoke("abcdefgh", {"configurable": {"len": "long"}}).content,
               multi.invoke("q").content, multi.invoke("q", {"configurable": {"resp": ["a", "b"]}}).content,
               raised(lambda: model.invoke("abc", {"configurable": {"len": "huge"}}))[1]]
        return out, [_spec(s) for s in model.config_specs], [_spec(s) for s in multi.config_specs]

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == ["ab", "abcdef", "B", "A", "KeyError"]


def test_prefix_keys_and_nesting():
    def scenario(fw):
        r = rt(fw)
        model = fw.EchoModel(n=2).configurable_alternatives(
            r.ConfigurableField(id="llm"), prefix_keys=True,
            long=fw.EchoModel(n=4).configurable_fields(n=r.ConfigurableField(id="n")),
        )
        nested = _echo_n(fw).configurable_alternatives(r.ConfigurableField(id="llm"), other=fw.EchoModel(n=1))
        refields = _echo_n(fw).configurable_fields(fail_after=r.ConfigurableField(id="fail"))
        alt_fields = _two_models(fw).configurable_fields(responses=r.ConfigurableField(id="resp"))
        out = [model.invoke("abcdefgh", {"configurable": {"llm": "long"}}).content,
               model.invoke("abcdefgh", {"configurable": {"llm": "long", "llm==long/n": 7}}).content,
               model.invoke("abcdefgh", {"configurable": {"llm": "long", "n": 7}}).content,
               nested.invoke("abcdefgh", {"configurable": {"n": 5}}).content,
               nested.invoke("abcdefgh", {"configurable": {"llm": "other", "n": 5}}).content,
               refields.invoke("abcdefgh", {"configurable": {"n": 6}}).content,
               raised(lambda: refields.invoke("abc", {"configurable": {"fail": 0}}))[1],
               alt_fields.invoke("q", {"configurable": {"resp": ["R"]}}).content]
        specs = [[_spec(s) for s in x.config_specs] for x in (model, nested, refields, alt_fields)]
        return out, specs

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == ["abcd", "abcdefg", "abcdefg", "abcde", "a", "abcdef", "EchoFailure", "R"]


def test_config_specs_of_compositions_and_conflicts():
    def scenario(fw):
        r = rt(fw)
        chain = _prompt(fw) | {"a": _echo_n(fw), "b": _two_models(fw)} | fw.RunnablePassthrough.assign(
            c=lambda d: 1)
        bound = _echo_n(fw).bind(stop=["x"]).with_config(tags=["t"])
        clash = _echo_n(fw) | fw.EchoModel(n=1).configurable_fields(n=r.ConfigurableField(id="n", name="Other"))
        return ([_spec(s) for s in chain.config_specs], [_spec(s) for s in bound.config_specs],
                raised(lambda: clash.config_specs)[1], fw.RunnableLambda(lambda x: x).config_specs)

    lc, hc = both(scenario)
    assert lc == hc
    assert [s[0] for s in hc[0]] == ["llm", "n"]


def test_unknown_configurable_keys_ignored_model_key_in_metadata():
    def scenario(fw):
        h = fw.Recorder()
        chain = _prompt(fw) | _echo_n(fw)
        out = [chain.invoke({"topic": "ants"}, {"callbacks": [h], "configurable": {"nope": 1, "n": 2}}),
               chain.invoke({"topic": "ants"}, {"callbacks": [h], "configurable": {"model": "gpt-x", "checkpoint_ns": 3}}),
               fw.RunnableLambda(lambda x: x).invoke(1, {"callbacks": [h], "configurable": {"model": "m"},
                                                        "metadata": {"model": "kept"}})]
        return norm(out), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert {e[4].get("model") for e in hc[1]} == {None, "gpt-x", "kept"}


def test_configurable_reaches_a_model_called_inside_a_lambda():
    def scenario(fw):
        h = fw.Recorder()
        model = _echo_n(fw)
        chain = fw.RunnableLambda(str.upper) | fw.RunnableLambda(lambda s: model.invoke(s).content)
        return chain.invoke("abcdefgh", {"callbacks": [h], "configurable": {"n": 5}}), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == "ABCDE"


def test_bad_input():
    def scenario(fw):
        r = rt(fw)
        model = fakes(fw).FakeListChatModel(responses=["a"])
        conf = model.configurable_fields(responses=r.ConfigurableField(id="resp"))
        return [raised(lambda: model.configurable_fields(nope=r.ConfigurableField(id="x")))[1],
                raised(lambda: conf.invoke("x", {"configurable": {"resp": 5}}))[1],
                raised(lambda: _two_models(fw).invoke("x", {"configurable": {"llm": "third"}}))[1]]

    lc, hc = both(scenario)
    assert lc == hc == ["ValueError", "ValidationError", "ValueError"]


def test_error_messages_name_the_fault():
    model = hc_fakes.FakeListChatModel(responses=["a"])
    with pytest.raises(ValueError, match=r"'nope' not found in FakeListChatModel: available keys are .*responses"):
        model.configurable_fields(nope=hc_runnables.ConfigurableField(id="x"))
    with pytest.raises(TypeError, match=r"configurable_fields\(responses=\.\.\.\) got a str"):
        model.configurable_fields(responses="resp")
    with pytest.raises(ValueError, match=r"'third' for configurable 'llm'; choose one of: first, second"):
        _two_models(HC).invoke(
            "x", {"configurable": {"llm": "third"}})


def test_attributes_read_through():
    def scenario(fw):
        conf = _echo_n(fw, 4)
        configured = conf.with_config(configurable={"n": 9})
        return conf.n, configured.n, conf.fail_after, type(conf.bind(stop=["a"])).__name__

    lc, hc = both(scenario)
    assert lc == hc == (4, 4, None, "RunnableBinding")


def test_with_config_twice_merges_unlike_langchain():
    # Deliberate difference (README): LangChain's DynamicRunnable.with_config
    # replaces the config it had, so the first configurable is lost.
    def scenario(fw):
        conf = _echo_n(fw).with_config(configurable={"n": 6}).with_config(tags=["t"])
        return conf.invoke("abcdefgh").content, sorted(conf.config.get("configurable", {}))

    lc, hc = both(scenario)
    assert lc == ("abc", [])
    assert hc == ("abcdef", ["n"])


def test_config_specs_through_fallbacks_branch_and_map():
    # The composites of issue 13 report the configurable keys of the runnables inside them.
    def specs(fw):
        def fake(key, answer):
            return fakes(fw).FakeListChatModel(responses=[answer]).configurable_fields(
                responses=rt(fw).ConfigurableField(id=key))

        a, b = fake("answers", "a"), fake("other", "b")
        return ([s.id for s in a.with_fallbacks([b]).config_specs],
                [s.id for s in rt(fw).RunnableBranch((lambda x: True, a), b).config_specs],
                [s.id for s in a.map().config_specs])

    assert specs(HC) == specs(LC) == (["answers", "other"], ["answers", "other"], ["answers"])
