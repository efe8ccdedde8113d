"""The ``otel`` handler: every run as an OpenTelemetry span.

Enable it in ``hookchain.toml``::

    [handlers.otel]
    endpoint = "http://127.0.0.1:6006"   # optional; else OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, else localhost:4318

How a run becomes a span:

* Each ``on_*_start`` callback starts a span, each ``on_*_end``/``on_*_error``
  ends it. The parent span is the one of ``parent_run_id``; a root run's
  parent is the OpenTelemetry context current where the run started (an
  application's own span, if any). Runs are keyed by ``run_id``, so threads
  (``batch``), asyncio and nested runs need nothing more.
* Chains, prompts, parsers, retrievers: an ``INTERNAL`` span named as the run
  (``RunnableSequence``, ``ChatPromptTemplate``...). Tools: ``execute_tool
  {name}`` with ``gen_ai.tool.name``. Chat models and LLMs: a ``CLIENT`` span
  named ``{gen_ai.operation.name} {gen_ai.request.model}`` with the GenAI
  attributes (see ``hookchain_otel.genai``); a streamed answer gets
  ``gen_ai.response.time_to_first_chunk`` (seconds, start to first token).
* Every span: ``hookchain.run_type``, ``hookchain.run_id``, the run's tags as
  ``hookchain.tags`` and each metadata key as ``hookchain.metadata.<key>``.
* An error: span status ``ERROR`` with ``Type: message``, ``error.type`` and an
  ``exception`` event (as ``Span.record_exception``).
* Content (messages, prompts, answers, chain and tool inputs and outputs) only
  with ``capture_content``: ``gen_ai.input.messages``/``gen_ai.output.messages``
  on model spans, ``gen_ai.tool.call.arguments``/``result`` on tool spans,
  ``input.value``/``output.value`` (the names Phoenix shows) on the others. A
  ``pydantic.SecretStr`` value is always written as ``**********``.
"""

from __future__ import annotations

import os
import time
from typing import Any, Literal, Optional
from uuid import UUID

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

from hookchain.callbacks import BaseCallbackHandler

from hookchain_otel import export, genai

__all__ = ["OtelHandler", "OtelOptions"]

_TRUE = ("true", "1", "yes", "on")
_INSTRUMENTATION = "hookchain_otel"
_MAX_OPEN = 10_000  # runs waiting for their end at most (abandoned ones are ended with their root)


def _env(*names: str) -> Optional[str]:
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def _parse_headers(text: str) -> dict[str, str]:
    """``k1=v1,k2=v2`` (the ``OTEL_EXPORTER_OTLP_HEADERS`` format, values URL-encoded)."""
    from urllib.parse import unquote

    out = {}
    for item in text.split(","):
        if item.strip():
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise ValueError(f"headers: {item.strip()!r} is not name=value (write 'name1=value1,name2=value2' or a table)")
            out[unquote(name.strip())] = unquote(value.strip())
    return out


class OtelOptions(BaseModel):
    """Options of the ``otel`` handler; each one left out falls back to the
    standard OpenTelemetry environment variable named below."""

    model_config = ConfigDict(extra="forbid")

    endpoint: Optional[str] = None
    """The collector: a base URL such as ``http://127.0.0.1:6006`` (``/v1/traces``
    is added for ``http/protobuf``) or the full traces URL. Default:
    ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (as is), ``OTEL_EXPORTER_OTLP_ENDPOINT``
    (+ ``/v1/traces``), else ``http://localhost:4318`` (``localhost:4317`` for grpc)."""

    headers: Optional[dict[str, SecretStr]] = None
    """Headers of every export request (e.g. an API key), as a table or a
    ``name=value,name2=value2`` string. Default: ``OTEL_EXPORTER_OTLP_TRACES_HEADERS``
    / ``OTEL_EXPORTER_OTLP_HEADERS``. Never shown in the handler's repr."""

    protocol: Optional[Literal["http/protobuf", "grpc"]] = None
    """``http/protobuf`` (default) or ``grpc`` (needs ``hookchain-otel[grpc]``).
    Default: ``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`` / ``OTEL_EXPORTER_OTLP_PROTOCOL``."""

    service_name: Optional[str] = None
    """The ``service.name`` resource attribute. Default: ``OTEL_SERVICE_NAME``, else ``hookchain``."""

    capture_content: Optional[bool] = None
    """Record messages, prompts, answers and run inputs/outputs. Default:
    ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (``true``), else off."""

    @field_validator("headers", mode="before")
    @classmethod
    def _headers(cls, value: Any) -> Any:
        return _parse_headers(value) if isinstance(value, str) else value

    @field_validator("endpoint", "service_name")
    @classmethod
    def _not_blank(cls, value: Optional[str], info: Any) -> Optional[str]:
        if value is not None and not value.strip():
            raise ValueError(f"{info.field_name} must not be empty (leave it out for the default)")
        if info.field_name == "endpoint" and value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"endpoint must be an http:// or https:// URL, got {value!r}")
        return value


