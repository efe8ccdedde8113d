"""``RunnableConfig`` and its propagation (as ``langchain_core.runnables.config``).

A config travels down the run tree: a runnable passes its children a copy
whose ``callbacks`` is its run manager's child manager. User code running
inside a run (a ``RunnableLambda``'s function, a model's ``_generate``) sees the
current child config through a context variable, so a nested ``invoke`` joins
the run tree without being handed the config; context variables follow
threads started through ``run_in_executor`` and asyncio tasks.
"""

from __future__ import annotations

import contextvars
import os
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any, Callable, Optional, Sequence, TypedDict, TypeVar

from hookchain._lazy import lazy_import

asyncio = lazy_import("asyncio")  # loaded on first use: sync-only programs never pay for it

__all__ = [
    "RunnableConfig", "ensure_config", "patch_config", "merge_configs",
    "get_config_list", "run_in_executor", "var_child_runnable_config",
]

T = TypeVar("T")


class RunnableConfig(TypedDict, total=False):
    """Options for one call of a runnable; every key is optional.

    Keys:
        callbacks: handlers for this run and its children (list of handlers, or
            a callback manager).
        tags: ``list[str]``, inherited by child runs.
        metadata: ``dict[str, Any]``, inherited by child runs.
        run_name: name of this run (default: the runnable's name).
        run_id: ``uuid.UUID`` of this run (not inherited).
        max_concurrency: ``int``, maximum parallel calls in ``batch``/``abatch``
            and in parallel branches (default: no limit for ``abatch``, the
            executor's workers for ``batch``).
        recursion_limit: ``int``, maximum nesting depth (default 25).
        configurable: ``dict[str, Any]`` of values for configurable fields.
    """

    callbacks: Any
    tags: list[str]
    metadata: dict[str, Any]
    run_name: str
    run_id: Any
    max_concurrency: Optional[int]
    recursion_limit: int
    configurable: dict[str, Any]


CONFIG_KEYS = frozenset(RunnableConfig.__annotations__)
DEFAULT_RECURSION_LIMIT = 25

var_child_runnable_config: contextvars.ContextVar[Optional[RunnableConfig]] = contextvars.ContextVar(
    "child_runnable_config", default=None
)


def ensure_config(config: Optional[RunnableConfig] = None) -> RunnableConfig:
    """A complete config: defaults, then the context's current child config, then
    ``config``. A str ``model`` or ``checkpoint_ns`` in ``configurable`` is
    copied into ``metadata``, as LangChain's. Raises ``TypeError`` naming an
    unknown key (LangChain moves unknown keys into ``configurable`` silently)."""
    empty: RunnableConfig = {
        "tags": [], "metadata": {}, "callbacks": None,
        "recursion_limit": DEFAULT_RECURSION_LIMIT, "configurable": {},
    }
    parent = var_child_runnable_config.get()
    if parent is not None:
        empty.update(parent)  # type: ignore[typeddict-item]
    if config is not None:
        for key, value in config.items():
            if value is None and key in ("tags", "metadata", "configurable", "recursion_limit"):
                continue
            if key not in CONFIG_KEYS:
                raise TypeError(
                    f"unknown RunnableConfig key {key!r}; known keys: {', '.join(sorted(CONFIG_KEYS))} "
                    f"(put model settings in 'configurable')"
                )
            empty[key] = value  # type: ignore[literal-required]
    if empty["configurable"]:
        _configurable_to_metadata(empty)
    return empty


def _configurable_to_metadata(config: RunnableConfig) -> None:
    # As LangChain's ensure_config: a str ``model`` / ``checkpoint_ns`` in
    # ``configurable`` is also run metadata (unless metadata has the key).
    for key in ("model", "checkpoint_ns"):
        value = config["configurable"].get(key)
        if isinstance(value, str) and key not in config["metadata"]:
            config["metadata"] = {**config["metadata"], key: value}


