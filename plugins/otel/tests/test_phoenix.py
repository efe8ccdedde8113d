"""End to end against a real OpenTelemetry backend, Arize Phoenix (started once
per session by the ``phoenix`` fixture): runs through ``hookchain run`` and the
Python API export their spans over OTLP/HTTP, then the spans are read back
through Phoenix's REST API (``GET /v1/projects/default/spans``) and checked:
names, parentage, GenAI attributes, token counts, error status."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from typing import Any

import pytest

import hookchain
from hookchain.prompts import ChatPromptTemplate
from hookchain.runnables import RunnableLambda
from hookchain.testing.models import ConformanceChatModel, ConformanceFailure

RUN = uuid.uuid4().hex[:12]  # marks this session's spans (Phoenix keeps everything it received)
# the traces each scenario makes, and the spans in each
EXPECTED = {"cli-stream": (1, 3), "cli-env": (1, 3), "invoke": (1, 3), "stream": (1, 3), "batch": (3, 3), "error": (1, 3),
            "nested": (1, 6)}


def chain(fail: bool = False) -> Any:
    prompt = ChatPromptTemplate.from_messages([("system", "Be brief."), ("human", "Tell me about {animal}")])
    return prompt | ConformanceChatModel(fail=fail)


def hookchain_run(text: str, *args: str, env: dict[str, str], cwd: Any) -> str:
    out = subprocess.run([sys.executable, "-m", "hookchain.cli", "run", text, "-m", "echo", *args], capture_output=True,
                         text=True, timeout=300, env={**{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}, **env},
                         cwd=cwd)
    assert out.returncode == 0, out.stderr
    return out.stdout


def scenario_of(trace: list[dict[str, Any]]) -> str | None:
    """The scenario a trace belongs to: its root's ``e2e`` metadata, or for the
    CLI runs the marker in the captured messages of its model span."""
    roots = [s for s in trace if s["parent_id"] is None]
    if len(roots) != 1:
        return None
    if roots[0]["attributes"].get("hookchain.metadata.run") == RUN:
        return roots[0]["attributes"]["hookchain.metadata.e2e"]
    text = " ".join(str(s["attributes"].get("gen_ai.input.messages", "")) for s in trace)
    return next((name for name in ("cli-stream", "cli-env") if f"{name} {RUN}" in text), None)


@pytest.fixture(scope="module")
def traces(phoenix, tmp_path_factory) -> dict[str, list[dict[str, Any]]]:
    """Every scenario run once; ``{scenario: [trace, ...]}`` where a trace is its
    spans as Phoenix returns them, root first."""
    work = tmp_path_factory.mktemp("otel-e2e")
    # `hookchain run`, configured by a hookchain.toml (as the README's recipe)...
    (work / "hookchain.toml").write_text(
        f'[handlers.otel]\nendpoint = "{phoenix.url}"\nservice_name = "hookchain-e2e"\ncapture_content = true\n')
    assert hookchain_run(f"cli-stream {RUN}", "--config", str(work / "hookchain.toml"), env={}, cwd=work) == f"cli-stream {RUN}\n"
    # ... and by the standard environment variables (the handler enabled with -H, no option set)
    (work / "empty.toml").write_text("")
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": phoenix.url, "OTEL_SERVICE_NAME": "hookchain-e2e-env",
           "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"}
    assert hookchain_run(f"cli-env {RUN}", "--no-stream", "-H", "otel", "--config", str(work / "empty.toml"), env=env, cwd=work) == f"cli-env {RUN}\n"

    # the Python API
    handler = hookchain.get_handler("otel", endpoint=phoenix.url, service_name="hookchain-e2e-api")

    def config(name: str) -> dict[str, Any]:
        return {"callbacks": [handler], "metadata": {"run": RUN, "e2e": name}, "tags": ["e2e"]}

    c = chain()
    assert c.invoke({"animal": "bears"}, config=config("invoke")).content == "Tell me about bears"
    assert "".join(m.content for m in c.stream({"animal": "owls"}, config=config("stream"))) == "Tell me about owls"
    assert [m.content for m in c.batch([{"animal": a} for a in ("cats", "dogs", "eels")], config=config("batch"))] == [
        "Tell me about cats", "Tell me about dogs", "Tell me about eels"]
    with pytest.raises(ConformanceFailure):
        chain(fail=True).invoke({"animal": "bears"}, config=config("error"))

    async def inner(x: dict, config: Any) -> str:
        return (await c.ainvoke(x, config=config)).content

    nested = RunnableLambda(lambda x: x, name="pass") | RunnableLambda(inner, name="inner")
    assert asyncio.run(nested.ainvoke({"animal": "yaks"}, config=config("nested"))) == "Tell me about yaks"
    assert handler.flush(120)

    # Phoenix inserts what it receives in the background: read until every trace is complete
    deadline = time.monotonic() + 300  # a hang guard only
    while True:
        spans = phoenix.spans()
        found = _group(spans)
        if all(len(found.get(name, [])) == n and all(len(t) == size for t in found[name])
               for name, (n, size) in EXPECTED.items()):
            return found
        if time.monotonic() > deadline:
            have = {name: [len(t) for t in found.get(name, [])] for name in EXPECTED}
            pytest.fail(f"Phoenix did not show the expected spans (traces: spans per trace) {have}; log: {phoenix.log}")
        time.sleep(0.5)


def _group(spans: list[dict[str, Any]]) -> dict[str, list[list[dict[str, Any]]]]:
    by_trace: dict[str, list[dict[str, Any]]] = {}
    for span in spans:
        by_trace.setdefault(span["context"]["trace_id"], []).append(span)
    found: dict[str, list[list[dict[str, Any]]]] = {}
    for trace in by_trace.values():
        name = scenario_of(trace)
        if name is not None:
            root = next(s for s in trace if s["parent_id"] is None)
            rest = sorted((s for s in trace if s is not root), key=lambda s: s["start_time"])
            found.setdefault(name, []).append([root, *rest])
    return found


def _named(trace: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (span,) = [s for s in trace if s["name"] == name]
    return span


def _check_prompt_model_tree(trace: list[dict[str, Any]], model: str = "conformance") -> dict[str, Any]:
    """root RunnableSequence -> ChatPromptTemplate, chat <model>; returns the chat span."""
    root = trace[0]
    assert root["name"] == "RunnableSequence"
    assert sorted(s["name"] for s in trace[1:]) == sorted(["ChatPromptTemplate", f"chat {model}"])
    assert all(s["parent_id"] == root["context"]["span_id"] for s in trace[1:])
    chat = _named(trace, f"chat {model}")
    attributes = chat["attributes"]
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == model
    assert attributes["gen_ai.request.model"] == model
    assert attributes["gen_ai.response.model"] == model
    assert list(attributes["gen_ai.response.finish_reasons"]) == ["stop"]
    return chat


def test_phoenix_started(phoenix):
    print(f"\nPhoenix healthy {phoenix.started_in:.1f} s after its process started")


def test_cli_streamed_run_from_config_file(traces):
    (trace,) = traces["cli-stream"]
    chat = _check_prompt_model_tree(trace, "echo")
    assert chat["attributes"]["gen_ai.response.time_to_first_chunk"] >= 0
    assert f"cli-stream {RUN}" in chat["attributes"]["gen_ai.input.messages"]
    assert trace[0]["status_code"] == "UNSET"


def test_cli_run_configured_by_environment(traces):
    (trace,) = traces["cli-env"]
    chat = _check_prompt_model_tree(trace, "echo")
    assert "gen_ai.response.time_to_first_chunk" not in chat["attributes"]  # --no-stream


def test_invoke_tree_with_token_counts(traces):
    (trace,) = traces["invoke"]
    chat = _check_prompt_model_tree(trace)
    assert (chat["attributes"]["gen_ai.usage.input_tokens"], chat["attributes"]["gen_ai.usage.output_tokens"]) == (6, 4)
    assert "gen_ai.input.messages" not in chat["attributes"]  # content capture is off by default
    assert list(trace[0]["attributes"]["hookchain.tags"]) == ["e2e"]


def test_streamed_run(traces):
    (trace,) = traces["stream"]
    chat = _check_prompt_model_tree(trace)
    assert chat["attributes"]["gen_ai.response.time_to_first_chunk"] >= 0
    assert chat["attributes"]["gen_ai.usage.output_tokens"] == 4


def test_batch_is_one_trace_per_input(traces):
    batch = traces["batch"]
    assert len({t[0]["context"]["trace_id"] for t in batch}) == 3
    for trace in batch:
        assert _check_prompt_model_tree(trace)["attributes"]["gen_ai.usage.output_tokens"] == 4


def test_failing_model_has_error_status_and_exception_event(traces):
    (trace,) = traces["error"]
    chat = _named(trace, "chat conformance")
    for span in (trace[0], chat):
        assert span["status_code"] == "ERROR"
        assert span["status_message"] == "ConformanceFailure: the conformance model was asked to fail"
        assert span["attributes"]["error.type"] == "ConformanceFailure"
        (event,) = span["events"]
        assert event["name"] == "exception"
        assert event["attributes"]["exception.message"] == "the conformance model was asked to fail"
    assert _named(trace, "ChatPromptTemplate")["status_code"] == "UNSET"


def test_nested_async_chain_parentage(traces):
    (trace,) = traces["nested"]
    by_id = {s["context"]["span_id"]: s for s in trace}
    chat = _named(trace, "chat conformance")
    path, span = [], chat
    while span["parent_id"] is not None:
        span = by_id[span["parent_id"]]
        path.append(span["name"])
    assert path == ["RunnableSequence", "inner", "RunnableSequence"]
    assert _named(trace, "pass")["parent_id"] == trace[0]["context"]["span_id"]
