"""Calls from a lower layer into a higher one, installed by the package's
``__init__`` (the composition root, imported before any submodule), so that
no module imports a layer above it (see ARCHITECTURE.md):

* ``first_run()``: run once before the first root run of the process (the
  callback layer calls it; ``hookchain.config`` reads the config file and
  enables its handlers).
* ``chat_prompt(parts)``: a ``ChatPromptTemplate`` of ``parts`` (``message +
  other`` and ``message_template + other`` build one, as LangChain's).
* ``runnable_lambda(func, name)``: a ``RunnableLambda`` (the message utilities
  called without messages return one for a chain, as LangChain's).
* ``adapt_handler(obj)``: the hookchain handler a plugin's ``adapt_callback_handler``
  hook makes of another library's handler object, or ``None`` (the callback
  layer asks when ``callbacks=`` holds something that is not a hookchain handler).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~6 ms to import: the annotations are strings (see __future__)
if TYPE_CHECKING:
    from typing import Any, Callable


def _uninstalled(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("hookchain._upcalls used before hookchain/__init__.py installed it")


first_run: Callable[[], None] = _uninstalled
chat_prompt: Callable[[list], Any] = _uninstalled
runnable_lambda: Callable[..., Any] = _uninstalled
adapt_handler: Callable[[Any], Any] = _uninstalled
