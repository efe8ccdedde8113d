"""Tools (as ``langchain_core.tools``): ``@tool``, ``StructuredTool``, ``BaseTool``."""

from hookchain.tools.base import (
    FILTERED_ARGS,
    BaseTool,
    InjectedToolArg,
    InjectedToolCallId,
    ToolException,
    create_schema_from_function,
)
from hookchain.tools.convert import tool
from hookchain.tools.structured import StructuredTool

__all__ = [
    "BaseTool", "StructuredTool", "tool", "ToolException", "InjectedToolArg", "InjectedToolCallId",
    "create_schema_from_function", "FILTERED_ARGS",
]
