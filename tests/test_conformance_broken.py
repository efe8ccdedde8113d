"""Deliberately broken plugins fail hookchain's conformance suites, each with a
message saying what is wrong; a correct one passes.

The suites run in a pytest subprocess on a generated test module (the plugins
are registered in code, so their entry-point check is switched off), and the
JUnit XML report gives each check's outcome and failure message.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import pytest

SUITE_MODULE = textwrap.dedent('''
    import types
    from typing import Any, Iterator, Optional

    import pytest
    from pydantic import SecretStr

    import hookchain
    from hookchain.callbacks import BaseCallbackHandler
    from hookchain.language_models import BaseChatModel
    from hookchain.messages import AIMessage, AIMessageChunk
    from hookchain.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
    from hookchain.plugins import register_plugin
    from hookchain.testing import CallbackHandlerConformance, ChatModelConformance


    class EchoBase(BaseChatModel):
        """Echoes the last message and honours stop; does not stream."""

        n: int = 200

        def _text(self, messages, stop):
            if not messages:
                raise ValueError("no messages")
            text = messages[-1].text[: self.n]
            for s in stop or ():
                if s in text:
                    text = text[: text.index(s) + len(s)]
            return text

        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            return ChatResult(generations=[ChatGeneration(AIMessage(self._text(messages, stop)))])

        @property
        def _llm_type(self):
            return "test-echo"


    class Echo(EchoBase):
        """A correct model: streams one chunk per word, keeps its key secret."""

        api_key: Optional[SecretStr] = None

        def _stream(self, messages, stop=None, run_manager=None, **kwargs):
            words = self._text(messages, stop).split(" ")
            for i, word in enumerate(words):
                yield ChatGenerationChunk(AIMessageChunk(word if i == len(words) - 1 else word + " "))


    class DropsStop(Echo):
        """Ignores stop sequences."""

        def _text(self, messages, stop):
            return super()._text(messages, None)


    class StreamsByItself(EchoBase):
        """Overrides stream() and yields chunks itself: no run, no on_llm_new_token."""

        def stream(self, input, config=None, **kwargs):
            for word in str(input).split(" "):
                yield AIMessageChunk(word + " ")


    class KeyInRepr(Echo):
        """Keeps its API key in a plain str field: repr(model) shows it."""

        api_key: str = ""


    class KeyInParams(Echo):
        """A SecretStr key, but sent along in _identifying_params (on_chat_model_start)."""

        api_key: Optional[SecretStr] = None

        @property
        def _identifying_params(self):
            key = self.api_key.get_secret_value() if self.api_key else None
            return {"n": self.n, "api_key": key}


    class CumulativeUsage(Echo):
        """Reports the usage so far on every streamed chunk (added up, it counts too much)."""

        def _usage(self, messages, n_out):
            n_in = len(messages[-1].text.split())
            return {"input_tokens": n_in, "output_tokens": n_out, "total_tokens": n_in + n_out}

        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            text = self._text(messages, stop)
            message = AIMessage(text, usage_metadata=self._usage(messages, len(text.split(" "))))
            return ChatResult(generations=[ChatGeneration(message)])

        def _stream(self, messages, stop=None, run_manager=None, **kwargs):
            for i, chunk in enumerate(super()._stream(messages, stop)):
                chunk.message.usage_metadata = self._usage(messages, i + 1)
                yield chunk


    class SwallowsErrors(Echo):
        """Turns every error into an answer."""

        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            try:
                return super()._generate(messages, stop)
            except Exception as e:
                return ChatResult(generations=[ChatGeneration(AIMessage(f"error: {e}"))])

        def _stream(self, messages, stop=None, run_manager=None, **kwargs):
            yield ChatGenerationChunk(AIMessageChunk(self._generate(messages, stop).generations[0].message.content))


    class Narrow(BaseCallbackHandler):
        """on_llm_new_token without **kwargs: LangChain's keyword arguments break it."""

        def __init__(self, prefix: str = ">"):
            self.prefix = prefix

        def on_llm_new_token(self, token):
            pass


    class Strict(BaseCallbackHandler):
        """Stops every run its events fail in."""

        raise_error = True

        def __init__(self, label: str = "strict"):
            self.label = label


    class Forgetful(BaseCallbackHandler):
        """Drops its option."""

        def __init__(self, label: str = "default"):
            self.label = "default"


    class Good(BaseCallbackHandler):
        def __init__(self, label: str = "default"):
            self.label = label

        def on_llm_new_token(self, token, **kwargs):
            pass


    plugin = types.SimpleNamespace()


    @hookchain.hookimpl
    def register_models(register):
        for name, cls in [("good", Echo), ("drops-stop", DropsStop), ("streams-by-itself", StreamsByItself),
                          ("key-in-repr", KeyInRepr), ("key-in-params", KeyInParams), ("swallows-errors", SwallowsErrors),
                          ("cumulative-usage", CumulativeUsage)]:
            register(name, cls)


    @hookchain.hookimpl
    def register_handlers(register):
        for name, cls in [("good", Good), ("narrow", Narrow), ("strict", Strict), ("forgetful", Forgetful)]:
            register(name, cls)


    plugin.register_models, plugin.register_handlers = register_models, register_handlers
    register_plugin(plugin, name="broken_plugins")


    class Base(ChatModelConformance):
        test_discovered_through_entry_point = None  # registered in code, on purpose
        deterministic = True
        error_input = []


    class TestGoodPlantedFailure(Base):
        """No error_input: the suite makes _generate/_stream raise by itself."""

        model_name = "good"
        error_input = ChatModelConformance.error_input


    class TestGood(Base):
        model_name = "good"
        bad_option = ("n", "many")


    class TestDropsStop(Base):
        model_name = "drops-stop"


    class TestStreamsByItself(Base):
        model_name = "streams-by-itself"


    class TestKeyInRepr(Base):
        model_name = "key-in-repr"
        secret_options = ("api_key",)


    class TestKeyInParams(Base):
        model_name = "key-in-params"


    class TestCumulativeUsage(Base):
        model_name = "cumulative-usage"


    class TestSwallowsErrors(Base):
        model_name = "swallows-errors"


    class HandlerBase(CallbackHandlerConformance):
        test_discovered_through_entry_point = None
        handler_options = {"label": "from config"}


    class TestGoodHandler(HandlerBase):
        handler_name = "good"


    class TestNarrow(HandlerBase):
        handler_name = "narrow"
        handler_options = {"prefix": "* "}


    class TestStrict(HandlerBase):
        handler_name = "strict"


    class TestForgetful(HandlerBase):
        handler_name = "forgetful"
