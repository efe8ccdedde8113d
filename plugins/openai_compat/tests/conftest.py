"""Fixtures of the hookchain-openai tests.

* ``recorder``: a handler recording every callback event.
* ``fake_server``: a small in-process HTTP server speaking just enough of the
  OpenAI API to replay recorded answers and to misbehave on purpose (cut a
  stream mid-way, send garbage, fail N times then succeed); it records every
  request. For the mapping and failure tests.
* ``litellm_proxy``: a REAL OpenAI-compatible server, the LiteLLM proxy, run
  once per test session on 127.0.0.1 with ``mock_response`` models (no network,
  no model weights). For the end-to-end tests.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

from hookchain.callbacks import BaseCallbackHandler
from hookchain.callbacks import manager as _manager

# --------------------------------------------------------------------------- #
# Recording handler and isolation
# --------------------------------------------------------------------------- #


class _RecorderBase(BaseCallbackHandler):
    def __init__(self) -> None:
        self.events: list[tuple[str, Any, Any, tuple, dict]] = []

    def names(self) -> list[str]:
        return [e[0] for e in self.events]

    def of(self, name: str) -> list[tuple[str, Any, Any, tuple, dict]]:
        return [e for e in self.events if e[0] == name]


def _recording(event: str) -> Callable[..., None]:
    def method(self: Any, *args: Any, run_id: Any = None, parent_run_id: Any = None, **kwargs: Any) -> None:
        self.events.append((event, run_id, parent_run_id, args, kwargs))

    return method


#: Records ``(event, run_id, parent_run_id, args, kwargs)`` for every callback event.
Recorder = type("Recorder", (_RecorderBase,), {e: _recording(e) for e in _manager.CALLBACK_EVENTS})


@pytest.fixture
def recorder() -> Any:
    return Recorder()


@pytest.fixture(autouse=True)
def _openai_plugin_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin under test is discovered, whatever tests that ran before
    (e.g. the repo's tests/, which hide the non-reference plugins) left behind."""
    from hookchain import plugins

    for var in ("HOOKCHAIN_DISABLE_PLUGINS", "HOOKCHAIN_PLUGINS", "HOOKCHAIN_DISABLE_PLUGIN_AUTOLOAD"):
        monkeypatch.delenv(var, raising=False)
    if "openai" not in plugins.list_models():
        plugins.reset()


@pytest.fixture(autouse=True)
def _no_global_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    """No config file is read and no handler is enabled unless a test does it."""
    monkeypatch.setattr(_manager, "_enabled", ())
    monkeypatch.setattr(_manager, "_autoload_pending", False)


# --------------------------------------------------------------------------- #
# A scriptable fake OpenAI server
# --------------------------------------------------------------------------- #


def sse(obj: Any) -> bytes:
    """One server-sent event (``data: <json>``)."""
    data = obj if isinstance(obj, str) else json.dumps(obj)
    return f"data: {data}\n\n".encode()


