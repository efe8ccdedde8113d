"""Runnables and their config (as ``langchain_core.runnables``)."""

from typing import Any

from hookchain.runnables import base as _base

from hookchain.runnables.base import (
    Runnable,
    RunnableAssign,
    RunnableBinding,
    RunnableEach,
    RunnableGenerator,
    RunnableLambda,
    RunnableMap,
    RunnableParallel,
    RunnablePassthrough,
    RunnablePick,
    RunnableSequence,
    RunnableSerializable,
    chain,
    coerce_to_runnable,
)
from hookchain.runnables.branch import RunnableBranch
from hookchain.runnables.config import RunnableConfig, ensure_config, patch_config, run_in_executor
from hookchain.runnables.fallbacks import RunnableWithFallbacks
from hookchain.runnables.retry import RunnableRetry
from hookchain.runnables.utils import (
    ConfigurableField,
    ConfigurableFieldMultiOption,
    ConfigurableFieldSingleOption,
    ConfigurableFieldSpec,
)


def _configurable_fields(**kwargs: Any) -> Any:
    from hookchain.runnables.configurable import RunnableConfigurableFields

    return RunnableConfigurableFields(**kwargs)


def _configurable_alternatives(**kwargs: Any) -> Any:
    from hookchain.runnables.configurable import RunnableConfigurableAlternatives

    return RunnableConfigurableAlternatives(**kwargs)


def _graph(runnable: Runnable, config: Any) -> Any:
    from hookchain.runnables.graph import graph_of

    return graph_of(runnable, config)


# What Runnable's methods build from the modules above runnables.base (see its _compositions).
_base._compositions.update(
    fallbacks=RunnableWithFallbacks, retry=RunnableRetry, configurable_fields=_configurable_fields,
    configurable_alternatives=_configurable_alternatives, graph=_graph,
)

__all__ = [
    "Runnable", "RunnableSequence", "RunnableLambda", "RunnableParallel", "RunnableMap",
    "RunnablePassthrough", "RunnableAssign", "RunnableBinding", "RunnableSerializable", "coerce_to_runnable",
    "RunnableConfig", "ensure_config", "patch_config", "run_in_executor",
    "RunnableWithFallbacks", "RunnableRetry", "RunnableBranch", "RunnablePick", "RunnableEach", "RunnableGenerator",
    "chain",
    "ConfigurableField", "ConfigurableFieldSingleOption", "ConfigurableFieldMultiOption", "ConfigurableFieldSpec",
]
