"""The ``class`` option of the ``langchain`` model and handler: which LangChain
class to build, and the options its constructor accepts."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from hookchain.errors import OptionError

__all__ = ["load_class", "check_options"]


def _distribution(module: str) -> str:
    """The usual distribution name of a top-level module (``langchain_openai`` → ``langchain-openai``)."""
    return module.split(".")[0].replace("_", "-")


def load_class(what: str, spec: Any, base: type, example: str) -> type:
    """The class named by ``spec`` (``"module:Class"``, or a class), which must
    subclass ``base``; ``what`` names the thing being built in errors.

    Raises ``OptionError`` naming option ``class`` when it is missing, malformed,
    its module is not installed (saying which package to ``pip install``), or it
    names something else than a ``base`` subclass.
    """
    if spec is None:
        raise OptionError(f"{what}: option 'class' is required: the LangChain class to use, e.g. class = {example!r}")
    if isinstance(spec, type):
        cls = spec
    else:
        if not isinstance(spec, str) or spec.count(":") != 1 or not all(spec.split(":")):
            raise OptionError(f"{what}: option 'class' must be 'module:Class', e.g. {example!r}; got {spec!r}")
        module_name, _, attr = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            missing = e.name or module_name
            raise OptionError(
                f"{what}: option 'class' = {spec!r}: module {missing!r} is not installed; "
                f"pip install {_distribution(missing)}"
            ) from None
        except Exception as e:  # noqa: BLE001 - an import that fails for another reason
            raise OptionError(f"{what}: option 'class' = {spec!r}: importing {module_name!r} failed: {type(e).__name__}: {e}") from None
        cls = getattr(module, attr, None)
        if cls is None:
            raise OptionError(f"{what}: option 'class' = {spec!r}: module {module_name!r} has no attribute {attr!r}")
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise OptionError(f"{what}: option 'class' = {spec!r} is not a {base.__module__}.{base.__qualname__} subclass")
    return cls


def _accepted(cls: type) -> tuple[set[str], bool]:
    """The keyword options ``cls(...)`` accepts, and whether it takes any (``**kwargs``)."""
    fields = getattr(cls, "model_fields", None)
    if fields is not None:  # a pydantic model (every LangChain chat model): fields and their aliases
        names = set(fields)
        for name, field in fields.items():
            for alias in (field.alias, field.validation_alias):
                if isinstance(alias, str):
                    names.add(alias)
        return names, False
    params = inspect.signature(cls).parameters.values()
    names = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return names, any(p.kind is p.VAR_KEYWORD for p in params)


def check_options(what: str, cls: type, options: dict[str, Any]) -> None:
    """Raise ``OptionError`` for options ``cls`` has no field or parameter for
    (LangChain models would keep some silently in ``model_kwargs``; hookchain
    refuses unknown options)."""
    names, anything = _accepted(cls)
    unknown = sorted(set(options) - names)
    if unknown and not anything:
        raise OptionError(
            f"{what}: unknown option(s) {', '.join(map(repr, unknown))} for {cls.__module__}:{cls.__qualname__}; "
            f"allowed options: class, {', '.join(sorted(n for n in names if not n.startswith('_')))}"
        )
