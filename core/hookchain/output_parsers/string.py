"""``StrOutputParser`` (as ``langchain_core.output_parsers.string``)."""

from __future__ import annotations

from hookchain.output_parsers.transform import BaseTransformOutputParser

__all__ = ["StrOutputParser"]


class StrOutputParser(BaseTransformOutputParser[str]):
    """A message's text (or a string unchanged): ``prompt | model |
    StrOutputParser()`` returns, and streams, plain strings."""

    @property
    def _type(self) -> str:
        return "default"

    def parse(self, text: str) -> str:
        """``text`` unchanged."""
        return text
