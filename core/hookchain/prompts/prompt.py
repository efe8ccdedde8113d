"""``PromptTemplate``: a string template (as ``langchain_core.prompts.prompt``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Union

from hookchain.errors import PromptInputError, TemplateError
from hookchain.prompts.string import StringPromptTemplate, check_valid_template, compile_template

__all__ = ["PromptTemplate"]


class PromptTemplate(StringPromptTemplate):
    """A string template; ``format`` returns a str, ``invoke`` a ``StringPromptValue``.

    Args:
        template: the template text, in ``template_format`` (``"f-string"``,
            ``"mustache"`` or ``"jinja2"``; see ``hookchain.prompts.string``).
        input_variables: ignored unless ``validate_template`` is true (the
            variables are read from the template, as LangChain does).
        validate_template: check that the template uses only ``input_variables``
            and ``partial_variables`` (``TemplateError`` otherwise).
        partial_variables, optional_variables, metadata, tags, name: as
            ``BasePromptTemplate``.

    Raises ``TemplateError`` (a ``ValueError``) for a malformed template,
    ``TypeError`` for an unknown argument.
    """

    _args = ("template", "template_format", "validate_template")

    def __init__(
        self, template: str, *, template_format: str = "f-string", validate_template: bool = False, **kwargs: Any,
    ) -> None:
        self.template = template
        self.template_format = template_format
        self.validate_template = validate_template
        self._compiled = compile_template(template, template_format)
        if validate_template:
            if kwargs.get("input_variables") is None:
                raise TemplateError("validate_template=True needs input_variables: pass the names the template uses")
            check_valid_template(template, template_format, [*kwargs["input_variables"], *(kwargs.get("partial_variables") or ())])
        self._init_common(kwargs, self._compiled.variables)

    @classmethod
    def from_template(
        cls, template: str, *, template_format: str = "f-string", partial_variables: Optional[dict[str, Any]] = None,
        **kwargs: Any,
    ) -> "PromptTemplate":
        """Build from ``template`` (as LangChain's ``from_template``)."""
        return cls(template, template_format=template_format, partial_variables=partial_variables, **kwargs)

    @classmethod
    def from_file(cls, template_file: Union[str, Path], encoding: Optional[str] = None, **kwargs: Any) -> "PromptTemplate":
        """Build from the text of ``template_file`` (read with ``encoding``);
        ``OSError`` if it cannot be read."""
        return cls.from_template(Path(template_file).read_text(encoding=encoding), **kwargs)

    @classmethod
    def from_examples(
        cls, examples: list[str], suffix: str, input_variables: list[str], example_separator: str = "\n\n",
        prefix: str = "", **kwargs: Any,
    ) -> "PromptTemplate":
        """``prefix``, each example and ``suffix`` joined by ``example_separator``
        into one template (as LangChain's ``from_examples``)."""
        template = example_separator.join([prefix, *examples, suffix])
        return cls(template, input_variables=input_variables, **kwargs)

    def format(self, **kwargs: Any) -> str:
        """The template with ``kwargs`` and the partial variables filled in.
        Raises ``PromptInputError`` (a ``KeyError``) naming the missing variables."""
        values = self._merge_partial_and_user_variables(**kwargs) if self.partial_variables else kwargs
        try:
            return self._compiled.render(values)
        except KeyError:
            missing = [n for n in self._compiled.variables if n not in values]
            if not missing:
                raise
            raise PromptInputError(self.get_name(), missing, kwargs) from None

    def __add__(self, other: Any) -> "PromptTemplate":
        """Templates joined (``other``: a ``PromptTemplate`` of the same format,
        or a str); partial variables merged (as LangChain's ``+``)."""
        if isinstance(other, str):
            other = PromptTemplate.from_template(other, template_format=self.template_format)
        if not isinstance(other, PromptTemplate):
            raise NotImplementedError(f"Unsupported operand type for +: {type(other)}")
        if self.template_format != other.template_format:
            raise TemplateError(
                f"cannot add templates of different formats ({self.template_format!r} + {other.template_format!r})"
            )
        twice = set(self.partial_variables) & set(other.partial_variables)
        if twice:
            raise TemplateError(f"cannot add templates that both fix partial variable(s) {sorted(twice)}")
        return PromptTemplate(
            self.template + other.template, template_format=self.template_format,
            validate_template=self.validate_template and other.validate_template,
            input_variables=sorted({*self.input_variables, *other.input_variables}),
            partial_variables={**self.partial_variables, **other.partial_variables},
        )

