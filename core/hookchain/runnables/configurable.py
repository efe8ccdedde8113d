"""Runnables configured at run time (as ``langchain_core.runnables.configurable``).

``runnable.configurable_fields(temperature=ConfigurableField(id="temp"))``
returns a ``RunnableConfigurableFields``: each call reads
``config["configurable"]`` and, when it sets one of the fields, runs a copy of
the runnable built with the new values (through its constructor, so a chat
model's pydantic fields are validated). ``configurable_alternatives`` returns a
``RunnableConfigurableAlternatives`` that runs the runnable chosen by
``config["configurable"][which.id]``. Neither adds a run of its own: the event
tree is the chosen runnable's, as LangChain's.

Keys of ``configurable`` that no field uses are ignored, as LangChain's.

Differences from LangChain, on purpose:

* ``with_config`` on one of these merges the new config into the config it
  already had (LangChain keeps only the latest ``with_config``'s:
  ``.with_config(configurable=a).with_config(tags=t)`` forgets ``a``).
* Prompt templates, which are not pydantic models in hookchain, have their
  constructor arguments as fields (``template``, ``messages``,
  ``partial_variables``...).
"""

from __future__ import annotations

import copy
import enum
import threading
from functools import wraps
from typing import Any, AsyncIterator, Callable, Iterator, Mapping, Optional, Sequence, Union, get_type_hints
from weakref import WeakValueDictionary

from pydantic import BaseModel

from hookchain._lazy import lazy_import
from hookchain.runnables.base import Runnable, _run_all
from hookchain.runnables.config import RunnableConfig, ensure_config, get_config_list, merge_configs
from hookchain.runnables.utils import (
    AnyConfigurableField,
    ConfigurableField,
    ConfigurableFieldMultiOption,
    ConfigurableFieldSingleOption,
    ConfigurableFieldSpec,
    get_unique_config_specs,
)

asyncio = lazy_import("asyncio")

__all__ = [
    "DynamicRunnable", "RunnableConfigurableFields", "RunnableConfigurableAlternatives", "StrEnum",
    "prefix_config_spec", "make_options_spec",
]


class StrEnum(str, enum.Enum):
    """The type of an alternatives or options key in ``config_specs`` (one
    enum per field, built once, as LangChain's)."""


_enums: "WeakValueDictionary[Any, type[StrEnum]]" = WeakValueDictionary()
_enums_lock = threading.Lock()


def _enum_for(spec: Any, name: str, keys: Sequence[str]) -> type[StrEnum]:
    with _enums_lock:
        found = _enums.get(spec)
        if found is None:
            found = _enums[spec] = StrEnum(name, [(k, k) for k in keys])  # type: ignore[misc]
        return found


