"""Shared fixtures: a recording handler and isolation of process-global state."""

from __future__ import annotations

import os
import signal
import tempfile

import pytest

# A shell without job control starts background jobs with SIGINT ignored, and a
# Python started so keeps ignoring it (no KeyboardInterrupt), as do its children.
# The Ctrl-C tests need the ordinary disposition wherever the suite is started.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# The plugin index (hookchain.plugin_index) of the test run lives in a temporary
# directory, never in the user's cache; CLI subprocesses inherit it.
os.environ["HOOKCHAIN_CACHE_DIR"] = tempfile.mkdtemp(prefix="hookchain-test-cache-")

from hookchain.callbacks import BaseCallbackHandler
from hookchain import model_hooks as _model_hooks
from hookchain.callbacks import manager as _manager


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: takes tens of seconds (e.g. builds a virtualenv); runs in CI too, skip locally with -m 'not slow'")
    # pytest rewrites the asserts of every module of a distribution declaring a
    # pytest11 entry point; setuptools' editable install leaves core/hookchain.egg-info
    # on sys.path, which makes that all of hookchain. hookchain's modules are library
    # code: rewriting them made each lazy import during a test run ast.parse, which
    # on CPython 3.11 can fail spuriously while another thread builds an AST too
    # ("SystemError: AST constructor recursion depth mismatch", python/cpython#106905;
    # seen once in a loaded run). Test modules and conftests are still rewritten.
    hook = getattr(config.pluginmanager, "rewrite_hook", None)
    marked = getattr(hook, "_must_rewrite", None)
    if isinstance(marked, set) and "hookchain" in marked:
        marked.discard("hookchain")
        getattr(hook, "_marked_for_rewrite_cache", {}).clear()


def _recording(event: str):
    def method(self, *args, run_id=None, parent_run_id=None, **kwargs):
        self.events.append((event, run_id, parent_run_id, args, kwargs))

    return method


def _init(self) -> None:
    self.events = []


#: Records ``(event, run_id, parent_run_id, args, kwargs)`` for every callback event.
Recorder = type(
    "Recorder",
    (BaseCallbackHandler,),
    {"__init__": _init, **{event: _recording(event) for event in _manager.CALLBACK_EVENTS}},
)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def _other_repo_plugins() -> str:
    """Entry points of this repo's other plugin distributions (openai, cache,
    redact...), installed by the test environment but not under test here."""
    from importlib.metadata import entry_points

    return ",".join(sorted(
        ep.name for ep in entry_points(group="hookchain")
        if ep.dist is not None and ep.dist.name.startswith("hookchain-")
        and ep.dist.name not in ("hookchain-echo", "hookchain-stdout")
    ))


OTHER_REPO_PLUGINS = _other_repo_plugins()


@pytest.fixture(autouse=True)
def _only_reference_plugins(monkeypatch):
    """Tests in this folder see the echo and stdout plugins only (also in CLI
    subprocesses, through HOOKCHAIN_DISABLE_PLUGINS)."""
    from hookchain import plugins

    if OTHER_REPO_PLUGINS and os.environ.get("HOOKCHAIN_DISABLE_PLUGINS") != OTHER_REPO_PLUGINS:
        monkeypatch.setenv("HOOKCHAIN_DISABLE_PLUGINS", OTHER_REPO_PLUGINS)
        plugins.reset()


@pytest.fixture(autouse=True)
def _no_global_handlers(monkeypatch):
    """No config file is read and no handler is enabled unless a test does it."""
    monkeypatch.setattr(_manager, "_enabled", ())
    monkeypatch.setattr(_manager, "_autoload_pending", False)
    monkeypatch.setattr(_model_hooks, "_pm", None)
    monkeypatch.setattr(_model_hooks, "active", False)
