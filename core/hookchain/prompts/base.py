"""``BasePromptTemplate``: what every prompt template shares (as
``langchain_core.prompts.base``): its variables, partial variables, input
checking, and running as a chain run with ``run_type="prompt"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable, ClassVar, Optional, Union

from hookchain.errors import PromptInputError, TemplateError
from hookchain.prompt_values import PromptValue
from hookchain.runnables.base import Runnable
from hookchain.runnables.config import RunnableConfig

__all__ = ["BasePromptTemplate"]

#: Arguments every template takes (as LangChain's ``BasePromptTemplate`` fields).
COMMON_ARGS = ("input_variables", "optional_variables", "partial_variables", "input_types", "metadata", "tags",
               "name", "output_parser")


class BasePromptTemplate(Runnable):
    """Base class of prompt templates.

    Attributes:
        input_variables: names the caller must pass (sorted; partial and
            optional variables excluded).
        optional_variables: names that may be left out (optional ``MessagesPlaceholder``).
        partial_variables: ``{name: value or zero-argument callable}`` filled in
            before the caller's values (callables are called at each format).
        metadata, tags: added to the config of the template's runs.
    """

    #: The constructor arguments that define the template (equality, copies, repr).
    _args: ClassVar[tuple[str, ...]] = ()

    input_variables: list[str]
    optional_variables: list[str]
    partial_variables: dict[str, Any]

    def _init_common(self, kwargs: dict[str, Any], variables: list[str], optional: tuple[str, ...] = ()) -> None:
        """Set the shared attributes; ``variables`` are the template's own names.
        Unknown keyword arguments raise ``TypeError`` naming the allowed ones."""
        unknown = set(kwargs) - set(COMMON_ARGS)
        if unknown:
            allowed = sorted({*COMMON_ARGS, *self._args})
            raise TypeError(f"{type(self).__name__} got unknown argument(s) {sorted(unknown)}; allowed: {', '.join(allowed)}")
        self.partial_variables = dict(kwargs.get("partial_variables") or {})
        self.optional_variables = sorted(set(kwargs.get("optional_variables") or ()) | set(optional))
        self.input_types = dict(kwargs.get("input_types") or {})
        self.metadata = kwargs.get("metadata")
        self.tags = kwargs.get("tags")
        self.name = kwargs.get("name")
        self.output_parser = kwargs.get("output_parser")
        skip = set(self.partial_variables) | set(self.optional_variables)
        self.input_variables = sorted(n for n in variables if n not in skip)
        if "stop" in self.input_variables or "stop" in self.partial_variables:
            raise TemplateError(f"{type(self).__name__}: a variable cannot be named 'stop' (it is used by models); rename it")

    # -- equality, copies -------------------------------------------------- #
    def _arg_values(self) -> dict[str, Any]:
        return {a: getattr(self, a) for a in (*self._args, *COMMON_ARGS)}

    def _copy(self, **changes: Any) -> Any:
        return type(self)(**{**self._arg_values(), **changes})

    def __eq__(self, other: object) -> bool:
        """Value equality (as LangChain's pydantic models): same class, same arguments."""
        if type(other) is not type(self):
            return NotImplemented
        return self._arg_values() == other._arg_values()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]  # mutable, as LangChain's

    def __repr__(self) -> str:
        shown = {"input_variables": self.input_variables, **{a: getattr(self, a) for a in self._args}}
        if self.partial_variables:
            shown["partial_variables"] = self.partial_variables
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in shown.items())})"

    def partial(self, **kwargs: Union[Any, Callable[[], Any]]) -> Any:
        """A copy with some variables fixed: values, or zero-argument callables
        called at each format (as LangChain's ``partial``)."""
        return self._copy(
            partial_variables={**self.partial_variables, **kwargs},
            input_variables=[n for n in self.input_variables if n not in kwargs],
        )

    # -- input ---------------------------------------------------------------- #
    def _merge_partial_and_user_variables(self, **kwargs: Any) -> dict[str, Any]:
        if not self.partial_variables:
            return kwargs
        partials = {k: v() if callable(v) else v for k, v in self.partial_variables.items()}
        return {**partials, **kwargs}

    def _validate_input(self, input: Any) -> Mapping[str, Any]:
        """A dict of variables, or a bare value when there is exactly one
        variable. Raises ``TypeError`` for another input, ``PromptInputError``
        (a ``KeyError``) naming every missing variable."""
        if type(input) is not dict and not isinstance(input, Mapping):
            if len(self.input_variables) != 1:
                raise TypeError(
                    f"{self.get_name()} expects a dict with keys {self.input_variables}, got {type(input).__name__}"
                )
            return {self.input_variables[0]: input}
        for name in self.input_variables:
            if name not in input:
                raise PromptInputError(self.get_name(), [n for n in self.input_variables if n not in input], input)
        return input

    # -- running --------------------------------------------------------------- #
    def _config(self, config: Optional[RunnableConfig]) -> RunnableConfig:
        """``config`` with the template's ``metadata`` and ``tags`` added (as LangChain)."""
        config = dict(config or {})  # type: ignore[assignment]
        config["metadata"] = {**(config.get("metadata") or {}), **(self.metadata or {})}
        config["tags"] = [*(config.get("tags") or []), *(self.tags or [])]
        return config

    def _run(self, input: Any, config: RunnableConfig, rm: Any) -> PromptValue:
        return self.format_prompt(**self._validate_input(input))

    async def _arun(self, input: Any, config: RunnableConfig, rm: Any) -> PromptValue:
        return await self.aformat_prompt(**self._validate_input(input))

    def invoke(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> PromptValue:
        """Format with ``input`` (a dict of variables) as a prompt run
        (``run_type="prompt"``, as LangChain). Raises ``PromptInputError`` (a
        ``KeyError``) naming every missing variable."""
        if self.metadata or self.tags:
            config = self._config(config)
        return self._call_with_config(self._run, input, config, run_type="prompt")

    async def ainvoke(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> PromptValue:
        """Async ``invoke``: runs ``aformat_prompt`` on the event loop."""
        if self.metadata or self.tags:
            config = self._config(config)
        return await self._acall_with_config(self._arun, input, config, run_type="prompt")

    # -- formatting (subclasses) ------------------------------------------- #
    def format_prompt(self, **kwargs: Any) -> PromptValue:
        raise NotImplementedError

    async def aformat_prompt(self, **kwargs: Any) -> PromptValue:
        return self.format_prompt(**kwargs)

    def format(self, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def aformat(self, **kwargs: Any) -> Any:
        return self.format(**kwargs)

    def pretty_repr(self, html: bool = False) -> str:
        """A human-readable rendering (as LangChain's); ``html`` makes titles bold."""
        raise NotImplementedError

    def pretty_print(self) -> None:
        print(self.pretty_repr())