''')


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, dict[str, str]]:
    """{class name: {test name: "passed" | "skipped" | failure message}}."""
    where = tmp_path_factory.mktemp("broken")
    (where / "test_broken_plugins.py").write_text(SUITE_MODULE, encoding="utf-8")
    report = where / "report.xml"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", "test_broken_plugins.py"],
        cwd=where, capture_output=True, text=True, timeout=300,
        # No pytest plugins at all, hookchain's included: the suites do not need them.
        env={**os.environ, "HOOKCHAIN_CONFIG": "", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert report.exists(), proc.stdout + proc.stderr
    results: dict[str, dict[str, str]] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        cls = case.get("classname", "").rpartition(".")[2]
        failure = case.find("failure")
        error = case.find("error")
        if failure is not None:
            outcome = failure.get("message", "") + "\n" + (failure.text or "")
        elif error is not None:
            outcome = "ERROR: " + error.get("message", "")
        elif case.find("skipped") is not None:
            outcome = "skipped"
        else:
            outcome = "passed"
        results.setdefault(cls, {})[case.get("name", "")] = outcome
    assert results, proc.stdout + proc.stderr
    return results


def failed(outcomes: dict[str, dict[str, str]], cls: str) -> dict[str, str]:
    return {name: text for name, text in outcomes[cls].items() if text not in ("passed", "skipped")}


def test_a_correct_model_passes_every_check(outcomes):
    assert failed(outcomes, "TestGood") == {}
    assert len(outcomes["TestGood"]) >= 20
    assert outcomes["TestGood"]["test_secrets_stay_out_of_reprs_and_callbacks"] == "passed"  # its SecretStr api_key


def test_the_error_check_plants_a_failure_without_error_input(outcomes):
    assert failed(outcomes, "TestGoodPlantedFailure") == {}
    assert outcomes["TestGoodPlantedFailure"]["test_errors_surface_as_on_llm_error[astream]"] == "passed"


def test_a_correct_handler_passes_every_check(outcomes):
    assert failed(outcomes, "TestGoodHandler") == {}


def test_dropping_the_stop_sequence_fails_with_the_output(outcomes):
    failures = failed(outcomes, "TestDropsStop")
    assert set(failures) == {f"test_stop_sequence_honoured[{api}]" for api in ("invoke", "stream", "astream", "bind")}
    message = failures["test_stop_sequence_honoured[invoke]"]
    assert "stop sequence 'foxtrot' not honoured by invoke: output 'alpha bravo charlie delta echo foxtrot golf hotel india ju...' continues past it" in message
    assert "not honoured by stream" in failures["test_stop_sequence_honoured[stream]"]


def test_a_model_streaming_by_itself_fails_the_token_count(outcomes):
    failures = failed(outcomes, "TestStreamsByItself")
    message = failures["test_stream_fires_one_new_token_per_chunk[stream]"]
    assert "stream() yielded 6 chunks but on_llm_new_token fired 0 times" in message
    assert "overrides stream()" in failures["test_does_not_override_run_methods"]
    assert "on_chat_model_start 0 times" in failures["test_callbacks_in_chain[stream]"]
    # Its other entry points are BaseChatModel's and still conform.
    assert "test_invoke[str]" not in failures and "test_stream_fires_one_new_token_per_chunk[astream]" not in failures
    assert "test_stop_sequence_honoured[invoke]" not in failures and "test_stop_sequence_honoured[stream]" in failures


def test_a_key_in_repr_fails_the_secret_check(outcomes):
    failures = failed(outcomes, "TestKeyInRepr")
    assert set(failures) == {"test_secrets_stay_out_of_reprs_and_callbacks"}
    message = failures["test_secrets_stay_out_of_reprs_and_callbacks"]
    assert "secret option 'api_key' leaks: its value appears in repr(model), str(model)" in message


def test_a_key_in_identifying_params_fails_the_secret_check(outcomes):
    # Found by itself: a SecretStr field, though secret_options is not set.
    message = failed(outcomes, "TestKeyInParams")["test_secrets_stay_out_of_reprs_and_callbacks"]
    assert "secret option 'api_key' leaks" in message and "on_chat_model_start invocation_params=" in message
    assert "repr(model)" not in message


def test_cumulative_stream_usage_fails_the_usage_check(outcomes):
    failures = failed(outcomes, "TestCumulativeUsage")
    assert set(failures) == {"test_usage_and_response_metadata"}
    assert ("stream() reports usage {'input_tokens': 36, 'output_tokens': 21, 'total_tokens': 57} (its chunks added up) "
            "but invoke reports {'input_tokens': 6, 'output_tokens': 6, 'total_tokens': 12}") in failures["test_usage_and_response_metadata"]


def test_swallowed_errors_fail_the_error_check(outcomes):
    failures = failed(outcomes, "TestSwallowsErrors")
    assert set(failures) == {f"test_errors_surface_as_on_llm_error[{api}]" for api in ("invoke", "ainvoke", "stream", "astream")}
    assert ("invoke with error_input did not raise (events fired: on_chat_model_start, on_llm_end): set error_input or "
            "failing_model_options to something that makes your model fail, and let the error propagate") in failures["test_errors_surface_as_on_llm_error[invoke]"]


def test_handler_without_kwargs_fails_naming_the_event(outcomes):
    failures = failed(outcomes, "TestNarrow")
    message = failures["test_every_event_accepts_langchain_arguments"]
    assert "Narrow: 1 event(s) failed when called with LangChain's arguments" in message
    assert ("on_llm_new_token('Why', run_id=..., parent_run_id=..., tags=..., chunk=...) raised TypeError: "
            "Narrow.on_llm_new_token() got an unexpected keyword argument 'run_id'") in message
    assert "Error in Narrow.on_llm_new_token callback" in failures["test_handler_in_real_runs"]


def test_handler_with_raise_error_fails(outcomes):
    message = failed(outcomes, "TestStrict")["test_raising_handler_never_breaks_a_run"]
    assert "Strict.raise_error is True: an error in the handler would stop every run" in message


def test_handler_dropping_an_option_fails(outcomes):
    failures = failed(outcomes, "TestForgetful")
    assert set(failures) == {"test_options_from_config_reach_handler"}
    assert "option 'label' = 'from config' from [handlers.forgetful] in hookchain.toml did not reach the handler: its label is 'default'" in failures["test_options_from_config_reach_handler"]
