"""Fixtures of the hookchain-otel tests: process-state isolation, the ``otel``
handler on an in-memory exporter, and a real Arize Phoenix server (once per session)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from hookchain import plugins
from hookchain.testing import isolated

from hookchain_otel import OtelHandler

OTEL_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_SERVICE_NAME", "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    """No config file is read, no handler is enabled unless the test does it,
    the plugin under test is discovered, and no OpenTelemetry variable of the
    environment applies."""
    for variable in ("HOOKCHAIN_DISABLE_PLUGINS", "HOOKCHAIN_PLUGINS", "HOOKCHAIN_DISABLE_PLUGIN_AUTOLOAD", "HOOKCHAIN_CONFIG",
                     *OTEL_VARIABLES):
        monkeypatch.delenv(variable, raising=False)
    if "otel" not in plugins.list_handlers():  # another folder's tests switched it off
        plugins.reset()
    with isolated():
        yield


@dataclass
class Recorded:
    """An ``OtelHandler`` whose spans go to an in-memory exporter."""

    handler: OtelHandler
    exporter: InMemorySpanExporter

    def spans(self) -> list[Any]:
        """The finished spans, in start order."""
        return sorted(self.exporter.get_finished_spans(), key=lambda s: s.start_time)

    def by_name(self, name: str) -> list[Any]:
        return [s for s in self.spans() if s.name == name]


def recorded(**options: Any) -> Recorded:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Recorded(OtelHandler(**options, tracer_provider=provider), exporter)


@pytest.fixture
def otel() -> Recorded:
    return recorded()


# --------------------------------------------------------------------------- #
# Arize Phoenix, a real OpenTelemetry backend
# --------------------------------------------------------------------------- #


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Phoenix:
    url: str
    log: Path
    started_in: float  # seconds from the process start to a healthy /healthz

    def spans(self) -> list[dict[str, Any]]:
        """Every span Phoenix stored in the project ``default`` (its REST API, all pages)."""
        out: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = "limit=1000" + (f"&cursor={cursor}" if cursor else "")
            with urllib.request.urlopen(f"{self.url}/v1/projects/default/spans?{query}", timeout=60) as response:
                page = json.load(response)
            out.extend(page["data"])
            cursor = page.get("next_cursor")
            if not cursor:
                return out


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


#: Arize Phoenix lives in its own virtualenv: its dependencies (fastmcp-slim wants mcp<2) cannot
#: share one with the LiteLLM proxy of the OpenAI plugin's tests (litellm[proxy] wants mcp>=2.2).
PHOENIX_REQUIREMENTS = Path(__file__).with_name("phoenix-requirements.txt")
PHOENIX_VENV = Path(__file__).resolve().parents[3] / ".venv-phoenix"


class PhoenixEnv:
    """The virtualenv holding Arize Phoenix (``PHOENIX_VENV``), installed from
    ``phoenix-requirements.txt`` when missing or made from another version of
    that file. ``start()`` installs it in a background thread, so the install
    overlaps the tests collected before the Phoenix ones; ``python()`` waits for it."""

    def __init__(self, venv: Path = PHOENIX_VENV) -> None:
        self.venv = venv
        self.stamp = venv / "hookchain-phoenix.sha256"
        self.log = venv.with_name(venv.name + ".log")
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    @property
    def _python(self) -> Path:
        return self.venv / "bin" / "python"

    def _wanted(self) -> str:
        return hashlib.sha256(PHOENIX_REQUIREMENTS.read_bytes()).hexdigest()

    def ready(self) -> bool:
        return self._python.exists() and self.stamp.exists() and self.stamp.read_text() == self._wanted()

    def _install(self) -> None:
        with self.log.open("wb") as out:
            steps = [[sys.executable, "-m", "venv", "--clear", str(self.venv)],
                     [str(self._python), "-m", "pip", "install", "--disable-pip-version-check", "-r", str(PHOENIX_REQUIREMENTS)]]
            for step in steps:
                if subprocess.run(step, stdout=out, stderr=subprocess.STDOUT, timeout=1800).returncode:
                    self.error = f"{' '.join(step[:4])}... failed; see {self.log}:\n" + self.log.read_text(errors="replace")[-3000:]
                    return
        self.stamp.write_text(self._wanted())

    def start(self) -> None:
        if self._thread is None and not self.ready():
            self._thread = threading.Thread(target=self._install, name="install-phoenix", daemon=True)
            self._thread.start()

    def python(self) -> Path:
        """The Phoenix environment's interpreter; installs it first if needed.
        Raises ``RuntimeError`` with pip's output when the install failed."""
        self.start()
        if self._thread is not None:
            self._thread.join(timeout=1800)  # a hang guard: about 3 minutes on a quiet machine
        if not self.ready():
            raise RuntimeError(self.error or f"the Phoenix environment {self.venv} was not installed in time")
        return self._python


PHOENIX_ENV = PhoenixEnv()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Start installing Phoenix's environment as soon as a collected test needs it."""
    if any("phoenix" in getattr(item, "fixturenames", ()) for item in items):
        PHOENIX_ENV.start()


@pytest.fixture(scope="session")
def phoenix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Phoenix]:
    """``phoenix serve`` on 127.0.0.1 (free ports, a temporary working directory,
    nothing leaves the machine), from its own virtualenv, started once for the
    session and always stopped."""
    try:
        python = PHOENIX_ENV.python()
    except RuntimeError as e:
        pytest.fail(f"could not install Arize Phoenix for the end-to-end tests: {e}")
    workdir = tmp_path_factory.mktemp("phoenix")
    port, grpc_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PHOENIX_", "PYTHON", "VIRTUAL_ENV"))}
    env.update({"PHOENIX_WORKING_DIR": str(workdir), "PHOENIX_HOST": "127.0.0.1", "PHOENIX_PORT": str(port),
                "PHOENIX_GRPC_PORT": str(grpc_port), "PHOENIX_TELEMETRY_ENABLED": "false"})
    log = workdir / "phoenix.log"
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen([str(python), "-m", "phoenix.server.main", "serve"], cwd=workdir, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 300  # a hang guard: about 15-40 s on a loaded 2-core machine
        while not _healthy(f"http://127.0.0.1:{port}/healthz"):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:]
                pytest.fail(f"Phoenix did not start (exit code {process.poll()}); its log ends with:\n{tail}")
            time.sleep(0.5)
        yield Phoenix(f"http://127.0.0.1:{port}", log, time.monotonic() - started)
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