class DynamicRunnable(Runnable):
    """A runnable that picks, at each call, the runnable to run from
    ``config["configurable"]`` (see the subclasses). It adds no run of its
    own. Other attributes are read from ``default`` (configured first when
    this one has a config from ``with_config``), as LangChain's.

    Args:
        default: the runnable used when ``configurable`` changes nothing.
        config: a config merged under each call's (what ``with_config`` sets).
    """

    def __init__(self, *, default: Runnable, config: Optional[RunnableConfig] = None) -> None:
        if not isinstance(default, Runnable):
            raise TypeError(f"{type(self).__name__}: default must be a Runnable, got {type(default).__name__}")
        self.default = default
        self.config: RunnableConfig = config or {}
        self.name: Optional[str] = None

    @property
    def InputType(self) -> Any:  # noqa: N802
        return self.default.InputType

    @property
    def OutputType(self) -> Any:  # noqa: N802
        return self.default.OutputType

    def with_config(self, config: Optional[RunnableConfig] = None, **kwargs: Any) -> "DynamicRunnable":
        """A copy whose config is this one's with ``config`` and ``kwargs``
        merged over it (see the module docstring for LangChain's)."""
        new = copy.copy(self)
        new.config = merge_configs(self.config, config, kwargs)  # type: ignore[arg-type]
        return new

    def prepare(self, config: Optional[RunnableConfig] = None) -> tuple[Runnable, RunnableConfig]:
        """The runnable a call with ``config`` runs, and the config to run it
        with (nested dynamic runnables resolved). Raises ``ValueError`` for an
        unknown alternative, ``KeyError`` for an unknown option, pydantic's
        ``ValidationError`` for a field value the runnable refuses."""
        runnable: Runnable = self
        while isinstance(runnable, DynamicRunnable):
            runnable, config = runnable._prepare(ensure_config(merge_configs(runnable.config, config)))
        return runnable, config  # type: ignore[return-value]

    def _prepare(self, config: RunnableConfig) -> tuple[Runnable, RunnableConfig]:
        raise NotImplementedError

    def get_graph(self, config: Optional[RunnableConfig] = None) -> Any:
        runnable, config = self.prepare(config)
        return runnable.get_graph(config)

    # -- the protocol, on the prepared runnable ---------------------------- #
    def invoke(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Any:
        runnable, config = self.prepare(config)
        return runnable.invoke(input, config, **kwargs)

    async def ainvoke(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Any:
        runnable, config = self.prepare(config)
        return await runnable.ainvoke(input, config, **kwargs)

    def _prepare_batch(self, inputs: Sequence[Any], config: Any) -> tuple[list[tuple[Runnable, RunnableConfig]], bool]:
        prepared = [self.prepare(c) for c in get_config_list(config, len(inputs))]
        return prepared, all(r is self.default for r, _ in prepared)

    def batch(self, inputs: Sequence[Any], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any) -> list[Any]:
        """As LangChain's: the default runnable's ``batch`` when no input is
        configured differently, else each input invoked on its own runnable."""
        if not inputs:
            return []
        prepared, same = self._prepare_batch(inputs, config)
        if same:
            return self.default.batch(inputs, [c for _, c in prepared], return_exceptions=return_exceptions, **kwargs)
        calls = [lambda r=r, c=c, i=i: r.invoke(i, c, **kwargs) for (r, c), i in zip(prepared, inputs)]
        return _run_all(calls, prepared[0][1].get("max_concurrency"), return_exceptions)

    async def abatch(self, inputs: Sequence[Any], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any) -> list[Any]:
        if not inputs:
            return []
        prepared, same = self._prepare_batch(inputs, config)
        if same:
            return await self.default.abatch(inputs, [c for _, c in prepared], return_exceptions=return_exceptions, **kwargs)
        limit = prepared[0][1].get("max_concurrency")
        semaphore = asyncio.Semaphore(limit) if limit else None

        async def one(runnable: Runnable, cfg: RunnableConfig, input: Any) -> Any:
            try:
                if semaphore is None:
                    return await runnable.ainvoke(input, cfg, **kwargs)
                async with semaphore:
                    return await runnable.ainvoke(input, cfg, **kwargs)
            except Exception as e:
                if return_exceptions:
                    return e
                raise

        return list(await asyncio.gather(*(one(r, c, i) for (r, c), i in zip(prepared, inputs))))

    # The prepared runnable's own iterators, handed out as they are (as
    # RunnableBinding's): closing one closes its runs at once.
    def stream(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Iterator[Any]:
        runnable, config = self.prepare(config)
        return runnable.stream(input, config, **kwargs)

    def astream(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> AsyncIterator[Any]:
        runnable, config = self.prepare(config)
        return runnable.astream(input, config, **kwargs)

    def transform(self, input: Iterator[Any], config: Optional[RunnableConfig] = None, **kwargs: Any) -> Iterator[Any]:
        runnable, config = self.prepare(config)
        return runnable.transform(input, config, **kwargs)

    def atransform(self, input: AsyncIterator[Any], config: Optional[RunnableConfig] = None, **kwargs: Any) -> AsyncIterator[Any]:
        runnable, config = self.prepare(config)
        return runnable.atransform(input, config, **kwargs)

    def __getattr__(self, name: str) -> Any:
        # Only called for names this class lacks (``bind_tools``, a model's
        # ``temperature``...): read from the default runnable, as LangChain's.
        # A method called with a config holding ``configurable`` runs on the
        # runnable that config selects.
        if name.startswith("__") or name in ("default", "config"):
            raise AttributeError(name)
        attr = getattr(self.default, name)
        if not callable(attr):
            return attr

        @wraps(attr)
        def call(*args: Any, **kwargs: Any) -> Any:
            if _has_configurable(kwargs.get("config")):
                runnable, kwargs["config"] = self.prepare(kwargs["config"])
                return getattr(runnable, name)(*args, **kwargs)
            for i, value in enumerate(args):
                if _has_configurable(value):
                    runnable, config = self.prepare(value)
                    return getattr(runnable, name)(*args[:i], config, *args[i + 1:], **kwargs)
            if self.config:
                return getattr(self.prepare()[0], name)(*args, **kwargs)
            return attr(*args, **kwargs)

        return call


def _has_configurable(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("configurable"), dict)


# --------------------------------------------------------------------------- #
# Fields of a runnable: pydantic fields, or a prompt template's arguments
# --------------------------------------------------------------------------- #


def field_values(runnable: Runnable) -> dict[str, Any]:
    """``{field: current value}`` of what ``configurable_fields`` may set:
    a pydantic runnable's fields (chat models, tools), a prompt template's
    constructor arguments; ``{}`` for other runnables."""
    if isinstance(runnable, BaseModel):
        fields = type(runnable).model_fields
        return {k: v for k, v in runnable.__dict__.items() if k in fields}
    values = getattr(runnable, "_arg_values", None)  # prompt templates
    return values() if values is not None else {}


def _field_info(runnable: Runnable, field: str) -> tuple[Any, Optional[str]]:
    """(annotation, description) of ``field`` for ``config_specs``."""
    if isinstance(runnable, BaseModel):
        info = type(runnable).model_fields[field]
        return info.annotation, info.description
    for owner in (type(runnable).__init__, *type(runnable).__mro__):
        try:
            hints = get_type_hints(owner)
        except Exception:  # an annotation that does not resolve here: leave it out
            continue
        if field in hints:
            return hints[field], None
    return Any, None


class RunnableConfigurableFields(DynamicRunnable):
    """``default`` with some fields set from ``config["configurable"]`` at
    each call (what ``configurable_fields`` returns), as LangChain's.

    Args:
        default: the runnable (a pydantic runnable such as a chat model, or a
            prompt template).
        fields: ``{field name: ConfigurableField | ConfigurableFieldSingleOption
            | ConfigurableFieldMultiOption}``.

    Raises ``ValueError`` naming a field ``default`` does not have (with the
    ones it has), ``TypeError`` for a value that is not a configurable field.
    """

    def __init__(self, *, default: Runnable, fields: Mapping[str, AnyConfigurableField],
                 config: Optional[RunnableConfig] = None) -> None:
        super().__init__(default=default, config=config)
        available = field_values(default)
        for key, spec in fields.items():
            if key not in available:
                raise ValueError(
                    f"Configuration key {key!r} not found in {default.get_name()}: "
                    f"available keys are {', '.join(available) or '(none: it has no fields)'}"
                )
            if not isinstance(spec, (ConfigurableField, ConfigurableFieldSingleOption, ConfigurableFieldMultiOption)):
                raise TypeError(
                    f"configurable_fields({key}=...) got a {type(spec).__name__}; pass a ConfigurableField, "
                    "ConfigurableFieldSingleOption or ConfigurableFieldMultiOption"
                )
        self.fields = dict(fields)

    def __repr__(self) -> str:
        return f"RunnableConfigurableFields(default={self.default!r}, fields={self.fields!r})"

    @property
    def config_specs(self) -> list[ConfigurableFieldSpec]:
        specs = []
        for key, spec in self.fields.items():
            annotation, description = _field_info(self.default, key)
            if isinstance(spec, ConfigurableField):
                specs.append(ConfigurableFieldSpec(
                    id=spec.id, name=spec.name, description=spec.description or description,
                    annotation=spec.annotation or annotation, default=getattr(self.default, key),
                    is_shared=spec.is_shared,
                ))
            else:
                specs.append(make_options_spec(spec, description))
        return get_unique_config_specs([*specs, *self.default.config_specs])

    def configurable_fields(self, **kwargs: AnyConfigurableField) -> Runnable:
        return self.default.configurable_fields(**{**self.fields, **kwargs})

    def _prepare(self, config: RunnableConfig) -> tuple[Runnable, RunnableConfig]:
        configurable = config.get("configurable") or {}
        by_id = {spec.id: (key, spec) for key, spec in self.fields.items()}  # one field per id, as LangChain
        changes = {
            by_id[k][0]: v for k, v in configurable.items() if k in by_id and isinstance(by_id[k][1], ConfigurableField)
        }
        for key, spec in self.fields.items():
            if isinstance(spec, ConfigurableFieldSingleOption):
                changes[key] = _option(spec, configurable.get(spec.id) or spec.default)
            elif isinstance(spec, ConfigurableFieldMultiOption):
                changes[key] = [_option(spec, o) for o in configurable.get(spec.id, spec.default)]
        if not changes:
            return self.default, config
        return type(self.default)(**{**field_values(self.default), **changes}), config


def _option(spec: Union[ConfigurableFieldSingleOption, ConfigurableFieldMultiOption], key: str) -> Any:
    try:
        return spec.options[key]
    except (KeyError, TypeError):
        raise KeyError(
            f"unknown option {key!r} for configurable {spec.id!r}; choose one of: {', '.join(spec.options)}"
        ) from None


class RunnableConfigurableAlternatives(DynamicRunnable):
    """One of several runnables, chosen at each call by
    ``config["configurable"][which.id]`` (what ``configurable_alternatives``
    returns), as LangChain's.

    Args:
        which: the ``ConfigurableField`` whose id selects the alternative.
        default: the runnable run for ``default_key`` (and when ``which`` is
            not set).
        alternatives: ``{key: runnable or zero-argument callable returning
            one}`` (a callable is called at each call that selects it).
        default_key: the key of ``default``.
        prefix_keys: if true, an alternative's own configurable ids are
            addressed as ``"<which.id>==<key>/<id>"`` (shared fields excepted).

    A call selecting a key that is neither ``default_key`` nor an alternative
    raises ``ValueError`` naming the known keys.
    """

    def __init__(self, *, which: ConfigurableField, default: Runnable,
                 alternatives: Mapping[str, Union[Runnable, Callable[[], Runnable]]],
                 default_key: str = "default", prefix_keys: bool = False,
                 config: Optional[RunnableConfig] = None) -> None:
        super().__init__(default=default, config=config)
        if not isinstance(which, ConfigurableField):
            raise TypeError(f"configurable_alternatives: which must be a ConfigurableField, got {type(which).__name__}")
        for key, alt in alternatives.items():
            if not (isinstance(alt, Runnable) or callable(alt)):
                raise TypeError(
                    f"configurable_alternatives({key}=...) got a {type(alt).__name__}; "
                    "pass a Runnable or a function returning one"
                )
        self.which = which
        self.alternatives = dict(alternatives)
        self.default_key = default_key
        self.prefix_keys = prefix_keys

    def __repr__(self) -> str:
        return (f"RunnableConfigurableAlternatives(which={self.which!r}, default={self.default!r}, "
                f"alternatives={self.alternatives!r}, default_key={self.default_key!r}, prefix_keys={self.prefix_keys!r})")

    @property
    def config_specs(self) -> list[ConfigurableFieldSpec]:
        which = self.which
        keys = _enum_for(which, which.name or which.id, [*self.alternatives, self.default_key])
        specs = [ConfigurableFieldSpec(id=which.id, name=which.name, description=which.description,
                                       annotation=keys, default=self.default_key, is_shared=which.is_shared)]
        runnables = [(self.default_key, self.default),
                     *((k, alt) for k, alt in self.alternatives.items() if isinstance(alt, Runnable))]
        for key, runnable in runnables:
            for spec in runnable.config_specs:
                specs.append(prefix_config_spec(spec, f"{which.id}=={key}") if self.prefix_keys else spec)
        return get_unique_config_specs(specs)

    def configurable_fields(self, **kwargs: AnyConfigurableField) -> Runnable:
        new = copy.copy(self)
        new.default = self.default.configurable_fields(**kwargs)
        return new

    def _prepare(self, config: RunnableConfig) -> tuple[Runnable, RunnableConfig]:
        configurable = config.get("configurable") or {}
        which = configurable.get(self.which.id, self.default_key)
        if self.prefix_keys:
            prefix = f"{self.which.id}=={which}/"
            config = {**config, "configurable": {k.removeprefix(prefix): v for k, v in configurable.items()}}  # type: ignore[assignment]
        if which == self.default_key:
            return self.default, config
        if which in self.alternatives:
            alt = self.alternatives[which]
            return (alt if isinstance(alt, Runnable) else alt()), config
        raise ValueError(
            f"Unknown alternative: {which!r} for configurable {self.which.id!r}; "
            f"choose one of: {', '.join([self.default_key, *self.alternatives])}"
        )


def prefix_config_spec(spec: ConfigurableFieldSpec, prefix: str) -> ConfigurableFieldSpec:
    """``spec`` with its id as ``"<prefix>/<id>"`` (a shared spec unchanged), as LangChain's."""
    return spec if spec.is_shared else spec._replace(id=f"{prefix}/{spec.id}")


def make_options_spec(
    spec: Union[ConfigurableFieldSingleOption, ConfigurableFieldMultiOption], description: Optional[str],
) -> ConfigurableFieldSpec:
    """The ``ConfigurableFieldSpec`` of an options field: its annotation is an
    enum of the option keys (a ``Sequence`` of it for a multi-option field),
    as LangChain's ``make_options_spec``."""
    keys = _enum_for(spec, spec.name or spec.id, list(spec.options))
    return ConfigurableFieldSpec(
        id=spec.id, name=spec.name, description=spec.description or description,
        annotation=keys if isinstance(spec, ConfigurableFieldSingleOption) else Sequence[keys],  # type: ignore[valid-type]
        default=spec.default, is_shared=spec.is_shared,
    )