def text_chunks(text: str, *, model: str = "gpt-4o-mini", size: int = 4, usage: bool = True,
                finish: Optional[str] = "stop") -> list[dict[str, Any]]:
    """A stream as OpenAI sends it: a role chunk, content chunks, a finish chunk,
    a usage chunk with empty ``choices``."""
    base = {"id": "chatcmpl-rec1", "object": "chat.completion.chunk", "created": 1, "model": model}
    out = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}]
    for i in range(0, len(text), size):
        out.append({**base, "choices": [{"index": 0, "delta": {"content": text[i:i + size]}, "finish_reason": None}]})
    if finish:
        out.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    if usage:
        out.append({**base, "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14}})
    return out


def completion(text: str, *, model: str = "gpt-4o-mini", finish: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-rec2", "object": "chat.completion", "created": 1, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
    }


class Reply:
    """What the fake server does with one request (see ``FakeServer.script``)."""

    def __init__(self, status: int = 200, body: Any = None, *, events: Optional[list[Any]] = None,
                 headers: Optional[dict[str, str]] = None, cut_after: Optional[int] = None,
                 close_delimited: bool = False, delay: float = 0.0, raw: Optional[bytes] = None) -> None:
        self.status, self.body, self.events, self.headers = status, body, events, headers or {}
        self.cut_after, self.close_delimited, self.delay, self.raw = cut_after, close_delimited, delay, raw


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._send_json(200, {"object": "list", "data": []})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        owner = self.server.owner
        with owner.lock:
            owner.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            model = (body or {}).get("model")
            queue = owner.scripts.get(model)
            reply = queue.pop(0) if queue and len(queue) > 1 else (queue[0] if queue else None)
        if reply is None:
            self._send_json(404, {"error": {"message": f"The model `{model}` does not exist.", "type": "NotFoundError", "code": 404}})
            return
        if reply.delay:
            time.sleep(reply.delay)
        if reply.raw is not None:
            self.wfile.write(reply.raw)
            self.close_connection = True
            return
        if reply.events is None:
            self._send_json(reply.status, reply.body, reply.headers)
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", "text/event-stream")
        for k, v in reply.headers.items():
            self.send_header(k, v)
        if reply.close_delimited:
            self.send_header("Connection", "close")
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        events = [e if isinstance(e, bytes) else sse(e) for e in reply.events]
        for i, data in enumerate(events):
            if reply.cut_after is not None and i >= reply.cut_after:
                self.close_connection = True  # the connection drops mid-body
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(data if reply.close_delimited else b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        if reply.close_delimited:
            self.close_connection = True
            return
        self.wfile.write(b"0\r\n\r\n")

    def _send_json(self, status: int, obj: Any, headers: Optional[dict[str, str]] = None) -> None:
        data = obj.encode() if isinstance(obj, str) else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if not isinstance(obj, str) else "text/html")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: "FakeServer"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up on purpose (timeouts, cut streams) are not news


class FakeServer:
    """``script(model, Reply, Reply, ...)``: requests for ``model`` get the
    replies in order, the last one repeating. ``requests`` records each
    request's path, headers and JSON body."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.scripts: dict[str, list[Reply]] = {}
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True, name="fake-openai")
        self.thread.start()

    def script(self, model: str, *replies: Reply) -> None:
        with self.lock:
            self.scripts[model] = list(replies)

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.scripts.clear()

    def requests_for(self, model: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if (r["body"] or {}).get("model") == model]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def _fake_server() -> Iterator[FakeServer]:
    server = FakeServer()
    yield server
    server.close()


@pytest.fixture
def fake_server(_fake_server: FakeServer) -> Iterator[FakeServer]:
    _fake_server.reset()
    yield _fake_server
    _fake_server.reset()


# --------------------------------------------------------------------------- #
# The real server: a LiteLLM proxy with mock_response models
# --------------------------------------------------------------------------- #

#: The answer of the ``mock-gpt`` model; LiteLLM streams mock answers 3 characters a chunk.
MOCK_TEXT = "Hello from the LiteLLM proxy: this answer is streamed in small pieces."

_PROXY_CONFIG = f"""
model_list:
  - model_name: mock-gpt
    litellm_params: {{model: openai/mock-gpt, api_key: unused, mock_response: {json.dumps(MOCK_TEXT)}}}
  - model_name: mock-rate-limited
    litellm_params: {{model: openai/mock-rate-limited, api_key: unused, mock_response: "litellm.RateLimitError"}}
  - model_name: mock-broken
    litellm_params: {{model: openai/mock-broken, api_key: unused, mock_response: "litellm.InternalServerError"}}
  - model_name: mock-stream-error
    litellm_params: {{model: openai/mock-stream-error, api_key: unused, mock_response: "Exception: mock_streaming_error"}}
  - model_name: mock-tools
    litellm_params:
      model: openai/mock-tools
      api_key: unused
      mock_response: ""
      mock_tool_calls:
        - {{id: call_1, type: function, function: {{name: get_weather, arguments: '{{"city": "Paris"}}'}}}}
  - model_name: mock-tool-user
    # no mock in the config: the tool_loop hook below answers every request
    litellm_params: {{model: openai/mock-tool-user, api_key: unused, api_base: "http://127.0.0.1:9/v1"}}
litellm_settings:
  num_retries: 0
  request_timeout: 30
  callbacks: tool_loop.tool_loop
router_settings:
  num_retries: 0
general_settings:
  custom_auth: auth_rule.user_api_key_auth
"""

# Without a database, LiteLLM answers any key other than the master key with
# "400 No connected db."; this rule (LiteLLM's documented custom_auth hook)
# makes it answer a wrong key with 401, as OpenAI, vLLM (--api-key) and
# llama.cpp (--api-key) do.
_AUTH_RULE = '''
import os
import secrets

from litellm.proxy._types import ProxyException, UserAPIKeyAuth


async def user_api_key_auth(request, api_key: str) -> UserAPIKeyAuth:
    if secrets.compare_digest(api_key, os.environ["LITELLM_MASTER_KEY"]):
        return UserAPIKeyAuth(api_key=api_key)
    raise ProxyException(message="Authentication Error: invalid API key", type="auth_error", param="api_key", code=401)
'''


# LiteLLM's config-file mocks can carry tool calls (mock_tool_calls), but only
# in non-streamed answers (its mock stream sends the text alone), and they
# answer the same whatever the request says. This pre-call hook (LiteLLM's
# documented CustomLogger.async_pre_call_hook) makes the ``mock-tool-user``
# model answer from the request, as a tool-using model would, with a
# ModelResponse as its mock_response, which LiteLLM serialises (and streams)
# itself:
# * after a tool message: "The answer is <the tool's content>.";
# * with tools (tool_choice not "none"): a call of the chosen tool (the
#   tool_choice dict's, else the first), its arguments filled from the tool's
#   schema (strings "Ada", integers 2, 3, ... in order, numbers 1.5, booleans
#   true); broken JSON when the last user message says "bad arguments";
# * with response_format json_schema: the same filling of its schema, as JSON text;
# * with response_format json_object: {"answer": 42};
# * otherwise: "No tool called."
_TOOL_LOOP_HOOK = '''
import json

from litellm.integrations.custom_logger import CustomLogger
from litellm.types.utils import ModelResponse


def fill(schema):
    out, n = {}, 2
    for name, prop in (schema.get("properties") or {}).items():
        kind = prop.get("type")
        if kind == "integer":
            out[name], n = n, n + 1
        else:
            out[name] = {"number": 1.5, "boolean": True, "array": [], "object": {}}.get(kind, "Ada")
    return out


def text(message):
    content = message.get("content") or ""
    return content if isinstance(content, str) else " ".join(b.get("text", "") for b in content if isinstance(b, dict))


class ToolLoop(CustomLogger):
    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
        if data.get("model") != "mock-tool-user":
            return data
        last = data["messages"][-1]
        tools, choice, fmt = data.get("tools") or [], data.get("tool_choice"), data.get("response_format") or {}
        if last.get("role") == "tool":
            data["mock_response"] = "The answer is " + text(last) + "."
        elif tools and choice != "none":
            name = choice["function"]["name"] if isinstance(choice, dict) else tools[0]["function"]["name"]
            function = next(t["function"] for t in tools if t["function"]["name"] == name)
            args = json.dumps(fill(function.get("parameters") or {}))
            if "bad arguments" in text(last):
                args = args[:-3]
            call = {"id": "call_" + name, "type": "function", "function": {"name": name, "arguments": args}}
            data["mock_response"] = ModelResponse(model="mock-tool-user", choices=[{
                "index": 0, "finish_reason": "tool_calls",
                "message": {"role": "assistant", "content": None, "tool_calls": [call]}}])
        elif fmt.get("type") == "json_schema":
            data["mock_response"] = json.dumps(fill(fmt["json_schema"]["schema"]))
        elif fmt.get("type") == "json_object":
            data["mock_response"] = json.dumps({"answer": 42})
        else:
            data["mock_response"] = "No tool called."
        return data


tool_loop = ToolLoop()
'''


class Proxy:
    def __init__(self, base_url: str, key: str, log: Path) -> None:
        self.base_url, self.key, self.log = base_url, key, log


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def litellm_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    if importlib.util.find_spec("litellm") is None:  # (a submodule spec would import litellm here)
        pytest.skip("litellm is not installed, so there is no real OpenAI-compatible server to test against: "
                    "pip install -r tests/requirements.txt (it pins litellm[proxy])")
    workdir = tmp_path_factory.mktemp("litellm")
    (workdir / "config.yaml").write_text(_PROXY_CONFIG)
    (workdir / "auth_rule.py").write_text(textwrap.dedent(_AUTH_RULE))
    (workdir / "tool_loop.py").write_text(_TOOL_LOOP_HOOK)
    key = "sk-hc-" + secrets.token_hex(16)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LITELLM_"))}
    env.update({"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_MASTER_KEY": key, "LITELLM_LOG": "ERROR",
                "PYTHONPATH": str(workdir), "NO_DOCS": "True"})
    log = workdir / "proxy.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "litellm.proxy.proxy_cli", "--config", str(workdir / "config.yaml"),
             "--host", "127.0.0.1", "--port", str(port), "--telemetry", "False"],
            cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        while not _alive(f"http://127.0.0.1:{port}/health/liveliness"):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:]
                pytest.fail(f"the LiteLLM proxy did not start (exit code {process.poll()}); its log ends with:\n{tail}")
            time.sleep(0.2)
        yield Proxy(f"http://127.0.0.1:{port}/v1", key, log)
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
