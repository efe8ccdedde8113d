"""Base classes of output parsers (as ``langchain_core.output_parsers.base``).

A parser is a runnable that turns a model's output (a message or a string)
into a value. ``invoke`` is one chain run with ``run_type="parser"`` (an
``on_parser_*`` event in ``astream_events``), as in LangChain. Subclass
``BaseOutputParser`` and implement ``parse(text)``, or ``parse_result`` to see
the whole ``Generation`` (e.g. a message's tool calls).

Parsers are pydantic models, like LangChain's: options are fields
(``JsonOutputParser(pydantic_object=Joke)``); an unknown option is an error.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Generic, Optional, TypeVar

from pydantic import BaseModel, ConfigDict

from hookchain.messages import BaseMessage
from hookchain.outputs import ChatGeneration, Generation
from hookchain.prompt_values import PromptValue
from hookchain.runnables.base import Runnable
from hookchain.runnables.config import RunnableConfig

__all__ = ["BaseLLMOutputParser", "BaseGenerationOutputParser", "BaseOutputParser"]

T = TypeVar("T")


def as_generation(parser: Runnable, value: Any) -> Generation:
    """``value`` (a message or a str) as the ``Generation`` parsers read.
    Raises ``TypeError`` naming ``parser`` for anything else."""
    if isinstance(value, BaseMessage):
        return ChatGeneration(message=value)
    if isinstance(value, str):
        return Generation(text=value)
    raise TypeError(
        f"{parser.get_name()} parses a str or a message (a model's output), got {type(value).__name__}; "
        f"put it after a chat model or pass the text"
    )


class BaseLLMOutputParser(ABC, Generic[T]):
    """What every parser implements: ``parse_result(generations, partial=...)``."""

    @abstractmethod
    def parse_result(self, result: list[Generation], *, partial: bool = False) -> T:
        """The value of ``result[0]`` (a list of ``Generation``, one candidate
        each). With ``partial=True`` the text may be incomplete (streaming) and
        a parser may return ``None`` for "nothing yet" instead of raising."""

    async def aparse_result(self, result: list[Generation], *, partial: bool = False) -> T:
        """Async ``parse_result``; by default calls it directly (parsing is
        quick, pure-Python work: no thread hop, unlike LangChain)."""
        return self.parse_result(result, partial=partial)


class _ParserRun(Runnable):
    """``invoke``/``ainvoke`` of every parser: one ``run_type="parser"`` chain run."""

    def invoke(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Any:
        """Parse ``input`` (a message or a str). Raises what ``parse_result``
        raises (``OutputParserException`` for unparseable text)."""
        return self._call_with_config(
            lambda v, c, rm: self.parse_result([as_generation(self, v)]), input, config, run_type="parser",
        )

    async def ainvoke(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Any:
        """Async ``invoke``, through ``aparse_result``."""

        async def run(v: Any, c: RunnableConfig, rm: Any) -> Any:
            return await self.aparse_result([as_generation(self, v)])

        return await self._acall_with_config(run, input, config, run_type="parser")


class _ParserModel(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid", protected_namespaces=())

    name: Optional[str] = None
    """The run name (default: the class name)."""


class BaseGenerationOutputParser(_ParserRun, _ParserModel, BaseLLMOutputParser[T]):
    """A parser that reads whole generations (implement ``parse_result``)."""


class BaseOutputParser(_ParserRun, _ParserModel, BaseLLMOutputParser[T]):
    """Base class of text parsers: implement ``parse(text)``; ``parse_result``
    passes it the first generation's text."""

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> T:
        return self.parse(result[0].text)

    @abstractmethod
    def parse(self, text: str) -> T:
        """The value of ``text``. Raises ``OutputParserException`` if ``text``
        does not have the expected form."""

    async def aparse(self, text: str) -> T:
        """Async ``parse`` (calls it directly)."""
        return self.parse(text)

    def parse_with_prompt(self, completion: str, prompt: PromptValue) -> Any:
        """``parse(completion)``; a parser that needs the prompt (to retry, say)
        overrides this."""
        return self.parse(completion)

    def get_format_instructions(self) -> str:
        """Text to put in the prompt telling the model how to format its answer.
        Raises ``NotImplementedError`` for parsers that have none."""
        raise NotImplementedError(f"{type(self).__name__} has no format instructions")

    @property
    def _type(self) -> str:
        """The parser's type key (LangChain's serialisation name)."""
        raise NotImplementedError(f"_type is not implemented in {type(self).__name__}")
