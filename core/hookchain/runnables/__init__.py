"""Runnables and their config (as ``langchain_core.runnables``)."""

from hookchain.runnables.base import (
    Runnable,
    RunnableAssign,
    RunnableBinding,
    RunnableLambda,
    RunnableMap,
    RunnableParallel,
    RunnablePassthrough,
    RunnableSequence,
    RunnableSerializable,
    coerce_to_runnable,
)
from hookchain.runnables.config import RunnableConfig, ensure_config, patch_config, run_in_executor
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
    "ConfigurableField", "ConfigurableFieldSingleOption", "ConfigurableFieldMultiOption", "ConfigurableFieldSpec",
]
