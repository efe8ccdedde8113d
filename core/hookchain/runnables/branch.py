"""``RunnableBranch``: the first branch whose condition holds (as
``langchain_core.runnables.branch``).

One chain run wraps the choice: condition ``i`` runs as a child tagged
``condition:i``, the chosen branch as a child tagged ``branch:i`` (or
``branch:default``), as LangChain's.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Iterator, Mapping, Optional

from hookchain.runnables.base import Runnable, _achain_stream, _aclosing, _chain_stream, coerce_to_runnable
from hookchain.runnables.config import RunnableConfig, ensure_config, patch_config
from hookchain.runnables.utils import ConfigurableFieldSpec, get_unique_config_specs

__all__ = ["RunnableBranch"]


class RunnableBranch(Runnable):
    """``RunnableBranch((condition, runnable), ..., default)``: runs the
    runnable of the first condition that is true for the input, else
    ``default``, as LangChain's ``RunnableBranch``.

    Args:
        *branches: ``(condition, runnable)`` pairs (tuples or lists of 2), then
            the default. A condition is a runnable or a function (sync or
            ``async def``) of the input returning a truth value; runnables may
            also be functions or dicts of them.

    Raises:
        ValueError: fewer than 2 arguments, or a pair that is not of length 2.
        TypeError: a pair that is not a tuple or list, or a default that is
            not a runnable, a callable or a dict.

    Conditions are always ``invoke``d (``ainvoke`` in async calls); the chosen
    runnable is invoked, or streamed by ``stream``/``astream``.
    """

    def __init__(self, *branches: Any, name: Optional[str] = None) -> None:
        if len(branches) < 2:
            raise ValueError(f"RunnableBranch needs at least 2 arguments ((condition, runnable) pairs then a default), got {len(branches)}")
        default = branches[-1]
        if not (isinstance(default, (Runnable, Mapping)) or callable(default)):
            raise TypeError(f"RunnableBranch default must be a runnable, a callable or a dict, got {type(default).__name__}")
        pairs = []
        for i, branch in enumerate(branches[:-1], 1):
            if not isinstance(branch, (tuple, list)):
                raise TypeError(f"RunnableBranch branch {i} must be a (condition, runnable) tuple, got {type(branch).__name__}")
            if len(branch) != 2:
                raise ValueError(f"RunnableBranch branch {i} must be a (condition, runnable) pair, got {len(branch)} items")
            pairs.append((coerce_to_runnable(branch[0]), coerce_to_runnable(branch[1])))
        self.branches: list[tuple[Runnable, Runnable]] = pairs
        self.default: Runnable = coerce_to_runnable(default)
        self.name = name

    def __repr__(self) -> str:
        return f"RunnableBranch(branches={self.branches!r}, default={self.default!r})"

    @property
    def config_specs(self) -> list[ConfigurableFieldSpec]:
        steps = [step for pair in self.branches for step in pair] + [self.default]
        return get_unique_config_specs(spec for step in steps for spec in step.config_specs)

    @staticmethod
    def _child(config: RunnableConfig, rm: Any, tag: str) -> RunnableConfig:
        return patch_config(config, callbacks=rm.get_child(tag))

    def _choose(self, input: Any, config: RunnableConfig, rm: Any) -> tuple[Runnable, RunnableConfig]:
        for i, (condition, runnable) in enumerate(self.branches, 1):
            if condition.invoke(input, self._child(config, rm, f"condition:{i}")):
                return runnable, self._child(config, rm, f"branch:{i}")
        return self.default, self._child(config, rm, "branch:default")

    async def _achoose(self, input: Any, config: RunnableConfig, rm: Any) -> tuple[Runnable, RunnableConfig]:
        for i, (condition, runnable) in enumerate(self.branches, 1):
            if await condition.ainvoke(input, self._child(config, rm, f"condition:{i}")):
                return runnable, self._child(config, rm, f"branch:{i}")
        return self.default, self._child(config, rm, "branch:default")

    def invoke(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Any:
        """The chosen runnable's ``invoke`` output (``kwargs`` passed on)."""
        def run(value: Any, config: RunnableConfig, rm: Any) -> Any:
            runnable, child = self._choose(value, config, rm)
            return runnable.invoke(value, child, **kwargs)

        return self._call_with_config(run, input, config)

    async def ainvoke(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Any:
        """Async ``invoke``."""
        async def run(value: Any, config: RunnableConfig, rm: Any) -> Any:
            runnable, child = await self._achoose(value, config, rm)
            return await runnable.ainvoke(value, child, **kwargs)

        return await self._acall_with_config(run, input, config)

    def stream(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Iterator[Any]:
        """The chosen runnable's ``stream``; the run's output is the ``+`` of
        its chunks (``None`` if they cannot be added), as LangChain."""
        config = ensure_config(config)
        rm = self._start_chain(config, input)
        try:
            runnable, child = self._choose(input, config, rm)
            chunks = runnable.stream(input, child, **kwargs)
        except BaseException as e:
            rm.on_chain_error(e)
            raise
        yield from _chain_stream(rm, chunks)

    async def astream(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> AsyncIterator[Any]:
        """Async ``stream``."""
        config = ensure_config(config)
        rm = await self._astart_chain(config, input)
        try:
            runnable, child = await self._achoose(input, config, rm)
            chunks = runnable.astream(input, child, **kwargs)
        except BaseException as e:
            await rm.on_chain_error(e)
            raise
        async with _aclosing(_achain_stream(rm, chunks)) as out:
            async for chunk in out:
                yield chunk
