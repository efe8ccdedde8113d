"""hookchain's exceptions, one hierarchy: every error hookchain raises on bad input
is a ``HookchainError`` whose message names the thing at fault and how to fix it.

Where LangChain raises a builtin type, the hookchain class also derives from it
(``PromptInputError`` is a ``KeyError``, ``OptionError`` a ``ValueError``), so
``except KeyError`` written for LangChain keeps working.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional


class HookchainError(Exception):
    """Base class of hookchain's own errors."""

    def __str__(self) -> str:  # KeyError's str() would add quotes around the text
        return str(self.args[0]) if self.args else ""


class PromptInputError(HookchainError, KeyError):
    """A prompt template was invoked without some of its variables.

    Attributes:
        missing: the names of the missing variables, sorted.
    """

    def __init__(self, template_name: str, missing: Iterable[str], received: Iterable[str]):
        self.missing = sorted(missing)
        received = sorted(received)
        names = ", ".join(repr(m) for m in self.missing)
        super().__init__(
            f"{template_name} is missing variable(s) {names} (received: {received or 'none'}). "
            f"Pass them in the input dict, e.g. {{{self.missing[0]!r}: ...}}; to print a literal "
            f"brace in the template, double it: '{{{{{self.missing[0]}}}}}'."
        )


class TemplateError(HookchainError, ValueError):
    """A prompt template is malformed or uses a forbidden placeholder."""


class UnknownNameError(HookchainError, LookupError):
    """A model or handler name that no plugin registered."""

    def __init__(self, kind: str, name: str, known: Iterable[str], hint: str = ""):
        self.kind, self.name, self.known = kind, name, sorted(known)
        listed = ", ".join(self.known) or "none (is a plugin installed?)"
        super().__init__(f"unknown {kind} {name!r}; known {kind}s: {listed}.{hint}")


class InvalidMessageError(HookchainError, TypeError, ValueError):
    """A message was built with an unknown field, a missing required one or a
    value of the wrong type. Both a ``TypeError`` and a ``ValueError`` (LangChain
    raises pydantic's ``ValidationError``, a ``ValueError``, for most of these)."""


class OptionError(HookchainError, ValueError):
    """An option given to a model or handler factory was rejected."""


class ConfigError(HookchainError, ValueError):
    """A config file could not be read or does not match the schema."""


class PluginError(HookchainError):
    """A plugin failed to load or registered something invalid."""


class OutputParserException(HookchainError, ValueError):
    """An output parser could not parse a model's output (as LangChain's
    ``langchain_core.exceptions.OutputParserException``, also a ``ValueError``).

    Args:
        error: the message (str) or the underlying exception.
        observation: an explanation that can be sent back to the model.
        llm_output: the raw text that failed to parse.
        send_to_llm: whether an agent should send ``observation`` and
            ``llm_output`` back to the model; both are then required
            (``ValueError`` otherwise).
    """

    def __init__(
        self, error: Any, observation: Optional[str] = None, llm_output: Optional[str] = None,
        send_to_llm: bool = False,
    ) -> None:
        super().__init__(error)
        if send_to_llm and (observation is None or llm_output is None):
            raise ValueError("OutputParserException(send_to_llm=True) needs both observation= and llm_output=")
        self.observation = observation
        self.llm_output = llm_output
        self.send_to_llm = send_to_llm
