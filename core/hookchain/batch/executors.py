"""Where a batch's rows run: the built-in ``local`` executor (this process,
asyncio), or one a plugin adds with the ``register_executors`` hook (e.g.
``ray``, from hookchain-ray).

An executor is an object with two methods::

    prepare(spec: BatchSpec) -> None
    run(spec: BatchSpec, rows: list[Row], on_record: Callable[[dict], None]) -> None

``prepare`` is called before OUTPUT is opened: it raises what is wrong with the
spec (an unknown model or handler, a bad option, an unreachable cluster), so a
bad command writes nothing. ``run`` runs every row of ``rows`` with ``spec``'s rules (``hookchain.batch.engine``)
and calls ``on_record(record)`` in the calling thread, once per row, as rows
finish; the caller writes OUTPUT. It must call it exactly once per row it
finishes, never for a row it did not (a record the driver has not received is
simply redone by ``--resume``).
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Protocol

from hookchain.batch.engine import BatchSpec, build_chain, process_rows
from hookchain.batch.rows import BatchInputError, Row
from hookchain.errors import UnknownNameError

__all__ = ["Executor", "LocalExecutor", "get_executor", "list_executors"]


class Executor(Protocol):
    def prepare(self, spec: BatchSpec) -> None: ...

    def run(self, spec: BatchSpec, rows: list[Row], on_record: Callable[[dict[str, Any]], None]) -> None: ...


class LocalExecutor:
    """Rows run in this process, on one asyncio event loop (``engine.process_rows``)."""

    def __init__(self) -> None:
        self.chain: Any = None

    def prepare(self, spec: BatchSpec) -> None:
        self.chain = build_chain(spec)

    def run(self, spec: BatchSpec, rows: list[Row], on_record: Callable[[dict[str, Any]], None]) -> None:
        if rows:
            asyncio.run(process_rows(self.chain or build_chain(spec), spec, rows, on_record))


def list_executors() -> dict[str, Callable[..., Any]]:
    """Executor name -> factory: ``local`` and what the enabled plugins'
    ``register_executors`` hooks add (the first plugin to register a name wins)."""
    from hookchain.plugins import call_registration_hook

    found: dict[str, Callable[..., Any]] = {"local": LocalExecutor}

    def register(name: str, factory: Callable[..., Any]) -> None:
        found.setdefault(name, factory)

    call_registration_hook("register_executors", register=register)
    return found


def get_executor(name: str, **options: Any) -> Any:
    """The executor ``name`` built with ``options`` (e.g. ``address=...`` for ray).

    Raises ``UnknownNameError`` listing the executors there are (install
    hookchain-ray for ``ray``), ``BatchInputError`` for options given to ``local``."""
    if name == "local":
        if options:
            raise BatchInputError(f"the local executor takes no options (got {', '.join(map(repr, options))}); "
                                  "-X and --ray-address are for --executor ray")
        return LocalExecutor()
    known = list_executors()
    if name not in known:
        hint = " Install hookchain-ray (pip install -e plugins/ray) for `--executor ray`." if name == "ray" else ""
        raise UnknownNameError("executor", name, known, hint)
    return known[name](**options)
