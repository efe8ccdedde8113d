"""hookchain-langchain: the bridge between hookchain and ``langchain_core``.

* The ``langchain`` model: any LangChain chat model as a hookchain model
  (``class = "langchain_openai:ChatOpenAI"`` plus its constructor's options).
* LangChain callback handlers as hookchain handlers: pass one in ``callbacks=``
  (this plugin's ``adapt_callback_handler`` hook wraps it) or enable the
  ``langchain`` handler (``[handlers.langchain] class = "module:Class"``).
* hookchain inside LangChain: ``as_langchain(model)`` and
  ``as_langchain_handler(handler)``.

Importing this module is cheap: ``langchain_core`` is imported when the bridge
is first used.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

import hookchain

__all__ = ["as_langchain", "as_langchain_handler", "from_langchain", "adapt", "to_langchain", "to_hookchain"]

_WHERE = {
    "as_langchain": "hookchain_langchain.as_langchain",
    "as_langchain_handler": "hookchain_langchain.handler",
    "adapt": "hookchain_langchain.handler",
    "from_langchain": "hookchain_langchain.chat_model",
    "to_langchain": "hookchain_langchain.convert",
    "to_hookchain": "hookchain_langchain.convert",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'hookchain_langchain' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def _model(**options: Any) -> Any:
    """Any LangChain chat model: option ``class`` (``"module:Class"``), the others
    to its constructor (see ``hookchain_langchain.chat_model.langchain_model``)."""
    from hookchain_langchain.chat_model import langchain_model

    return langchain_model(**options)


def _handler(**options: Any) -> Any:
    """Any LangChain callback handler: option ``class`` (``"module:Class"``), the
    others to its constructor (see ``hookchain_langchain.handler.langchain_handler``)."""
    from hookchain_langchain.handler import langchain_handler

    return langchain_handler(**options)


@hookchain.hookimpl
def register_models(register: Callable) -> None:
    register("langchain", _model)


@hookchain.hookimpl
def register_handlers(register: Callable) -> None:
    register("langchain", _handler)


@hookchain.hookimpl
def adapt_callback_handler(handler: Any) -> Any:
    # An object can only be a LangChain handler if langchain_core is imported.
    base = sys.modules.get("langchain_core.callbacks.base")
    if base is None or not isinstance(handler, base.BaseCallbackHandler):
        return None
    from hookchain_langchain.handler import adapt

    return adapt(handler)
