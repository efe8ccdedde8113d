"""hookchain: LangChain's callback and chat-model API on pluggy hooks.

The top-level package stays cheap to import; submodules load on first use:

* ``hookchain.hookspec`` / ``hookchain.hookimpl``: the pluggy markers plugins use.
* ``hookchain.get_model(name, **options)`` / ``hookchain.get_handler(name, **options)``:
  build what an installed plugin registered.
* The LangChain-shaped API lives in ``hookchain.messages``, ``hookchain.outputs``,
  ``hookchain.prompts``, ``hookchain.callbacks``, ``hookchain.language_models``
  and ``hookchain.runnables``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~6 ms to import: the annotations are strings (see __future__)
if TYPE_CHECKING:
    from typing import Any

from hookchain import _upcalls
from hookchain._version import __version__

__all__ = ["hookspec", "hookimpl", "get_model", "get_handler", "__version__"]


def __getattr__(name: str) -> Any:
    # The pluggy markers, loaded on first use: pluggy (and the ``inspect``
    # module it imports) is for plugins, not for `import hookchain.messages`.
    if name in ("hookimpl", "hookspec"):
        from hookchain import hookspecs

        return getattr(hookspecs, name)
    raise AttributeError(f"module 'hookchain' has no attribute {name!r}")


def get_model(name: str, **options: Any) -> Any:
    """See ``hookchain.plugins.get_model``."""
    from hookchain.plugins import get_model as _get_model

    return _get_model(name, **options)


def get_handler(name: str, **options: Any) -> Any:
    """See ``hookchain.plugins.get_handler``."""
    from hookchain.plugins import get_handler as _get_handler

    return _get_handler(name, **options)


# The calls lower layers make into higher ones (see hookchain._upcalls).
def _first_run() -> None:
    from hookchain.config import autoload

    autoload()


def _chat_prompt(parts: list) -> Any:
    from hookchain.prompts.chat import ChatPromptTemplate

    return ChatPromptTemplate(parts)


def _runnable_lambda(func: Any, name: str) -> Any:
    from hookchain.runnables.base import RunnableLambda

    return RunnableLambda(func, name=name)


def _adapt_handler(obj: Any) -> Any:
    from hookchain.plugins import adapt_handler

    return adapt_handler(obj)


_upcalls.first_run, _upcalls.chat_prompt, _upcalls.runnable_lambda = _first_run, _chat_prompt, _runnable_lambda
_upcalls.adapt_handler = _adapt_handler
