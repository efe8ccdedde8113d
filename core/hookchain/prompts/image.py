"""``ImagePromptTemplate``: an image part of a multipart message (as
``langchain_core.prompts.image``)."""

from __future__ import annotations

from typing import Any

from hookchain.errors import TemplateError
from hookchain.prompt_values import ImagePromptValue
from hookchain.prompts.base import BasePromptTemplate
from hookchain.prompts.string import compile_template

__all__ = ["ImagePromptTemplate"]


class ImagePromptTemplate(BasePromptTemplate):
    """``template`` is ``{"url": ..., "detail": ...}`` whose str values are
    templates; ``format`` returns ``{"url": str, "detail": str (if any)}``.

    Raises ``TemplateError`` when a variable is named ``url``, ``path`` or
    ``detail``; ``format`` raises ``ValueError`` without a url or with a
    ``path`` (images are given by url only, as in LangChain).
    """

    _args = ("template", "template_format")

    def __init__(self, template: dict[str, Any], *, template_format: str = "f-string", **kwargs: Any) -> None:
        self.template = dict(template)
        self.template_format = template_format
        self._compiled = {k: compile_template(v, template_format) for k, v in self.template.items() if isinstance(v, str)}
        variables = sorted({n for c in self._compiled.values() for n in c.variables} | set(kwargs.pop("input_variables", None) or ()))
        reserved = set(variables) & {"url", "path", "detail"}
        if reserved:
            raise TemplateError(f"an image template cannot have variables named {sorted(reserved)}; rename them")
        self._init_common(kwargs, variables)

    def format(self, **kwargs: Any) -> dict[str, Any]:
        values = self._merge_partial_and_user_variables(**kwargs)
        formatted = {k: self._compiled[k].render(values) if k in self._compiled else v for k, v in self.template.items()}
        if formatted.get("path"):
            raise ValueError("images are given by 'url' only: loading them from a 'path' is not supported (as LangChain)")
        url = formatted.get("url")
        if not url or not isinstance(url, str):
            raise ValueError(f"image template {self.template!r} formatted to no url (a str is required)")
        return {"url": url, **({"detail": formatted["detail"]} if formatted.get("detail") else {})}

    def format_prompt(self, **kwargs: Any) -> ImagePromptValue:
        return ImagePromptValue(self.format(**kwargs))