class _Run:
    __slots__ = ("span", "root", "children", "started", "first_token")

    def __init__(self, span: Any, root: Optional["_Run"]) -> None:
        self.span, self.root = span, root
        self.children: Optional[list[UUID]] = None if root is not None else []
        self.started = time.monotonic()
        self.first_token: Optional[float] = None


class OtelHandler(BaseCallbackHandler):
    """Exports every run as an OpenTelemetry span (see the module docstring).

    Args:
        endpoint, headers, protocol, service_name, capture_content: the options
            (``OtelOptions``); ``None`` takes the standard environment variable.
        tracer_provider: Python only (not an option of config files): the
            provider to create spans with, e.g. one with an in-memory exporter
            in tests. Default: the global provider when the application set one
            (``opentelemetry.trace.set_tracer_provider``), else the plugin's own.

    Attributes:
        endpoint, protocol, service_name, capture_content: the settings in use.
    """

    options_model = OtelOptions
    #: Called inline in async runs: starting and ending a span is cheap (export happens
    #: on the batch processor's thread) and keeps the caller's OpenTelemetry context.
    run_inline = True

    def __init__(self, endpoint: Optional[str] = None, headers: Optional[dict[str, Any]] = None,
                 protocol: Optional[str] = None, service_name: Optional[str] = None,
                 capture_content: Optional[bool] = None, *, tracer_provider: Any = None) -> None:
        self.protocol = protocol or _env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL") or "http/protobuf"
        if self.protocol not in ("http/protobuf", "grpc"):
            raise ValueError(f"hookchain-otel: protocol {self.protocol!r} (from the environment) is not supported: "
                             f"use 'http/protobuf' or 'grpc'")
        self.endpoint = self._endpoint(endpoint)
        if headers is None:
            env_headers = _env("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS")
            headers = _parse_headers(env_headers) if env_headers else {}
        self._headers = tuple(sorted((k, v.get_secret_value() if isinstance(v, SecretStr) else str(v)) for k, v in headers.items()))
        self.headers = {k: SecretStr(v) for k, v in self._headers}
        self.service_name = service_name or _env("OTEL_SERVICE_NAME") or "hookchain"
        if capture_content is None:
            capture_content = (_env("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT") or "").lower() in _TRUE
        self.capture_content = capture_content
        self._provider = tracer_provider
        self._tracer: Any = None
        self._runs: dict[UUID, _Run] = {}

    def __repr__(self) -> str:
        return (f"OtelHandler(endpoint={self.endpoint!r}, protocol={self.protocol!r}, "
                f"service_name={self.service_name!r}, capture_content={self.capture_content!r})")

    def _endpoint(self, endpoint: Optional[str]) -> str:
        grpc = self.protocol == "grpc"
        if endpoint is None:
            endpoint = _env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            if endpoint is not None:
                return endpoint
            endpoint = _env("OTEL_EXPORTER_OTLP_ENDPOINT") or ("http://localhost:4317" if grpc else "http://localhost:4318")
        if grpc or endpoint.rstrip("/").endswith("/v1/traces"):
            return endpoint
        return endpoint.rstrip("/") + "/v1/traces"

    @property
    def tracer_provider(self) -> Any:
        """The provider spans are created with (resolved at the first span)."""
        if self._provider is None:
            self._provider = export.global_provider() or export.own_provider(
                export.Destination(self.endpoint, self._headers, self.protocol, self.service_name))
        return self._provider

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Export the spans of every run ended so far; waits ``timeout`` seconds
        at most (``None``: until done). Returns whether they were all handed to
        the exporter in time (an unreachable collector counts as done: they are
        dropped with one warning). Also runs at process exit (5 s at most)."""
        if self._tracer is None:
            return True
        return export.flush_provider(self.tracer_provider, timeout)

    # -- spans ---------------------------------------------------------------- #
    def _start(self, run_id: UUID, parent_run_id: Optional[UUID], name: str, kind: SpanKind,
               attributes: dict[str, Any], tags: Optional[list[str]], metadata: Optional[dict[str, Any]]) -> None:
        tracer = self._tracer
        if tracer is None:
            tracer = self._tracer = self.tracer_provider.get_tracer(_INSTRUMENTATION)
        parent = self._runs.get(parent_run_id) if parent_run_id is not None else None
        attributes["hookchain.run_id"] = str(run_id)
        if tags:
            attributes["hookchain.tags"] = [str(t) for t in tags]
        if metadata:
            for key, value in metadata.items():
                value = genai.attribute_value(value)
                if value is not None:
                    attributes[f"hookchain.metadata.{key}"] = value
        if parent is None:
            if len(self._runs) >= _MAX_OPEN:  # a root that never ended (abandoned): forget the oldest run
                self._runs.pop(next(iter(self._runs)), None)
            span = tracer.start_span(name, context=otel_context.get_current(), kind=kind, attributes=attributes)
            self._runs[run_id] = _Run(span, None)
        else:
            span = tracer.start_span(name, context=trace.set_span_in_context(parent.span), kind=kind, attributes=attributes)
            root = parent.root or parent
            root.children.append(run_id)
            self._runs[run_id] = _Run(span, root)

    def _end(self, run_id: UUID, attributes: Optional[dict[str, Any]] = None,
             error: Optional[BaseException] = None) -> None:
        run = self._runs.pop(run_id, None)
        if run is None:
            return
        span = run.span
        if attributes:
            span.set_attributes(attributes)
        if error is not None:
            span.set_attribute("error.type", type(error).__qualname__)
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        span.end()
        if run.root is None:
            for child in run.children:  # runs left open by their root (an abandoned stream): end them with it
                left = self._runs.pop(child, None)
                if left is not None:
                    left.span.set_attribute("hookchain.abandoned", True)
                    left.span.end()

    def _content(self, key: str, value: Any) -> dict[str, Any]:
        return {key: value if isinstance(value, str) else genai.to_json(value)} if self.capture_content else {}

    # -- callback events ---------------------------------------------------- #
    def on_chain_start(self, serialized: Optional[dict[str, Any]], inputs: Any, *, run_id: UUID,
                       parent_run_id: Optional[UUID] = None, tags: Optional[list[str]] = None,
                       metadata: Optional[dict[str, Any]] = None, **kwargs: Any) -> None:
        run_type = kwargs.get("run_type") or "chain"
        name = kwargs.get("name") or (serialized or {}).get("name") or run_type
        self._start(run_id, parent_run_id, name, SpanKind.INTERNAL,
                    {"hookchain.run_type": run_type, **self._content("input.value", inputs)}, tags, metadata)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, self._content("output.value", outputs))

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error=error)

    def _model_start(self, operation: str, run_type: str, content: Any, run_id: UUID, parent_run_id: Optional[UUID],
                     tags: Optional[list[str]], metadata: Optional[dict[str, Any]], kwargs: dict[str, Any]) -> None:
        name, attributes = genai.request_attributes(operation, kwargs.get("invocation_params"), metadata)
        attributes["hookchain.run_type"] = run_type
        if self.capture_content:
            attributes["gen_ai.input.messages"] = content()
        self._start(run_id, parent_run_id, name, SpanKind.CLIENT, attributes, tags, metadata)

    def on_chat_model_start(self, serialized: Optional[dict[str, Any]], messages: list[list[Any]], *, run_id: UUID,
                            parent_run_id: Optional[UUID] = None, tags: Optional[list[str]] = None,
                            metadata: Optional[dict[str, Any]] = None, **kwargs: Any) -> None:
        self._model_start("chat", "chat_model", lambda: genai.input_messages([m for batch in messages for m in batch]),
                          run_id, parent_run_id, tags, metadata, kwargs)

    def on_llm_start(self, serialized: Optional[dict[str, Any]], prompts: list[str], *, run_id: UUID,
                     parent_run_id: Optional[UUID] = None, tags: Optional[list[str]] = None,
                     metadata: Optional[dict[str, Any]] = None, **kwargs: Any) -> None:
        self._model_start("text_completion", "llm", lambda: genai.prompt_messages(prompts),
                          run_id, parent_run_id, tags, metadata, kwargs)

    def on_llm_new_token(self, token: str, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._runs.get(run_id)
        if run is not None and run.first_token is None:
            run.first_token = time.monotonic()

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._runs.get(run_id)
        if run is None:
            return
        attributes = genai.response_attributes(response)
        if run.first_token is not None:
            attributes["gen_ai.response.time_to_first_chunk"] = run.first_token - run.started
        if self.capture_content:
            attributes["gen_ai.output.messages"] = genai.output_messages(response)
        self._end(run_id, attributes)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error=error)

    def on_tool_start(self, serialized: Optional[dict[str, Any]], input_str: str, *, run_id: UUID,
                      parent_run_id: Optional[UUID] = None, tags: Optional[list[str]] = None,
                      metadata: Optional[dict[str, Any]] = None, **kwargs: Any) -> None:
        name = kwargs.get("name") or (serialized or {}).get("name") or "tool"
        attributes: dict[str, Any] = {"hookchain.run_type": "tool", "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name}
        description = (serialized or {}).get("description")
        if isinstance(description, str) and description:
            attributes["gen_ai.tool.description"] = description
        call_id = kwargs.get("tool_call_id")
        if isinstance(call_id, str):
            attributes["gen_ai.tool.call.id"] = call_id
        inputs = kwargs.get("inputs")
        attributes.update(self._content("gen_ai.tool.call.arguments", inputs if inputs is not None else input_str))
        self._start(run_id, parent_run_id, f"execute_tool {name}", SpanKind.INTERNAL, attributes, tags, metadata)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, self._content("gen_ai.tool.call.result", getattr(output, "content", output)))

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error=error)

    def on_retriever_start(self, serialized: Optional[dict[str, Any]], query: str, *, run_id: UUID,
                           parent_run_id: Optional[UUID] = None, tags: Optional[list[str]] = None,
                           metadata: Optional[dict[str, Any]] = None, **kwargs: Any) -> None:
        name = kwargs.get("name") or (serialized or {}).get("name") or "retriever"
        self._start(run_id, parent_run_id, name, SpanKind.INTERNAL,
                    {"hookchain.run_type": "retriever", **self._content("input.value", query)}, tags, metadata)

    def on_retriever_end(self, documents: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, self._content("output.value", documents))

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error=error)
