"""The ``otel`` handler on the SDK's in-memory exporter: the span tree of every
API, the GenAI attributes, errors, content capture and secrets, options and
the environment, the provider it picks, and an unreachable collector."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import SecretStr

import hookchain
from hookchain.errors import OptionError
from hookchain.prompts import ChatPromptTemplate
from hookchain.runnables import RunnableLambda
from hookchain.testing.models import ConformanceChatModel, ConformanceFailure
from hookchain.tools import tool

from hookchain_otel import OtelHandler, export

from .conftest import free_port, recorded

SECRET = "hookchain-otel-secret-5d0a7e"


def chain(fail: bool = False, model: Any = None) -> Any:
    prompt = ChatPromptTemplate.from_messages([("system", "Be brief."), ("human", "Tell me about {animal}")])
    return prompt | (model or ConformanceChatModel(fail=fail)) | RunnableLambda(lambda m: m.content.upper(), name="shout")


def all_attribute_text(spans: list[Any]) -> str:
    return json.dumps([{**dict(s.attributes), "events": [dict(e.attributes) for e in s.events]} for s in spans], default=str)


class TunedModel(ConformanceChatModel):
    """Reports sampling parameters in its invocation params, as provider models do."""

    temperature: float = 0.2
    max_tokens: int = 64

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {**super()._identifying_params, "temperature": self.temperature, "max_tokens": self.max_tokens}


def test_chain_is_one_span_per_run_with_parents_tags_and_metadata(otel):
    out = chain().invoke({"animal": "bears"}, config={"callbacks": [otel.handler], "tags": ["t1"],
                                                      "metadata": {"user": "u1", "n": 3, "ids": [1, 2], "deep": {"a": 1}}})
    assert out == "TELL ME ABOUT BEARS"
    spans = otel.spans()
    assert [s.name for s in spans] == ["RunnableSequence", "ChatPromptTemplate", "chat conformance", "shout"]
    root, prompt, model, shout = spans
    assert root.parent is None
    assert all(s.parent.span_id == root.context.span_id for s in spans[1:])
    assert len({s.context.trace_id for s in spans}) == 1
    assert [s.attributes["hookchain.run_type"] for s in spans] == ["chain", "prompt", "chat_model", "chain"]
    assert [s.kind for s in spans] == [SpanKind.INTERNAL, SpanKind.INTERNAL, SpanKind.CLIENT, SpanKind.INTERNAL]
    assert root.attributes["hookchain.tags"] == ("t1",)
    assert root.attributes["hookchain.metadata.user"] == "u1" and root.attributes["hookchain.metadata.n"] == 3
    assert root.attributes["hookchain.metadata.ids"] == (1, 2)
    assert json.loads(root.attributes["hookchain.metadata.deep"]) == {"a": 1}
    assert "seq:step:1" in prompt.attributes["hookchain.tags"]
    assert all(s.status.status_code is StatusCode.UNSET for s in spans)
    assert all(s.end_time >= s.start_time for s in spans)


def test_chat_model_span_follows_the_genai_conventions(otel):
    chain(model=TunedModel()).invoke({"animal": "bears"}, config={"callbacks": [otel.handler]}, )
    TunedModel().invoke("one two", config={"callbacks": [otel.handler]}, stop=["two"])
    first, second = otel.by_name("chat conformance")
    attributes = dict(first.attributes)
    assert {k: v for k, v in attributes.items() if k.startswith("gen_ai.")} == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "conformance",
        "gen_ai.request.model": "conformance",
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.max_tokens": 64,
        "gen_ai.response.model": "conformance",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 6,
        "gen_ai.usage.output_tokens": 4,
    }
    assert second.attributes["gen_ai.request.stop_sequences"] == ("two",)
    assert "gen_ai.response.time_to_first_chunk" not in attributes  # not streamed


def test_streamed_run_records_time_to_first_chunk(otel):
    assert "".join(chain().stream({"animal": "owls"}, config={"callbacks": [otel.handler]})) == "TELL ME ABOUT OWLS"
    (model,) = otel.by_name("chat conformance")
    assert model.attributes["gen_ai.response.time_to_first_chunk"] >= 0
    assert model.attributes["gen_ai.usage.output_tokens"] == 4
    assert model.attributes["gen_ai.response.finish_reasons"] == ("stop",)


def test_text_completion_span():
    otel = recorded(capture_content=True)
    llm = hookchain.get_model("echo-llm")
    assert llm.invoke("hello", config={"callbacks": [otel.handler]}) == "hello"
    (span,) = otel.spans()
    assert span.name == "text_completion echo-llm" and span.kind is SpanKind.CLIENT
    assert span.attributes["gen_ai.operation.name"] == "text_completion"
    assert span.attributes["hookchain.run_type"] == "llm"
    assert json.loads(span.attributes["gen_ai.input.messages"]) == [{"role": "user", "parts": [{"type": "text", "content": "hello"}]}]


def test_batch_threads_and_nested_asyncio_keep_each_tree_apart(otel):
    c = chain()
    config = {"callbacks": [otel.handler]}
    assert c.batch([{"animal": a} for a in ("cats", "dogs", "eels")], config=config) == ["TELL ME ABOUT CATS", "TELL ME ABOUT DOGS", "TELL ME ABOUT EELS"]

    async def outer(x: dict, config: Any) -> str:  # a nested chain, run from an async step
        return await c.ainvoke(x, config=config)

    nested = RunnableLambda(lambda x: x, name="pass") | RunnableLambda(outer, name="outer")

    async def both() -> Any:
        return await asyncio.gather(nested.ainvoke({"animal": "yaks"}, config=config), c.abatch([{"animal": "ants"}] * 2, config=config))

    assert asyncio.run(both()) == ["TELL ME ABOUT YAKS", ["TELL ME ABOUT ANTS"] * 2]
    spans = otel.spans()
    by_id = {s.context.span_id: s for s in spans}
    roots = [s for s in spans if s.parent is None]
    assert len(roots) == 3 + 1 + 2
    for span in spans:  # every span is in its root's trace, under a parent of that trace
        if span.parent is not None:
            parent = by_id[span.parent.span_id]
            assert parent.context.trace_id == span.context.trace_id
            assert parent.start_time <= span.start_time and span.end_time <= parent.end_time
    assert len({s.context.trace_id for s in roots}) == 6
    models = otel.by_name("chat conformance")
    assert len(models) == 6
    # the nested chain's model sits under the inner RunnableSequence, under "outer", under the outer sequence
    yaks = next(r for r in roots if any(s.name == "outer" for s in spans if s.context.trace_id == r.context.trace_id))
    model = next(m for m in models if m.context.trace_id == yaks.context.trace_id)
    path = []
    span = model
    while span.parent is not None:
        span = by_id[span.parent.span_id]
        path.append(span.name)
    assert path == ["RunnableSequence", "outer", "RunnableSequence"]


def test_failing_model_sets_error_status_and_exception_event(otel):
    with pytest.raises(ConformanceFailure):
        chain(fail=True).invoke({"animal": "bears"}, config={"callbacks": [otel.handler]})
    root, prompt, model = otel.spans()
    for span in (model, root):
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description == "ConformanceFailure: the conformance model was asked to fail"
        assert span.attributes["error.type"] == "ConformanceFailure"
        (event,) = span.events
        assert event.name == "exception"
        assert event.attributes["exception.type"].endswith("ConformanceFailure")
        assert event.attributes["exception.message"] == "the conformance model was asked to fail"
    assert prompt.status.status_code is StatusCode.UNSET
    assert model.name == "chat conformance" and "gen_ai.usage.input_tokens" not in model.attributes


def test_tool_span():
    otel = recorded(capture_content=True)

    @tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    assert add.invoke({"a": 2, "b": 3}, config={"callbacks": [otel.handler]}) == 5
    (span,) = otel.spans()
    assert span.name == "execute_tool add"
    assert span.attributes["gen_ai.operation.name"] == "execute_tool" and span.attributes["gen_ai.tool.name"] == "add"
    assert span.attributes["gen_ai.tool.description"] == "Add two numbers."
    assert json.loads(span.attributes["gen_ai.tool.call.arguments"]) == {"a": 2, "b": 3}
    assert span.attributes["gen_ai.tool.call.result"] == "5"


def test_content_is_captured_only_when_opted_in(otel, monkeypatch):
    chain().invoke({"animal": "bears"}, config={"callbacks": [otel.handler]})
    assert "bears" not in all_attribute_text(otel.spans()).lower()

    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    captured = recorded()
    assert captured.handler.capture_content is True
    chain().invoke({"animal": "bears"}, config={"callbacks": [captured.handler]})
    root, prompt, model, shout = captured.spans()
    assert json.loads(model.attributes["gen_ai.input.messages"]) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Tell me about bears"}]}]
    assert json.loads(model.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Tell me about bears"}], "finish_reason": "stop"}]
    assert json.loads(root.attributes["input.value"]) == {"animal": "bears"}
    assert root.attributes["output.value"] == "TELL ME ABOUT BEARS"

    streamed = recorded(capture_content=True)
    list(chain().stream({"animal": "owls"}, config={"callbacks": [streamed.handler]}))
    (model,) = streamed.by_name("chat conformance")
    assert json.loads(model.attributes["gen_ai.output.messages"])[0]["role"] == "assistant"
    assert recorded(capture_content=False).handler.capture_content is False  # the option wins over the variable


def test_secret_str_values_never_reach_a_span():
    otel = recorded(capture_content=True)
    c = ChatPromptTemplate.from_messages([("human", "{q}")]) | RunnableLambda(lambda p: p.to_messages()[0].content)
    c.invoke({"q": "hello", "key": SecretStr(SECRET)}, config={"callbacks": [otel.handler], "metadata": {"api_key": SecretStr(SECRET)}})
    text = all_attribute_text(otel.spans())
    assert SECRET not in text
    assert otel.spans()[0].attributes["hookchain.metadata.api_key"] == "**********"
    assert "**********" in otel.spans()[0].attributes["input.value"]


def test_root_span_joins_the_applications_current_span(otel):
    app_tracer = otel.handler.tracer_provider.get_tracer("app")
    with app_tracer.start_as_current_span("request") as request:
        chain().invoke({"animal": "bears"}, config={"callbacks": [otel.handler]})
    root = otel.by_name("RunnableSequence")[0]
    assert root.parent.span_id == request.get_span_context().span_id
    assert root.context.trace_id == request.get_span_context().trace_id


def test_options_and_environment(monkeypatch):
    h = hookchain.get_handler("otel")
    assert (h.endpoint, h.protocol, h.service_name, h.capture_content, h.headers) == (
        "http://localhost:4318/v1/traces", "http/protobuf", "hookchain", False, {})
    assert hookchain.get_handler("otel", endpoint="http://127.0.0.1:6006").endpoint == "http://127.0.0.1:6006/v1/traces"
    assert hookchain.get_handler("otel", endpoint="http://h:1/v1/traces").endpoint == "http://h:1/v1/traces"
    assert hookchain.get_handler("otel", protocol="grpc").endpoint == "http://localhost:4317"
    h = hookchain.get_handler("otel", headers="api_key=abc%3D,x=y", service_name="svc")
    assert {k: v.get_secret_value() for k, v in h.headers.items()} == {"api_key": "abc=", "x": "y"}
    assert "abc" not in repr(h) and h.service_name == "svc"

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318/")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20tok")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "from-env")
    h = hookchain.get_handler("otel")
    assert (h.endpoint, h.service_name) == ("https://collector:4318/v1/traces", "from-env")
    assert h.headers["authorization"].get_secret_value() == "Bearer tok"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://traces:9/custom")
    assert hookchain.get_handler("otel").endpoint == "https://traces:9/custom"  # used as is, as the SDK does

    for bad in ({"protocol": "http/json"}, {"endpoint": "localhost:4318"}, {"endpoint": " "}, {"headers": "novalue"},
                {"capture_content": "maybe"}):
        with pytest.raises(OptionError, match=next(iter(bad))):
            hookchain.get_handler("otel", **bad)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
    with pytest.raises(ValueError, match="http/json"):
        hookchain.get_handler("otel")


def test_own_provider_is_shared_by_handlers_with_the_same_destination():
    port = free_port()  # nothing listens there: no span is exported by this test
    a = hookchain.get_handler("otel", endpoint=f"http://127.0.0.1:{port}", service_name="shared-test")
    b = hookchain.get_handler("otel", endpoint=f"http://127.0.0.1:{port}", service_name="shared-test")
    c = hookchain.get_handler("otel", endpoint=f"http://127.0.0.1:{port}", service_name="other-test")
    assert a.tracer_provider is b.tracer_provider is not c.tracer_provider
    assert a.tracer_provider.resource.attributes["service.name"] == "shared-test"


def test_unreachable_collector_never_breaks_a_run_and_warns_once(caplog, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "1")  # the exporter's retries give up after 1 s
    caplog.set_level(logging.WARNING)
    handler = hookchain.get_handler("otel", endpoint=f"http://127.0.0.1:{free_port()}", service_name="unreachable-test")
    for i in range(3):
        assert chain().invoke({"animal": f"bears {i}"}, config={"callbacks": [handler]}) == f"TELL ME ABOUT BEARS {i}"
        assert handler.flush(120)  # each flush is one failed export
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in warnings] == ["hookchain_otel"], [r.getMessage() for r in warnings]
    assert "could not export 4 span(s) to http://127.0.0.1:" in warnings[0].getMessage()


def test_exit_with_an_unreachable_collector_makes_one_attempt(tmp_path):
    """``hookchain run`` with nothing listening at the endpoint: the answer is
    printed, the spans' one export attempt at exit fails at once (no backing off
    and retrying for the exporter's 600 s timeout), and one warning says so."""
    (tmp_path / "hookchain.toml").write_text(f'[handlers.otel]\nendpoint = "http://127.0.0.1:{free_port()}"\n')
    out = subprocess.run([sys.executable, "-m", "hookchain.cli", "run", "hello there", "-m", "echo", "--config", "hookchain.toml"],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path,
                         env={**_clean_env(), "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "600"})
    assert out.returncode == 0, out.stderr
    assert out.stdout == "hello there\n"
    assert out.stderr.count("hookchain-otel:") == 1, out.stderr
    assert "could not export 3 span(s)" in out.stderr


def test_global_tracer_provider_is_used_when_the_application_set_one(tmp_path):
    """In a fresh interpreter (the global provider can be set once per process):
    the application's provider gets the spans; nothing is sent elsewhere."""
    script = textwrap.dedent("""
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        import hookchain
        from hookchain_otel import export
        from hookchain_echo import EchoChatModel

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        handler = hookchain.get_handler("otel")
        EchoChatModel().invoke("hi", config={"callbacks": [handler]})
        assert handler.tracer_provider is provider and not export._providers
        print([s.name for s in exporter.get_finished_spans()])
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                         env={**_clean_env(), "HOOKCHAIN_CONFIG": ""})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['chat echo']"


def _clean_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}


def test_readme_config_enables_the_handler(tmp_path):
    from hookchain import config

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "hookchain.toml").write_text(block, encoding="utf-8")
    built = config.load(tmp_path / "hookchain.toml").build_handlers()
    assert [type(h) for h in built] == [OtelHandler]
    assert built[0].endpoint == "http://127.0.0.1:6006/v1/traces" and built[0].service_name == "my-app"


def test_flush_before_any_span_is_immediate():
    assert hookchain.get_handler("otel").flush(0) is True
    assert export.flush_all(60)
