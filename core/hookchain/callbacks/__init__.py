"""Callback handlers and managers (as ``langchain_core.callbacks``)."""

from hookchain.callbacks.base import AsyncCallbackHandler, BaseCallbackHandler, Callbacks
from hookchain.callbacks.manager import (
    AsyncCallbackManager,
    AsyncCallbackManagerForChainRun,
    AsyncCallbackManagerForLLMRun,
    AsyncCallbackManagerForRetrieverRun,
    AsyncCallbackManagerForToolRun,
    BaseCallbackManager,
    BaseRunManager,
    CallbackManager,
    CallbackManagerForChainRun,
    CallbackManagerForLLMRun,
    CallbackManagerForRetrieverRun,
    CallbackManagerForToolRun,
    adispatch_custom_event,
    disable_handler,
    dispatch_custom_event,
    enable_handler,
    enabled_handlers,
    set_handler_timeout,
)

__all__ = [
    "BaseCallbackHandler", "AsyncCallbackHandler", "Callbacks",
    "BaseCallbackManager", "CallbackManager", "AsyncCallbackManager", "BaseRunManager",
    "CallbackManagerForLLMRun", "AsyncCallbackManagerForLLMRun",
    "CallbackManagerForChainRun", "AsyncCallbackManagerForChainRun",
    "CallbackManagerForToolRun", "AsyncCallbackManagerForToolRun",
    "CallbackManagerForRetrieverRun", "AsyncCallbackManagerForRetrieverRun",
    "dispatch_custom_event", "adispatch_custom_event",
    "enable_handler", "disable_handler", "enabled_handlers", "set_handler_timeout",
]
