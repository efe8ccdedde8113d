"""``LLMConformance``: the standard checks for a text-completion model plugin.

A text-completion model (``hookchain.language_models.LLM`` or ``BaseLLM``)
takes a prompt string and returns a string. Subclass the suite in a test
module (the class name must start with ``Test``) and set the class attributes
below; every ``test_*`` method then runs against the model your plugin
registers. Turn a check off by setting it to ``None`` in the subclass, with a
comment saying why.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from hookchain.testing._util import NOT_SET, OptionChecks, alist, check, check_discovered, fail, run, short
from hookchain.testing.recording import Event, RecordingHandler, isolated

__all__ = ["LLMConformance"]

#: The public entry points whose base implementations fire the callbacks.
RUN_METHODS = ("invoke", "ainvoke", "stream", "astream", "batch", "abatch", "generate", "agenerate")


def _overrides(model: Any, name: str) -> bool:
    from hookchain.language_models import BaseLLM

    return getattr(type(model), name) is not getattr(BaseLLM, name)


class LLMConformance(OptionChecks):
    """Standard checks for a text-completion model plugin. Set in your subclass:

    Attributes:
        model_name: the name your plugin registers (required), or ``"PLUGIN:NAME"``.
        model_options: options to build it with (as ``hookchain.get_model(model_name, **model_options)``).
        bad_option: ``(option, value)`` that must be rejected, e.g. ``("n", "not-an-int")``.
        prompt: the prompt string most checks send.
        deterministic: the same prompt always gives the same answer (stronger
            checks: batch equals invoke, stream adds up to invoke).
        error_input: an input that makes the model raise. Without it, the
            suite makes the model's ``_generate``/``_call``/``_stream`` raise.
    """

    model_name: ClassVar[str] = ""
    model_options: ClassVar[dict[str, Any]] = {}
    bad_option: ClassVar[Any] = None
    prompt: ClassVar[str] = "Once upon a time"
    deterministic: ClassVar[bool] = False
    error_input: ClassVar[Any] = NOT_SET

    _wrong_error_advice = "hookchain.get_model reports bad options as hookchain.errors.OptionError (pydantic fields validate them)"
    _accepted_advice = "options must be validated (model options are pydantic fields; BaseLLM forbids unknown ones)"

    @pytest.fixture(autouse=True)
    def _hookchain_isolated(self) -> Any:
        with isolated():
            yield

    def make_model(self, **options: Any) -> Any:
        """Build the model as a user would: ``hookchain.get_model(model_name, **model_options, **options)``."""
        import hookchain

        if not self.model_name:
            fail(f"{type(self).__name__}: set model_name to the name your plugin registers (class attribute)")
        return hookchain.get_model(self.model_name, **{**self.model_options, **options})

    def _build_with(self, **options: Any) -> Any:
        return self.make_model(**options)

    @pytest.fixture
    def model(self) -> Any:
        return self.make_model()

    # -- helpers ----------------------------------------------------------- #
    def _check_run(self, recorder: Any, api: str, output: str) -> Event:
        """One run: on_llm_start with [prompt], then on_llm_end whose first
        generation's text is ``output``; returns the start event."""
        starts = recorder.of("on_llm_start")
        check(len(starts) == 1, f"{api} fired on_llm_start {len(starts)} times for one call (expected once; "
                                f"events fired: {', '.join(recorder.names) or 'none'}): the run's callbacks come from BaseLLM")
        prompts = starts[0].args[1]
        check(prompts == [self.prompt], f"{api}: on_llm_start got prompts {short(prompts)}, expected [{self.prompt!r}]")
        errors = recorder.of("on_llm_error")
        check(not errors, f"{api} fired on_llm_error({short(errors[0].args[0] if errors else None)}) for a call that should succeed")
        ends = recorder.of("on_llm_end", run_id=starts[0].run_id)
        check(len(ends) == 1, f"{api} fired on_llm_end {len(ends)} times for its run (expected once)")
        reported = "".join(g.text for g in ends[0].args[0].generations[0])
        check(reported == output, f"{api} returned {short(output)} but on_llm_end reported {short(reported)}")
        return starts[0]

    def _check_text(self, output: Any, api: str) -> str:
        check(isinstance(output, str), f"{api} returned {type(output).__name__} ({short(output)}), not a str")
        check(output, f"{api} returned an empty string for {self.prompt!r}: set `prompt` to an input your model answers")
        return output

    def _stream(self, model: Any, api: str, value: Any, **kwargs: Any) -> list[Any]:
        if api == "stream":
            return list(model.stream(value, **kwargs))
        return run(alist(model.astream(value, **kwargs)))

    # -- the checks -------------------------------------------------------- #
    def test_discovered_through_entry_point(self) -> None:
        """The name resolves through hookchain.plugins to a ``BaseLLM``, registered
        by a plugin an installed distribution declares in the ``hookchain`` entry-point group."""
        from hookchain.language_models import BaseLLM

        check_discovered(type(self).__name__, self.model_name, BaseLLM, self.make_model)

    def test_identity(self, model: Any) -> None:
        """``_llm_type`` names the model kind; ``_identifying_params`` is a dict."""
        check(isinstance(model._llm_type, str) and model._llm_type, f"{type(model).__name__}._llm_type is {model._llm_type!r}; return a short non-empty string")
        check(isinstance(model._identifying_params, dict), f"{type(model).__name__}._identifying_params is not a dict")

    def test_does_not_override_run_methods(self, model: Any) -> None:
        """The public entry points stay BaseLLM's: they fire the callbacks."""
        overridden = [name for name in RUN_METHODS if _overrides(model, name)]
        check(not overridden, f"{type(model).__name__} overrides {', '.join(f'{n}()' for n in overridden)}: BaseLLM's versions "
                              f"fire on_llm_start, on_llm_new_token and on_llm_end/on_llm_error; implement _call (LLM) or "
                              f"_generate (BaseLLM), and _stream/_acall/_astream, instead")

    @pytest.mark.parametrize("api", ["invoke", "ainvoke"])
    def test_invoke(self, model: Any, api: str) -> None:
        """invoke/ainvoke of a prompt string give a str through one run:
        on_llm_start with the prompt, then on_llm_end with the same text."""
        recorder = RecordingHandler()
        config = {"callbacks": [recorder]}
        out = model.invoke(self.prompt, config=config) if api == "invoke" else run(model.ainvoke(self.prompt, config=config))
        self._check_run(recorder, api, self._check_text(out, api))
        if self.deterministic and api == "ainvoke":
            expected = model.invoke(self.prompt)
            check(out == expected, f"ainvoke answered {short(out)} but invoke answered {short(expected)}")

    @pytest.mark.parametrize("api", ["batch", "abatch"])
    def test_batch(self, model: Any, api: str) -> None:
        """batch/abatch answer every prompt, in order, one run (one run id) each."""
        recorder = RecordingHandler()
        inputs = [self.prompt, self.prompt + " again"]
        config = {"callbacks": [recorder]}
        out = model.batch(inputs, config=config) if api == "batch" else run(model.abatch(inputs, config=config))
        check(isinstance(out, list) and len(out) == 2, f"{api} of 2 prompts returned {short(out)}")
        for i, text in enumerate(out):
            self._check_text(text, f"{api} item {i}")
        starts = recorder.of("on_llm_start")
        check(sorted(e.args[1][0] for e in starts) == sorted(inputs) and len({e.run_id for e in starts}) == 2,
              f"{api} of 2 prompts fired on_llm_start {len(starts)} times (expected 2 runs with distinct run ids, one per prompt)")
        for start in starts:
            check(len(recorder.of("on_llm_end", run_id=start.run_id)) == 1, f"{api}: run {start.run_id} did not end exactly once")
        if self.deterministic:
            expected = [model.invoke(i) for i in inputs]
            check(out == expected, f"{api} answered {short(out)} but invoke answers {short(expected)} (order or content differs)")

    @pytest.mark.parametrize("api", ["stream", "astream"])
    def test_stream(self, model: Any, api: str) -> None:
        """stream/astream yield strs; a model with ``_stream``/``_astream`` fires
        on_llm_new_token once per chunk, inside its run; the chunks add up to
        what on_llm_end reports."""
        recorder = RecordingHandler()
        chunks = self._stream(model, api, self.prompt, config={"callbacks": [recorder]})
        check(chunks and all(isinstance(c, str) for c in chunks), f"{api}() yielded {short(chunks)}: expected one or more strs")
        total = "".join(chunks)
        start = self._check_run(recorder, api, total)
        tokens = recorder.of("on_llm_new_token")
        if _overrides(model, "_stream") or _overrides(model, "_astream"):
            check([t.args[0] for t in tokens] == chunks,
                  f"{api}() yielded {len(chunks)} chunks but on_llm_new_token fired {len(tokens)} times with other tokens: "
                  f"BaseLLM fires it once per chunk _stream/_astream yields")
            check(all(t.run_id == start.run_id for t in tokens), f"{api}: on_llm_new_token fired outside its run")
        if self.deterministic:
            expected = model.invoke(self.prompt)
            check(total == expected, f"{api}() chunks add up to {short(total)} but invoke answered {short(expected)}")

    def test_in_a_prompt_chain(self, model: Any) -> None:
        """``PromptTemplate | model``: the model run's parent is the sequence and
        its prompt is the rendered template."""
        from hookchain.prompts import PromptTemplate

        recorder = RecordingHandler()
        out = (PromptTemplate.from_template("{text}") | model).invoke({"text": self.prompt}, config={"callbacks": [recorder]})
        start = self._check_run(recorder, "PromptTemplate | model", self._check_text(out, "PromptTemplate | model"))
        root = recorder.of("on_chain_start")[0]
        check(start.parent_run_id == root.run_id, "PromptTemplate | model: the model's on_llm_start has not the sequence as parent")

    @pytest.mark.parametrize("api", ["invoke", "ainvoke", "stream", "astream"])
    def test_errors_surface_as_on_llm_error(self, monkeypatch: Any, api: str) -> None:
        """A failing call fires on_llm_error (same run id as its start, no
        on_llm_end), then raises the very same exception."""
        from hookchain.testing.models import ConformanceFailure

        model, value = self.make_model(), self.error_input
        if value is NOT_SET:
            value = self.prompt

            def raising(*args: Any, **kwargs: Any) -> Any:
                raise ConformanceFailure("planted failure")

            for name in ("_generate", "_agenerate", "_call", "_acall", "_stream", "_astream"):
                if hasattr(type(model), name):
                    monkeypatch.setattr(type(model), name, raising)
        recorder = RecordingHandler()
        config = {"callbacks": [recorder]}
        try:
            if api == "invoke":
                model.invoke(value, config=config)
            elif api == "ainvoke":
                run(model.ainvoke(value, config=config))
            else:
                self._stream(model, api, value, config=config)
        except Exception as e:  # noqa: BLE001 - the point
            raised: BaseException = e
        else:
            fail(f"{api} did not raise: set error_input to something that makes your model fail, and let the error propagate")
        starts, errors = recorder.of("on_llm_start"), recorder.of("on_llm_error")
        check(len(starts) == 1 and len(errors) == 1, f"failing {api}: on_llm_start fired {len(starts)} and on_llm_error "
                                                     f"{len(errors)} times (expected once each)")
        check(errors[0].run_id == starts[0].run_id, f"{api}: on_llm_error's run id is not its run's")
        check(errors[0].args[0] is raised, f"{api}: on_llm_error got {short(errors[0].args[0])} but {api} raised {short(raised)}")
        check(not recorder.of("on_llm_end"), f"{api} fired on_llm_end for a run that failed")
