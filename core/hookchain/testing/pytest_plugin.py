"""hookchain's pytest plugin (the ``pytest11`` entry point ``hookchain``).

Loaded by pytest in every project where hookchain is installed, so it stays
inert: it imports nothing from hookchain beyond this package's ``__init__`` at
load time and only adds

* the ``hookchain_conformance`` marker, put on every test of a
  ``ChatModelConformance``/``CallbackHandlerConformance`` subclass (select
  them with ``-m hookchain_conformance``);
* the fixtures ``hookchain_recorder`` (a ``RecordingHandler``) and
  ``hookchain_isolated`` (no config-enabled handlers, no config autoload).

The conformance suites do not need it; disable it with ``-p no:hookchain``.
"""

from __future__ import annotations

import sys
from typing import Any, Iterator

import pytest

_SUITES = (("hookchain.testing.model_suite", "ChatModelConformance"),
           ("hookchain.testing.handler_suite", "CallbackHandlerConformance"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "hookchain_conformance: a check of hookchain's plugin conformance suites (added automatically)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Only when a suite was imported by a collected test module: otherwise
    # nothing is looked at and nothing is imported.
    suites = tuple(getattr(sys.modules[m], c) for m, c in _SUITES if m in sys.modules)
    if not suites:
        return
    marker = pytest.mark.hookchain_conformance
    for item in items:
        cls = getattr(item, "cls", None)
        if cls is not None and issubclass(cls, suites):
            item.add_marker(marker)


@pytest.fixture
def hookchain_recorder() -> Any:
    """A ``hookchain.testing.RecordingHandler``: pass it as a callback, then read ``.events``."""
    from hookchain.testing.recording import RecordingHandler

    return RecordingHandler()


@pytest.fixture
def hookchain_isolated() -> Iterator[None]:
    """No config-enabled handlers join the test's runs and no config file is read."""
    from hookchain.testing.recording import isolated

    with isolated():
        yield
