"""A handler that records every callback event, and process-state isolation."""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator, NamedTuple, Optional
from uuid import UUID

from hookchain.callbacks.base import BaseCallbackHandler
from hookchain.hookspecs import CALLBACK_EVENTS

__all__ = ["Event", "RecordingHandler", "isolated"]


class Event(NamedTuple):
    """One recorded callback: the event name, its positional arguments and its
    keyword arguments (``run_id``, ``parent_run_id``, ``tags``... as passed)."""

    name: str
    args: tuple
    kwargs: dict

    @property
    def run_id(self) -> Optional[UUID]:
        return self.kwargs.get("run_id")

    @property
    def parent_run_id(self) -> Optional[UUID]:
        return self.kwargs.get("parent_run_id")


def _recorder(event: str) -> Any:
    def method(self: "RecordingHandler", *args: Any, **kwargs: Any) -> None:
        with self._lock:
            self.events.append(Event(event, args, kwargs))

    method.__name__ = event
    return method


class _RecordingBase(BaseCallbackHandler):
    run_inline = True  # in async runs, record on the loop thread, in order

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def of(self, *names: str, run_id: Optional[UUID] = None) -> list[Event]:
        """The recorded events named ``names`` (all events if none), optionally of one run."""
        return [e for e in self.events if (not names or e.name in names) and (run_id is None or e.run_id == run_id)]

    @property
    def names(self) -> list[str]:
        """Event names in the order they fired."""
        return [e.name for e in self.events]

    def clear(self) -> None:
        with self._lock:
            self.events.clear()


#: Records every callback event as an ``Event`` in ``.events``, in firing order.
RecordingHandler = type(
    "RecordingHandler",
    (_RecordingBase,),
    {
        "__module__": __name__,
        "__doc__": "A handler recording every callback event as an ``Event(name, args, kwargs)``\n"
                   "in ``.events`` (in firing order); ``.of(*names, run_id=...)`` filters them.",
        **{event: _recorder(event) for event in CALLBACK_EVENTS},
    },
)


@contextlib.contextmanager
def isolated() -> Iterator[None]:
    """Inside: no config-enabled handlers join runs, no chat-model hook plugin
    is enabled, and no config file is read (a ``hookchain.toml`` in the working
    directory cannot add handlers to a test's runs). Restores all on exit."""
    from hookchain import model_hooks
    from hookchain.callbacks import manager

    saved = manager._enabled, manager._autoload_pending, model_hooks._pm, model_hooks.active
    manager._enabled, manager._autoload_pending = (), False
    model_hooks._pm, model_hooks.active = None, False
    try:
        yield
    finally:
        manager._enabled, manager._autoload_pending, model_hooks._pm, model_hooks.active = saved
