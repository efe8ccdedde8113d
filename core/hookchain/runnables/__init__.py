"""Runnables and their config (as ``langchain_core.runnables``)."""

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

__all__ = [
    "Runnable", "RunnableSequence", "RunnableLambda", "RunnableParallel", "RunnableMap",
    "RunnablePassthrough", "RunnableAssign", "RunnableBinding", "RunnableSerializable", "coerce_to_runnable",
    "RunnableConfig", "ensure_config", "patch_config", "run_in_executor",
    "RunnableWithFallbacks", "RunnableRetry", "RunnableBranch", "RunnablePick", "RunnableEach", "RunnableGenerator",
    "chain",
    "ConfigurableField", "ConfigurableFieldSingleOption", "ConfigurableFieldMultiOption", "ConfigurableFieldSpec",
]
