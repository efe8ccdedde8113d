"""String templates in three formats, and the base of string prompts (as
``langchain_core.prompts.string``).

* ``"f-string"`` (the default): Python's ``str.format`` syntax, ``{name}`` and
  ``{name:>10}``; ``{{``/``}}`` are literal braces. Parsed once into literal
  text and variables, so values are inserted verbatim and never re-read.
  Attribute and index access (``{x.attr}``, ``{x[0]}``), positional fields and
  nested fields in format specs are rejected when the template is built, as in
  LangChain; so is a width or precision over ``MAX_FORMAT_WIDTH``.
* ``"mustache"``: ``{{name}}`` (HTML-escaped as LangChain escapes it: ``& < > "``),
  ``{{{name}}}``/``{{&name}}`` (raw), sections, inverted sections, dotted names;
  rendered by pystache with the values reduced to plain data first (dicts,
  lists, strings, numbers, booleans; anything else becomes its ``str()``), so a
  template can neither call nor look into a Python object. Partials render
  empty.
* ``"jinja2"``: rendered in jinja2's ``SandboxedEnvironment`` (as LangChain),
  which blocks access to private attributes such as ``__class__``. jinja2 is an
  optional dependency: ``pip install 'hookchain[jinja2]'``. Do not render
  templates written by untrusted users.

Compiled templates are cached per ``(template, format)``.
"""

from __future__ import annotations

import functools
import re
import string
import warnings
from typing import Any, Callable, Literal, Mapping, Optional

from hookchain.errors import TemplateError
from hookchain.prompt_values import StringPromptValue
from hookchain.prompts.base import BasePromptTemplate

__all__ = [
    "PromptTemplateFormat", "StringPromptTemplate", "get_template_variables", "check_valid_template",
    "jinja2_formatter", "mustache_formatter", "MAX_FORMAT_WIDTH",
]

PromptTemplateFormat = Literal["f-string", "mustache", "jinja2"]
FORMATS = ("f-string", "mustache", "jinja2")

#: The largest width or precision a format spec may ask for (``{x:>10000}``):
#: a 17-character ``{x:>500000000}`` would otherwise allocate half a gigabyte.
MAX_FORMAT_WIDTH = 10_000
_SPEC_NUMBER = re.compile(r"\d+")
_CONVERSIONS: dict[Optional[str], Callable[[Any], Any]] = {None: lambda v: v, "r": repr, "s": str, "a": ascii}


class _FString:
    """A parsed f-string template: ``(literal, variable or None, conversion, spec)`` parts."""

    __slots__ = ("parts", "variables")

    def __init__(self, template: str) -> None:
        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError as e:
            raise TemplateError(
                f"malformed template {template!r}: {e}; write literal braces as '{{{{' and '}}}}'"
            ) from None
        parts, names = [], []
        for literal, field, spec, conversion in parsed:
            if field is not None:
                _check_field(field, conversion, spec or "", template)
                if field not in names:
                    names.append(field)
            parts.append((literal, field, _CONVERSIONS[conversion] if conversion else None, spec or ""))
        self.parts = tuple(parts)
        self.variables = sorted(names)

    def render(self, values: Mapping[str, Any]) -> str:
        """Raises ``KeyError`` (the variable's name) when a variable has no value."""
        out = []
        for literal, name, convert, spec in self.parts:
            out.append(literal)
            if name is not None:
                value = values[name]
                out.append(format(convert(value) if convert else value, spec))
        return "".join(out)


def _check_field(field: str, conversion: Optional[str], spec: str, template: str) -> None:
    where = f"template variable {{{field}}} in {template!r}"
    if not field or field.isdigit():
        raise TemplateError(f"{where} is positional; name it, e.g. {{text}} (write literal braces as '{{{{' and '}}}}')")
    if "." in field or "[" in field or "]" in field:
        raise TemplateError(
            f"{where} is not a plain name; attribute and index access are not allowed "
            f"(write literal braces as '{{{{' and '}}}}')"
        )
    if conversion and conversion not in _CONVERSIONS:
        raise TemplateError(f"{where}: unknown conversion !{conversion}; use !r, !s or !a")
    if "{" in spec or "}" in spec:
        raise TemplateError(f"template variable {{{field}:{spec}}} in {template!r}: nested fields in format specs are not allowed")
    for number in _SPEC_NUMBER.findall(spec):
        if int(number) > MAX_FORMAT_WIDTH:
            raise TemplateError(
                f"template variable {{{field}:{spec}}} in {template!r}: width or precision {int(number)} is over "
                f"the limit of {MAX_FORMAT_WIDTH:,}; use a smaller one"
            )


def _html_escape(text: str) -> str:
    """Escape ``& < > "`` (as LangChain's mustache renderer; not ``'``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


class _Items(list):
    """A list for mustache whose only attributes are its indices, so that
    dotted names reach items (``{{items.0}}``, as LangChain); every other
    attribute is absent, so the renderer can call none of list's methods."""

    __slots__ = ()

    def __getattribute__(self, name: str) -> Any:
        if name.isdigit() and int(name) < len(self):
            return list.__getitem__(self, int(name))
        raise AttributeError(name)


