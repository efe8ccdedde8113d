"""The plugin author kit: conformance test suites for hookchain plugins.

Subclass a suite in your plugin's tests and set a few class attributes; pytest
runs every check against the model or handler your plugin registers::

    from hookchain.testing import ChatModelConformance

    class TestShoutConformance(ChatModelConformance):
        model_name = "shout"
        model_options = {"exclamations": 2}

* ``ChatModelConformance``: discovery through the entry point, invoke / batch /
  stream / astream / astream_events, stop sequences, callbacks and their run
  tree, usage and response metadata, option validation, secrets kept out of
  reprs and callback payloads, errors surfacing as ``on_llm_error``; opt-in
  (``has_tool_calling``, ``has_structured_output``): ``bind_tools`` tool calls,
  the ``ToolMessage`` round trip, ``tool_choice``, ``with_structured_output``.
* ``LLMConformance``: the same for a text-completion model (``LLM``/``BaseLLM``):
  on_llm_start with the prompts, invoke / batch / stream, errors.
* ``CallbackHandlerConformance``: every event accepts LangChain's arguments, a
  raising handler never breaks a run, options from a config file reach it.
* ``RecordingHandler``: a handler recording every event (for your own tests).
* ``isolated()``: no config-enabled handlers and no config autoload inside.
* ``ConformanceChatModel``: a small streaming chat model (not registered) to
  drive handlers in your own tests.

hookchain registers ``hookchain.testing.pytest_plugin`` with pytest (the
``pytest11`` entry point ``hookchain``); it only adds fixtures
(``hookchain_recorder``, ``hookchain_isolated``) and the
``hookchain_conformance`` marker, and imports nothing else. The suites work
without it. This package loads its parts on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ChatModelConformance", "LLMConformance", "CallbackHandlerConformance", "RecordingHandler", "Event",
    "isolated", "ConformanceChatModel", "ConformanceFailure", "python_blocks",
]

_WHERE = {
    "ChatModelConformance": "hookchain.testing.model_suite",
    "LLMConformance": "hookchain.testing.llm_suite",
    "CallbackHandlerConformance": "hookchain.testing.handler_suite",
    "RecordingHandler": "hookchain.testing.recording",
    "Event": "hookchain.testing.recording",
    "isolated": "hookchain.testing.recording",
    "ConformanceChatModel": "hookchain.testing.models",
    "ConformanceFailure": "hookchain.testing.models",
    "python_blocks": "hookchain.testing.docs",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'hookchain.testing' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
