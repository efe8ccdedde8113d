"""Run records built from callback events (as ``langchain_core.tracers``):
``Run`` and the root-run listeners behind ``Runnable.with_listeners``."""

from hookchain.tracers.root_listeners import AsyncRootListenersTracer, RootListenersTracer
from hookchain.tracers.schemas import Run

__all__ = ["Run", "RootListenersTracer", "AsyncRootListenersTracer"]
