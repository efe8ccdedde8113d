"""Exceptions under LangChain's module path (as ``langchain_core.exceptions``);
they are defined, with the rest of hookchain's errors, in ``hookchain.errors``."""

from hookchain.errors import OutputParserException

__all__ = ["OutputParserException"]
