"""Where the spans go: the tracer provider the handler uses.

* The global tracer provider, when the application installed one
  (``opentelemetry.trace.set_tracer_provider``): the handler's spans join the
  application's own, with its exporters and sampling.
* Else a provider of this plugin, one per distinct (endpoint, headers,
  protocol, service name), shared by the handlers that use them: a
  ``BatchSpanProcessor`` (bounded queue, its own thread; a full queue drops
  spans, a run never waits) in front of an OTLP exporter. Export failures are
  logged once per provider as one warning (the exporter's own per-batch logs
  are kept below the ``CRITICAL`` level). At process exit the providers are
  flushed with one attempt per batch (no retries: an unreachable collector
  costs no wait), waiting at most ``EXIT_TIMEOUT`` seconds, then shut down.
"""

from __future__ import annotations

import atexit
import logging
import threading
from typing import Any, Optional, Sequence

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

__all__ = ["Destination", "global_provider", "own_provider", "flush_provider", "flush_all", "EXIT_TIMEOUT"]

logger = logging.getLogger("hookchain_otel")

#: Seconds the process waits at exit for its spans to be exported.
EXIT_TIMEOUT = 5.0
#: Spans waiting for export at most (per provider); more are dropped.
MAX_QUEUE = 2048
_EXPORTER_LOGGERS = ("opentelemetry.exporter.otlp.common.http", "opentelemetry.exporter.otlp.proto.http",
                     "opentelemetry.exporter.otlp.proto.grpc")


class Destination(tuple):
    """``(endpoint, headers, protocol, service_name)``: what identifies an own provider.
    ``headers`` is a tuple of ``(name, value)`` pairs."""

    __slots__ = ()

    def __new__(cls, endpoint: str, headers: tuple[tuple[str, str], ...], protocol: str, service_name: str) -> "Destination":
        return super().__new__(cls, (endpoint, headers, protocol, service_name))

    def __repr__(self) -> str:  # never the headers' values (they often hold an API key)
        return f"Destination(endpoint={self[0]!r}, protocol={self[2]!r}, service_name={self[3]!r})"


class _WarnOnce(SpanExporter):
    """Passes batches to ``exporter``; the first failed export logs one warning."""

    def __init__(self, exporter: SpanExporter, destination: Destination) -> None:
        self.exporter, self.destination = exporter, destination
        self.failures = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self.exporter.export(spans)
        except Exception as e:  # noqa: BLE001 - an exporter's bug is not the run's problem
            result, error = SpanExportResult.FAILURE, e
        else:
            error = None
        if result is not SpanExportResult.SUCCESS:
            self.failures += 1
            if self.failures == 1:
                logger.warning("hookchain-otel: could not export %d span(s) to %s over %s%s; spans that cannot be "
                               "exported are dropped (further failures are not logged)", len(spans), self.destination[0],
                               self.destination[2], f": {error!r}" if error else " (is the collector running?)")
        return result

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.exporter.force_flush(timeout_millis)


def _exporter(destination: Destination) -> SpanExporter:
    endpoint, headers, protocol, _ = destination
    if protocol == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
        except ImportError:
            raise ImportError("hookchain-otel: protocol 'grpc' needs the gRPC exporter: pip install 'hookchain-otel[grpc]' "
                              "(or use protocol 'http/protobuf')") from None
        return GrpcExporter(endpoint=endpoint, headers=dict(headers) or None)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=endpoint, headers=dict(headers) or None)


_providers: dict[Destination, TracerProvider] = {}
_exporters: list[SpanExporter] = []  # the OTLP exporters of those providers
_lock = threading.Lock()


def global_provider() -> Optional[Any]:
    """The tracer provider the application installed globally, or ``None`` (none set yet)."""
    provider = trace.get_tracer_provider()
    return None if isinstance(provider, trace.ProxyTracerProvider) else provider


def own_provider(destination: Destination) -> TracerProvider:
    """The plugin's provider exporting to ``destination`` (made on first use).
    Raises ``ImportError`` for ``grpc`` without its exporter installed."""
    provider = _providers.get(destination)
    if provider is not None:
        return provider
    with _lock:
        provider = _providers.get(destination)
        if provider is None:
            for name in _EXPORTER_LOGGERS:  # one warning of ours instead of one error per failed batch
                if logging.getLogger(name).level == logging.NOTSET:
                    logging.getLogger(name).setLevel(logging.CRITICAL)
            provider = TracerProvider(resource=Resource.create({"service.name": destination[3]}), shutdown_on_exit=False)
            exporter = _exporter(destination)
            provider.add_span_processor(BatchSpanProcessor(_WarnOnce(exporter, destination), max_queue_size=MAX_QUEUE))
            _exporters.append(exporter)
            _providers[destination] = provider
            if len(_providers) == 1:
                atexit.register(_at_exit)
    return provider


def flush_all(timeout: Optional[float] = None) -> bool:
    """Export every span ended so far by the plugin's providers; ``timeout`` in
    seconds bounds the wait (``None``: until done). Returns whether all were exported or failed."""
    done = True
    for provider in list(_providers.values()):
        done = flush_provider(provider, timeout) and done
    return done


def flush_provider(provider: Any, timeout: Optional[float]) -> bool:
    """``provider.force_flush`` on a helper thread, waiting ``timeout`` seconds at most
    (the SDK's batch processor does not honour its own timeout)."""
    flush = getattr(provider, "force_flush", None)
    if flush is None:
        return True
    result: list[bool] = []
    worker = threading.Thread(target=lambda: result.append(bool(flush())), name="hookchain-otel-flush", daemon=True)
    worker.start()
    worker.join(timeout)
    return bool(result and result[0])


def _stop_retrying(exporter: SpanExporter) -> None:
    """Make ``exporter`` give up a failed batch at once instead of backing off
    and retrying: the event its retry loop checks between attempts (set by its
    own shutdown; the OTLP/HTTP exporter's client has it as ``_shutdown_event``,
    the gRPC one as ``_shutdown_in_progress``). A no-op for other exporters."""
    for owner in (getattr(exporter, "_client", None), exporter):
        for name in ("_shutdown_event", "_shutdown_in_progress"):
            event = getattr(owner, name, None)
            if isinstance(event, threading.Event):
                event.set()
                return


def _at_exit() -> None:
    for exporter in list(_exporters):
        _stop_retrying(exporter)
    if not flush_all(EXIT_TIMEOUT):
        logger.warning("hookchain-otel: spans still unexported after %s s at exit; they are lost", EXIT_TIMEOUT)
    for provider in list(_providers.values()):
        threading.Thread(target=provider.shutdown, daemon=True).start()  # never waits for an unreachable collector
