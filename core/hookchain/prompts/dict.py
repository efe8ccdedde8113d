"""``DictPromptTemplate``: a dict whose str values (at any depth, also in
lists) are templates (as ``langchain_core.prompts.dict``); keys are literal."""

from __future__ import annotations

from typing import Any, Optional

from hookchain.errors import TemplateError
from hookchain.runnables.base import Runnable
from hookchain.runnables.config import RunnableConfig
from hookchain.prompts.string import compile_template

__all__ = ["DictPromptTemplate"]


def _variables(value: Any, template_format: str) -> set[str]:
    if isinstance(value, str):
        return set(compile_template(value, template_format).variables)
    if isinstance(value, dict):
        return {n for v in value.values() for n in _variables(v, template_format)}
    if isinstance(value, (list, tuple)):
        return {n for v in value for n in _variables(v, template_format)}
    return set()


def _fill(value: Any, values: dict[str, Any], template_format: str) -> Any:
    if isinstance(value, str):
        return compile_template(value, template_format).render(values)
    if isinstance(value, dict):
        return {k: _fill(v, values, template_format) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_fill(v, values, template_format) for v in value)
    return value


class DictPromptTemplate(Runnable):
    """``format(**kwargs)`` returns ``template`` with every str value formatted
    (``template_format``: ``"f-string"`` or ``"mustache"``; jinja2 is refused
    for dict templates, as in LangChain)."""

    def __init__(self, template: dict[str, Any], template_format: str = "f-string") -> None:
        if template_format == "jinja2":
            raise TemplateError("jinja2 is not supported for templates given as dicts; use 'f-string' or 'mustache'")
        self.template = template
        self.template_format = template_format
        self.input_variables = sorted(_variables(template, template_format))
        self.name = None

    def format(self, **kwargs: Any) -> dict[str, Any]:
        return _fill(self.template, kwargs, self.template_format)

    async def aformat(self, **kwargs: Any) -> dict[str, Any]:
        return self.format(**kwargs)

    def invoke(self, input: dict[str, Any], config: Optional[RunnableConfig] = None, **kwargs: Any) -> dict[str, Any]:
        return self._call_with_config(lambda v, c, rm: self.format(**v), input, config, run_type="prompt")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return (self.template, self.template_format) == (other.template, other.template_format)  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"DictPromptTemplate(template={self.template!r}, template_format={self.template_format!r})"
