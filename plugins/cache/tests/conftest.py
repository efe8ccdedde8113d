"""Fixtures of the hookchain-cache tests: process-state isolation, a model that
counts its calls, a recording handler and a cache in a temporary file."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import pytest

import hookchain
from hookchain import plugins
from hookchain.callbacks import BaseCallbackHandler, disable_handler, enable_handler
from hookchain.hookspecs import CALLBACK_EVENTS
from hookchain.testing import isolated
from hookchain_echo import EchoChatModel


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """No config file is read, no handler is enabled unless the test does it,
    the plugins under test are discovered, and the user cache dir is a temporary one."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    for variable in ("HOOKCHAIN_DISABLE_PLUGINS", "HOOKCHAIN_PLUGINS", "HOOKCHAIN_DISABLE_PLUGIN_AUTOLOAD", "HOOKCHAIN_CONFIG"):
        monkeypatch.delenv(variable, raising=False)
    if "cache" not in plugins.list_handlers():  # another folder's tests switched it off
        plugins.reset()
    with isolated():
        yield


class CountingEcho(EchoChatModel):
    """The echo model, recording the texts of the messages of every real call
    (one entry per call, whichever of invoke/stream/async ran it)."""

    seen: ClassVar[list[list[str]]] = []
    lock: ClassVar[threading.Lock] = threading.Lock()

    def _answer(self, messages, stop):
        with self.lock:
            self.seen.append([m.text for m in messages])
        return super()._answer(messages, stop)


@pytest.fixture
def model() -> CountingEcho:
    CountingEcho.seen = []
    return CountingEcho(n=20)


def _record(event: str) -> Any:
    def method(self, *args, **kwargs):
        self.events.append((event, args, kwargs))

    return method


def _init(self) -> None:
    self.events = []


def _of(self, name: str) -> list:
    return [e for e in self.events if e[0] == name]


#: Records ``(event, args, kwargs)`` for every callback event; ``.of(name)`` filters.
Recorder = type("Recorder", (BaseCallbackHandler,), {
    "run_inline": True, "__init__": _init, "of": _of, **{event: _record(event) for event in CALLBACK_EVENTS},
})


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def cache(tmp_path):
    """The ``cache`` handler (built through the entry point) on a temporary file, enabled."""
    handler = hookchain.get_handler("cache", path=str(tmp_path / "cache.sqlite"))
    enable_handler(handler)
    yield handler
    disable_handler(handler)
    handler.store.close()
