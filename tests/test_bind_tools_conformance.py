"""The opt-in tool-calling and structured-output checks of
``ChatModelConformance`` (``hookchain.testing.tool_checks``): a model that
implements ``bind_tools`` passes them; models that ignore the tools, answer
with the wrong argument shape or reject tool results fail with a message
saying what is wrong; a suite that does not opt in skips them, saying how to
turn them on.

As tests/test_conformance_broken.py: the suite runs in a pytest subprocess on
a generated module (models registered in code), outcomes read from JUnit XML.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import pytest

SUITE_MODULE = textwrap.dedent('''
    import json
    import types

    import hookchain
    from hookchain.language_models import BaseChatModel
    from hookchain.messages import AIMessage, AIMessageChunk, ToolMessage
    from hookchain.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
    from hookchain.plugins import register_plugin
    from hookchain.testing import ChatModelConformance
    from hookchain.utils.function_calling import convert_to_openai_tool

    VALUES = {"integer": 3, "number": 1.5, "string": "a cat", "boolean": True}


    class ToolModel(BaseChatModel):
        """Calls the tool tool_choice names (else the first bound tool) with
        arguments filled in from its JSON schema; answers a ToolMessage (or a
        call without tools) with text. Streams text per word and each call's
        JSON arguments in pieces of 3 characters."""

        def bind_tools(self, tools, *, tool_choice=None, **kwargs):
            if tool_choice is not None:
                kwargs["tool_choice"] = tool_choice
            return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

        def _args(self, function):
            return {k: VALUES[p.get("type")] for k, p in function["parameters"]["properties"].items()}

        def _turn(self, messages, tools, tool_choice):
            if not tools or isinstance(messages[-1], ToolMessage):
                return "The answer is " + messages[-1].text, []
            functions = [t["function"] for t in tools]
            function = next((f for f in functions if f["name"] == tool_choice), functions[0])
            return "", [(function["name"], json.dumps(self._args(function)), "call_1")]

        def _generate(self, messages, stop=None, run_manager=None, tools=None, tool_choice=None, **kwargs):
            content, calls = self._turn(messages, tools, tool_choice)
            message = AIMessage(content, tool_calls=[{"name": n, "args": json.loads(a), "id": i} for n, a, i in calls])
            return ChatResult(generations=[ChatGeneration(message)])

        def _stream(self, messages, stop=None, run_manager=None, tools=None, tool_choice=None, **kwargs):
            content, calls = self._turn(messages, tools, tool_choice)
            for word in content.split(" ") if content else ():
                yield ChatGenerationChunk(AIMessageChunk(word + " "))
            for index, (name, args, call_id) in enumerate(calls):
                for k in range(0, len(args), 3):
                    yield ChatGenerationChunk(AIMessageChunk("", tool_call_chunks=[{
                        "name": name if k == 0 else None, "id": call_id if k == 0 else None, "args": args[k:k + 3], "index": index}]))

        @property
        def _llm_type(self):
            return "tool-model"


    class IgnoresTools(ToolModel):
        def _turn(self, messages, tools, tool_choice):
            return "I would rather not use tools.", []


    class WrongArgs(ToolModel):
        def _args(self, function):
            return {"x": "3"}


    class RejectsToolResults(ToolModel):
        def _turn(self, messages, tools, tool_choice):
            if any(isinstance(m, ToolMessage) for m in messages):
                raise ValueError("unsupported message type: tool")
            return super()._turn(messages, tools, tool_choice)


    class NoBindTools(BaseChatModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            return ChatResult(generations=[ChatGeneration(AIMessage("hi"))])

        @property
        def _llm_type(self):
            return "no-bind-tools"


    plugin = types.SimpleNamespace()


    @hookchain.hookimpl
    def register_models(register):
        for name, cls in [("tool-model", ToolModel), ("ignores-tools", IgnoresTools), ("wrong-args", WrongArgs),
                          ("rejects-tool-results", RejectsToolResults), ("no-bind-tools", NoBindTools)]:
            register(name, cls)


    plugin.register_models = register_models
    register_plugin(plugin, name="tool_models")


    class Base(ChatModelConformance):
        test_discovered_through_entry_point = None  # registered in code, on purpose
        has_tool_calling = True
        has_structured_output = True


    class TestToolModel(Base):
        model_name = "tool-model"


    class TestToolModelForced(Base):
        model_name = "tool-model"
        tool_choice_value = "any"
        structured_output_kwargs = {"method": "function_calling"}


    class TestNotOptedIn(ChatModelConformance):
        test_discovered_through_entry_point = None
        model_name = "tool-model"


    class TestIgnoresTools(Base):
        model_name = "ignores-tools"


    class TestWrongArgs(Base):
        model_name = "wrong-args"


    class TestRejectsToolResults(Base):
        model_name = "rejects-tool-results"
        has_structured_output = False


    class TestNoBindTools(Base):
        model_name = "no-bind-tools"
''')

TOOL_CHECKS = ("test_tool_calling", "test_tool_message_round_trip", "test_tool_choice", "test_structured_output")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, dict[str, str]]:
    """{class name: {test name: "passed" | "skipped: <reason>" | failure message}}."""
    where = tmp_path_factory.mktemp("tool_checks")
    (where / "test_tool_models.py").write_text(SUITE_MODULE, encoding="utf-8")
    report = where / "report.xml"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", "test_tool_models.py",
         "-k", " or ".join(TOOL_CHECKS)],
        cwd=where, capture_output=True, text=True, timeout=600,
        env={**os.environ, "HOOKCHAIN_CONFIG": "", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert report.exists(), proc.stdout + proc.stderr
    results: dict[str, dict[str, str]] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        cls = case.get("classname", "").rpartition(".")[2]
        failure, error, skipped = case.find("failure"), case.find("error"), case.find("skipped")
        if failure is not None:
            outcome = failure.get("message", "") + "\n" + (failure.text or "")
        elif error is not None:
            outcome = "ERROR: " + error.get("message", "")
        elif skipped is not None:
            outcome = "skipped: " + skipped.get("message", "")
        else:
            outcome = "passed"
        results.setdefault(cls, {})[case.get("name", "")] = outcome
    assert results, proc.stdout + proc.stderr
    return results


def failed(outcomes, cls):
    return {name: text for name, text in outcomes[cls].items() if text != "passed" and not text.startswith("skipped")}


def test_a_model_implementing_bind_tools_passes(outcomes):
    for cls in ("TestToolModel", "TestToolModelForced"):
        assert failed(outcomes, cls) == {}
        assert set(outcomes[cls].values()) == {"passed"}
    names = set(outcomes["TestToolModel"])
    assert {f"test_tool_calling[{api}]" for api in ("invoke", "ainvoke", "stream", "astream")} <= names
    assert {"test_tool_message_round_trip", "test_tool_choice[my_adder_tool]", "test_tool_choice[any]",
            "test_structured_output_include_raw", "test_structured_output[stream-json_schema]"} <= names
    assert len(names) == 4 + 1 + 2 + 9 + 1


def test_checks_are_skipped_unless_opted_in(outcomes):
    outcome = outcomes["TestNotOptedIn"]
    assert outcome["test_tool_calling[invoke]"] == "skipped: opt-in check: set has_tool_calling = True in the test class to run it"
    assert outcome["test_structured_output[invoke-pydantic]"].endswith("set has_structured_output = True in the test class to run it")
    assert all(v.startswith("skipped") for v in outcome.values())


def test_a_model_ignoring_the_tools_fails(outcomes):
    failures = failed(outcomes, "TestIgnoresTools")
    message = failures["test_tool_calling[invoke]"]
    assert "bind_tools([my_adder_tool]).invoke: the AIMessage has no tool_calls (content 'I would rather not use tools.')" in message
    assert "test_tool_calling[astream]" in failures and "test_tool_choice[any]" in failures
    assert "test_structured_output[invoke-pydantic]" in failures


def test_wrong_argument_shape_fails(outcomes):
    failures = failed(outcomes, "TestWrongArgs")
    assert "tool call args have keys ['x'], expected ['a', 'b']" in failures["test_tool_calling[stream]"]
    assert "test_structured_output_include_raw" in failures


def test_rejecting_tool_results_fails_the_round_trip(outcomes):
    failures = failed(outcomes, "TestRejectsToolResults")
    assert set(failures) == {"test_tool_message_round_trip"}
    assert "raised ValueError: unsupported message type: tool" in failures["test_tool_message_round_trip"]


def test_opting_in_without_bind_tools_says_what_to_implement(outcomes):
    failures = failed(outcomes, "TestNoBindTools")
    assert "has_tool_calling is set but NoBindTools.bind_tools raised NotImplementedError" in failures["test_tool_calling[invoke]"]
    assert "has_structured_output is set but with_structured_output raised NotImplementedError" in failures["test_structured_output[invoke-pydantic]"]
