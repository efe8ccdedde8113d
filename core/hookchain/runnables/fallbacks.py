"""A runnable that tries others when it fails (as
``langchain_core.runnables.fallbacks``): what ``Runnable.with_fallbacks``
returns.

One chain run named ``RunnableWithFallbacks`` wraps the attempts; each
attempt (the runnable, then each fallback in order) is a child run of it.
"""

from __future__ import annotations

import typing
from functools import wraps
from typing import Any, AsyncIterator, Iterator, Optional, Sequence

from hookchain._lazy import lazy_import
from hookchain.runnables.base import (
    Runnable, _achain_stream, _aclosing, _arecorded, _chain_stream, _recorded, coerce_to_runnable,
)
from hookchain.runnables.config import RunnableConfig, ensure_config, get_config_list, patch_config
from hookchain.runnables.utils import ConfigurableFieldSpec, get_unique_config_specs

asyncio = lazy_import("asyncio")

__all__ = ["RunnableWithFallbacks"]


class RunnableWithFallbacks(Runnable):
    """``runnable``, and if it raises one of ``exceptions_to_handle``, each of
    ``fallbacks`` in turn on the same input, as LangChain's
    ``RunnableWithFallbacks``; the first output wins.

    Args:
        runnable: the runnable tried first (a runnable, a function, a dict).
        fallbacks: the runnables tried next, in order.
        exceptions_to_handle: tuple of exception classes that move on to the
            next fallback (default ``(Exception,)``); any other exception is
            raised at once.
        exception_key: if set, the input must be a dict, and each fallback
            gets it with the previous attempt's exception under this key
            (hookchain passes a copy; LangChain writes the key into the
            caller's dict).

    Raises:
        the first attempt's exception when every attempt failed with a handled
        exception; ``ValueError`` if ``exception_key`` is set and the input is
        not a dict.

    Streaming (``stream``/``astream``) falls back only until the first chunk:
    an error after it is raised. Attributes not found here are read from
    ``runnable``; a method of it that returns a runnable (``bind_tools``,
    ``bind``...) is applied to ``runnable`` and to every fallback, giving a new
    ``RunnableWithFallbacks``.
    """

    def __init__(
        self, runnable: Any, fallbacks: Sequence[Any], *,
        exceptions_to_handle: tuple[type[BaseException], ...] = (Exception,),
        exception_key: Optional[str] = None, name: Optional[str] = None,
    ) -> None:
        if isinstance(fallbacks, (str, bytes)) or not isinstance(fallbacks, Sequence):
            raise TypeError(f"with_fallbacks needs a list of runnables, got {type(fallbacks).__name__}")
        if isinstance(exceptions_to_handle, type):
            exceptions_to_handle = (exceptions_to_handle,)
        self.runnable = coerce_to_runnable(runnable)
        self.fallbacks = [coerce_to_runnable(f) for f in fallbacks]
        self.exceptions_to_handle = tuple(exceptions_to_handle)
        self.exception_key = exception_key
        self.name = name

    @property
    def config_specs(self) -> list[ConfigurableFieldSpec]:
        return get_unique_config_specs(spec for step in (self.runnable, *self.fallbacks) for spec in step.config_specs)

    @property
    def runnables(self) -> Iterator[Runnable]:
        """``runnable`` then each fallback."""
        yield self.runnable
        yield from self.fallbacks

    @property
    def InputType(self) -> Any:  # noqa: N802
        return self.runnable.InputType

    @property
    def OutputType(self) -> Any:  # noqa: N802
        return self.runnable.OutputType

    def __repr__(self) -> str:
        return f"RunnableWithFallbacks(runnable={self.runnable!r}, fallbacks={self.fallbacks!r})"

    def _check(self, input: Any) -> None:
        if self.exception_key is not None and not isinstance(input, dict):
            raise ValueError(
                f"with_fallbacks(exception_key={self.exception_key!r}) needs a dict input, got "
                f"{type(input).__name__}; pass a dict or drop exception_key"
            )

    def _next_input(self, input: Any, error: Optional[BaseException]) -> Any:
        if self.exception_key is None or error is None:
            return input
        return {**input, self.exception_key: error}

    # -- invoke ------------------------------------------------------------ #
    def invoke(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Any:
        """Each attempt's ``invoke`` in turn (see the class), in one chain run."""
        self._check(input)
        config = ensure_config(config)
        rm = self._start_chain(config, input)
        first_error: Optional[BaseException] = None
        last_error: Optional[BaseException] = None
        for runnable in self.runnables:
            value = self._next_input(input, last_error)
            try:
                output = runnable.invoke(value, patch_config(config, callbacks=rm.get_child()), **kwargs)
            except self.exceptions_to_handle as e:
                first_error = first_error or e
                last_error = e
            except BaseException as e:
                rm.on_chain_error(e)
                raise
            else:
                rm.on_chain_end(output)
                return output
        rm.on_chain_error(first_error)
        raise first_error  # type: ignore[misc]

    async def ainvoke(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Any:
        """Async ``invoke``."""
        self._check(input)
        config = ensure_config(config)
        rm = await self._astart_chain(config, input)
        first_error: Optional[BaseException] = None
        last_error: Optional[BaseException] = None
        for runnable in self.runnables:
            value = self._next_input(input, last_error)
            try:
                output = await runnable.ainvoke(value, patch_config(config, callbacks=rm.get_child()), **kwargs)
            except self.exceptions_to_handle as e:
                first_error = first_error or e
                last_error = e
            except BaseException as e:
                await rm.on_chain_error(e)
                raise
            else:
                await rm.on_chain_end(output)
                return output
        await rm.on_chain_error(first_error)
        raise first_error  # type: ignore[misc]

    # -- batch ------------------------------------------------------------- #
    def _batch_setup(self, inputs: Sequence[Any], config: Any) -> list[RunnableConfig]:
        for value in inputs:
            self._check(value)
        return get_config_list(config, len(inputs))

    def _batch_round(
        self, pending: dict[int, Any], outputs: list[Any], errors: dict[int, BaseException],
        done: dict[int, Any], return_exceptions: bool,
    ) -> tuple[Optional[BaseException], list[int]]:
        """Sort one round's ``outputs`` (of the inputs ``pending``, by index):
        the first unhandled error to raise, and the indexes that succeeded."""
        to_raise: Optional[BaseException] = None
        succeeded: list[int] = []
        for (i, value), output in zip(sorted(pending.items()), outputs):
            if isinstance(output, self.exceptions_to_handle):
                pending[i] = self._next_input(value, output)
                errors[i] = output
            elif isinstance(output, BaseException):
                if return_exceptions:
                    errors[i] = output
                else:
                    to_raise = to_raise or output
                del pending[i]
            else:
                done[i] = output
                errors.pop(i, None)
                del pending[i]
                succeeded.append(i)
        return to_raise, succeeded

    def batch(self, inputs: Sequence[Any], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any) -> list[Any]:
        """Each attempt's ``batch`` over the inputs still failing, one chain
        run per input (as LangChain: a non-dict input is reported at start as
        ``{"input": value}``); an input's first handled error is kept if all
        its attempts failed."""
        configs = self._batch_setup(inputs, config)
        if not inputs:
            return []
        rms = [self._start_chain(c, v if isinstance(v, dict) else {"input": v}) for c, v in zip(configs, inputs)]
        pending, errors, done = dict(enumerate(inputs)), {}, {}
        for runnable in self.runnables:
            order = sorted(pending)
            outputs = runnable.batch([pending[i] for i in order],
                                     [patch_config(configs[i], callbacks=rms[i].get_child()) for i in order],
                                     return_exceptions=True, **kwargs)
            to_raise, succeeded = self._batch_round(pending, outputs, errors, done, return_exceptions)
            for i in succeeded:
                rms[i].on_chain_end(done[i])
            if to_raise is not None:
                raise to_raise
            if not pending:
                break
        for i, error in sorted(errors.items()):
            rms[i].on_chain_error(error)
        return self._batch_result(errors, done, return_exceptions)

    async def abatch(self, inputs: Sequence[Any], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any) -> list[Any]:
        """Async ``batch`` (the inputs are reported at start as they are, as LangChain)."""
        configs = self._batch_setup(inputs, config)
        if not inputs:
            return []
        rms = list(await asyncio.gather(*(self._astart_chain(c, v) for c, v in zip(configs, inputs))))
        pending, errors, done = dict(enumerate(inputs)), {}, {}
        for runnable in self.runnables:
            order = sorted(pending)
            outputs = await runnable.abatch([pending[i] for i in order],
                                            [patch_config(configs[i], callbacks=rms[i].get_child()) for i in order],
                                            return_exceptions=True, **kwargs)
            to_raise, succeeded = self._batch_round(pending, outputs, errors, done, return_exceptions)
            for i in succeeded:
                await rms[i].on_chain_end(done[i])
            if to_raise is not None:
                raise to_raise
            if not pending:
                break
        await asyncio.gather(*(rms[i].on_chain_error(e) for i, e in sorted(errors.items())))
        return self._batch_result(errors, done, return_exceptions)

    @staticmethod
    def _batch_result(errors: dict[int, BaseException], done: dict[int, Any], return_exceptions: bool) -> list[Any]:
        """The outputs in input order; the first error raised unless ``return_exceptions``."""
        if errors and not return_exceptions:
            raise errors[min(errors)]
        done.update(errors)
        return [out for _, out in sorted(done.items())]

    # -- stream ------------------------------------------------------------ #
    def stream(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Iterator[Any]:
        """The first attempt whose stream yields a first chunk, streamed on;
        the run's output is the ``+`` of the chunks (``None`` if they cannot
        be added), as LangChain."""
        self._check(input)
        config = ensure_config(config)
        rm = self._start_chain(config, input)
        first_error: Optional[BaseException] = None
        last_error: Optional[BaseException] = None
        stream: Any = None
        for runnable in self.runnables:
            value = self._next_input(input, last_error)
            try:
                stream = runnable.stream(value, patch_config(config, callbacks=rm.get_child()), **kwargs)
                chunk = next(stream)
            except self.exceptions_to_handle as e:
                first_error = first_error or e
                last_error = e
            except BaseException as e:
                rm.on_chain_error(e)
                raise
            else:
                break
        else:
            rm.on_chain_error(first_error)
            raise first_error  # type: ignore[misc]
        yield from _chain_stream(rm, _recorded(chunk, stream, None), stream)

    async def astream(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> AsyncIterator[Any]:
        """Async ``stream``."""
        self._check(input)
        config = ensure_config(config)
        rm = await self._astart_chain(config, input)
        first_error: Optional[BaseException] = None
        last_error: Optional[BaseException] = None
        stream: Any = None
        for runnable in self.runnables:
            value = self._next_input(input, last_error)
            try:
                stream = runnable.astream(value, patch_config(config, callbacks=rm.get_child()), **kwargs)
                chunk = await stream.__anext__()
            except self.exceptions_to_handle as e:
                first_error = first_error or e
                last_error = e
            except BaseException as e:
                await rm.on_chain_error(e)
                raise
            else:
                break
        else:
            await rm.on_chain_error(first_error)
            raise first_error  # type: ignore[misc]
        async with _aclosing(_achain_stream(rm, _arecorded(chunk, stream, None), stream)) as chunks:
            async for chunk in chunks:
                yield chunk

    # -- the wrapped runnable's attributes ----------------------------------- #
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or "runnable" not in self.__dict__:
            raise AttributeError(name)
        attr = getattr(self.runnable, name)
        if not _returns_runnable(attr):
            return attr

        @wraps(attr)
        def each(*args: Any, **kwargs: Any) -> "RunnableWithFallbacks":
            return RunnableWithFallbacks(
                attr(*args, **kwargs), [getattr(f, name)(*args, **kwargs) for f in self.fallbacks],
                exceptions_to_handle=self.exceptions_to_handle, exception_key=self.exception_key, name=self.name,
            )

        return each


def _returns_runnable(attr: Any) -> bool:
    if not callable(attr) or isinstance(attr, type):
        return False
    try:
        hint = typing.get_type_hints(attr).get("return")
    except Exception:  # noqa: BLE001 - unresolvable annotations: not a runnable factory
        return False
    return hint is not None and _is_runnable_type(hint)


def _is_runnable_type(hint: Any) -> bool:
    if isinstance(hint, type):
        return issubclass(hint, Runnable)
    origin = typing.get_origin(hint)
    if origin is typing.Union:
        return all(_is_runnable_type(a) for a in typing.get_args(hint))
    return isinstance(origin, type) and issubclass(origin, Runnable)
