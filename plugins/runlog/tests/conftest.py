"""Fixtures of the hookchain-runlog tests: process-state isolation and the
``runlog`` handler, built through its entry point, on a temporary file."""

from __future__ import annotations

import pytest

import hookchain
from hookchain import plugins
from hookchain.callbacks import disable_handler, enable_handler
from hookchain.testing import isolated


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """No config file is read, no handler is enabled unless the test does it,
    the plugins under test are discovered, and the user dirs are temporary ones."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    for variable in ("HOOKCHAIN_DISABLE_PLUGINS", "HOOKCHAIN_PLUGINS", "HOOKCHAIN_DISABLE_PLUGIN_AUTOLOAD", "HOOKCHAIN_CONFIG"):
        monkeypatch.delenv(variable, raising=False)
    if "runlog" not in plugins.list_handlers():  # another folder's tests switched it off
        plugins.reset()
    with isolated():
        yield


@pytest.fixture
def runlog(tmp_path):
    """The ``runlog`` handler on ``tmp_path/runs.sqlite``, enabled (as a config file does)."""
    handler = hookchain.get_handler("runlog", path=str(tmp_path / "runs.sqlite"))
    enable_handler(handler)
    yield handler
    disable_handler(handler)
    handler.flush(60)
    handler.store.close()