def _plain(value: Any) -> Any:
    """``value`` as plain data for mustache: no object reaches the renderer,
    so no attribute is read and nothing is called while rendering."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool:
        return value
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return _Items(_plain(v) for v in value)
    return str.__str__(str(value))  # an exact str, even from a str subclass


class _Mustache:
    __slots__ = ("parsed", "variables")

    def __init__(self, template: str) -> None:
        pystache = _import("pystache", "mustache", "pip install pystache")
        try:
            self.parsed = pystache.parse(template)
        except Exception as e:  # pystache.parser.ParsingError and friends
            raise TemplateError(f"malformed mustache template {template!r}: {e}") from None
        # Top-level names only (as LangChain): names inside a section are looked up in it first.
        self.variables = sorted({
            node.key.split(".")[0] for node in self.parsed._parse_tree
            if isinstance(getattr(node, "key", None), str) and node.key != "." and type(node).__name__ != "_PartialNode"
        })

    def render(self, values: Mapping[str, Any]) -> str:
        return _mustache_renderer().render(self.parsed, _plain(values))


@functools.lru_cache(maxsize=1)
def _mustache_renderer() -> Any:
    import pystache

    return pystache.Renderer(partials={}, missing_tags="ignore", escape=_html_escape, string_encoding="utf-8")


class _Jinja2:
    __slots__ = ("compiled", "variables")

    def __init__(self, template: str) -> None:
        env = _jinja2_env()  # a syntax error raises jinja2.TemplateSyntaxError, as in LangChain
        from jinja2 import meta

        self.variables = sorted(meta.find_undeclared_variables(env.parse(template)))
        self.compiled = env.from_string(template)

    def render(self, values: Mapping[str, Any]) -> str:
        return self.compiled.render(**values)


@functools.lru_cache(maxsize=1)
def _jinja2_env() -> Any:
    _import("jinja2", "jinja2", "pip install 'hookchain[jinja2]'")
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment()


def _import(module: str, fmt: str, install: str) -> Any:
    try:
        return __import__(module)
    except ImportError:
        raise ImportError(f"template_format={fmt!r} needs {module}, which is not installed: {install}") from None


_COMPILERS = {"f-string": _FString, "mustache": _Mustache, "jinja2": _Jinja2}


@functools.lru_cache(maxsize=2048)
def compile_template(template: str, template_format: str = "f-string") -> Any:
    """``template`` parsed once: an object with ``variables`` (sorted names) and
    ``render(values) -> str``. Raises ``TemplateError`` for a malformed template
    or an unknown format, ``ImportError`` when the format's library is missing."""
    if not isinstance(template, str):
        raise TemplateError(f"a template must be a str, got {type(template).__name__}")
    compiler = _COMPILERS.get(template_format)
    if compiler is None:
        raise TemplateError(f"unknown template_format {template_format!r}; use one of: {', '.join(FORMATS)}")
    return compiler(template)


def get_template_variables(template: str, template_format: str) -> list[str]:
    """The sorted variable names of ``template`` (as LangChain's); raises
    ``TemplateError`` (a ``ValueError``) for a malformed template or format."""
    return list(compile_template(template, template_format).variables)


def jinja2_formatter(template: str, /, **kwargs: Any) -> str:
    """Render a jinja2 template in a sandbox (as LangChain's ``jinja2_formatter``)."""
    return compile_template(template, "jinja2").render(kwargs)


def mustache_formatter(template: str, /, **kwargs: Any) -> str:
    """Render a mustache template, values reduced to plain data (see the module)."""
    return compile_template(template, "mustache").render(kwargs)


def check_valid_template(template: str, template_format: str, input_variables: list[str]) -> None:
    """Check that ``template`` uses no variable outside ``input_variables`` (as
    LangChain's ``check_valid_template``): raises ``TemplateError`` naming the
    unknown ones for f-strings; warns about missing and extra ones for jinja2;
    mustache templates cannot be validated (``TemplateError``)."""
    if template_format == "mustache":
        raise TemplateError("mustache templates cannot be validated; leave validate_template off")
    found = set(get_template_variables(template, template_format))
    given = set(input_variables)
    if template_format == "jinja2":
        problems = [f"{what}: {names}" for what, names in (("Missing variables", found - given), ("Extra variables", given - found)) if names]
        if problems:
            warnings.warn(" ".join(problems), stacklevel=3)
    elif found - given:
        raise TemplateError(
            f"template {template!r} uses variable(s) {sorted(found - given)} that are not in input_variables "
            f"{sorted(given)}; add them, or leave validate_template off"
        )


class StringPromptTemplate(BasePromptTemplate):
    """A prompt that formats to one string; ``invoke`` returns a ``StringPromptValue``."""

    def format_prompt(self, **kwargs: Any) -> StringPromptValue:
        return StringPromptValue(self.format(**kwargs))

    async def aformat_prompt(self, **kwargs: Any) -> StringPromptValue:
        return StringPromptValue(await self.aformat(**kwargs))

    def pretty_repr(self, html: bool = False) -> str:
        """The template with each input variable shown as ``{name}`` (as LangChain's)."""
        return self.format(**{name: "{" + name + "}" for name in self.input_variables})