def patch_config(
    config: Optional[RunnableConfig],
    *,
    callbacks: Any = None,
    recursion_limit: Optional[int] = None,
    max_concurrency: Optional[int] = None,
    run_name: Optional[str] = None,
    configurable: Optional[dict[str, Any]] = None,
) -> RunnableConfig:
    """A copy of ``config`` for a child: new ``callbacks`` (the child manager)
    drop ``run_name`` and ``run_id``, which name only the parent run."""
    new: RunnableConfig = dict(config) if config is not None else ensure_config()  # type: ignore[assignment]
    if callbacks is not None:
        new["callbacks"] = callbacks
        new.pop("run_name", None)
        new.pop("run_id", None)
    if recursion_limit is not None:
        new["recursion_limit"] = recursion_limit
    if max_concurrency is not None:
        new["max_concurrency"] = max_concurrency
    if run_name is not None:
        new["run_name"] = run_name
    if configurable is not None:
        new["configurable"] = {**new.get("configurable", {}), **configurable}
    return new


def merge_configs(*configs: Optional[RunnableConfig]) -> RunnableConfig:
    """Merge configs left to right: tags are united (sorted, as LangChain), metadata and
    configurable merge, callbacks combine, other keys: last one wins."""
    merged: dict[str, Any] = {}
    for config in configs:
        if not config:
            continue
        for key, value in config.items():
            if key == "tags":
                merged["tags"] = sorted({*merged.get("tags", []), *(value or [])})
            elif key in ("metadata", "configurable"):
                merged[key] = {**merged.get(key, {}), **(value or {})}
            elif key == "callbacks":
                merged["callbacks"] = _merge_callbacks(merged.get("callbacks"), value)
            else:
                merged[key] = value
    return merged  # type: ignore[return-value]


def _merge_callbacks(base: Any, new: Any) -> Any:
    if not base:
        return new
    if not new:
        return base
    if isinstance(base, list) and isinstance(new, list):
        return base + [h for h in new if h not in base]
    if isinstance(base, list):  # new is a manager: add the list to a copy of it
        manager = new.copy()
        for handler in base:
            manager.add_handler(handler, inherit=True)
        return manager
    manager = base.copy()
    for handler in new if isinstance(new, list) else new.handlers:
        manager.add_handler(handler, inherit=True)
    return manager


def get_config_list(config: Optional[RunnableConfig | Sequence[RunnableConfig]], length: int) -> list[RunnableConfig]:
    """One config per input of a batch: a list must have ``length`` items
    (``ValueError`` otherwise); a single config is copied, with its ``run_id``
    kept for the first input only."""
    if isinstance(config, (list, tuple)):
        if len(config) != length:
            raise ValueError(f"batch got {len(config)} configs for {length} inputs; pass one config or one per input")
        return [ensure_config(c) for c in config]
    base = ensure_config(config)
    configs = [dict(base) for _ in range(length)]
    if base.get("run_id") is not None:
        for c in configs[1:]:
            c.pop("run_id", None)
    return configs  # type: ignore[return-value]


_executor: Optional[ThreadPoolExecutor] = None
#: Threads of the shared pool (``ThreadPoolExecutor``'s own default).
POOL_WORKERS = min(32, (os.cpu_count() or 1) + 4)


def _shared_executor() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(POOL_WORKERS, thread_name_prefix="hookchain")
    return _executor


async def run_in_executor(
    executor_or_config: Optional[Executor | RunnableConfig], func: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    """Run sync ``func(*args, **kwargs)`` in a thread without blocking the event
    loop, carrying the current context (so the run tree follows), as LangChain's
    ``run_in_executor``. ``executor_or_config``: an ``Executor``, or a config /
    ``None`` for the default executor. A ``StopIteration`` raised by ``func`` is
    turned into ``RuntimeError`` (it cannot cross a future)."""
    ctx = contextvars.copy_context()

    def wrapper() -> T:
        try:
            return ctx.run(func, *args, **kwargs)
        except StopIteration as e:
            raise RuntimeError from e

    executor = executor_or_config if isinstance(executor_or_config, Executor) else None
    return await asyncio.get_running_loop().run_in_executor(executor, wrapper)


def call_in_context(config: RunnableConfig, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``func`` with ``config`` as the context's current child config."""
    ctx = contextvars.copy_context()
    ctx.run(var_child_runnable_config.set, config)
    return ctx.run(func, *args, **kwargs)


def set_child_config(config: RunnableConfig) -> contextvars.Token:
    """Make ``config`` the current child config; reset with the returned token."""
    return var_child_runnable_config.set(config)

