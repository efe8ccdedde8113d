"""Chat messages and their streaming chunks (as ``langchain_core.messages``).

One submodule per concept, as LangChain's: ``base`` (``BaseMessage``,
``BaseMessageChunk``, ``merge_content``, ``message_to_dict``), ``ai``, ``human``,
``system``, ``tool`` (tool messages and tool-call dicts), ``chat``, ``function``,
``modifier`` (``RemoveMessage``) and ``utils`` (conversions, ``get_buffer_string``, ``trim_messages``...).
Everything public is importable from here.
"""

from __future__ import annotations

from hookchain.messages._merge import merge_dicts  # noqa: F401 - kept importable; private as LangChain's
from hookchain.messages.ai import (
    AIMessage, AIMessageChunk, InputTokenDetails, OutputTokenDetails, UsageMetadata,
)
from hookchain.messages.base import BaseMessage, BaseMessageChunk, merge_content, message_to_dict, messages_to_dict
from hookchain.messages.chat import ChatMessage, ChatMessageChunk
from hookchain.messages.function import FunctionMessage, FunctionMessageChunk
from hookchain.messages.human import HumanMessage, HumanMessageChunk
from hookchain.messages.modifier import RemoveMessage
from hookchain.messages.system import SystemMessage, SystemMessageChunk
from hookchain.messages.tool import InvalidToolCall, ToolCall, ToolCallChunk, ToolMessage, ToolMessageChunk
from hookchain.messages.utils import (
    AnyMessage, MessageLikeRepresentation, _message_from_dict, convert_to_messages, convert_to_openai_messages,
    filter_messages, get_buffer_string, merge_message_runs, message_chunk_to_message, messages_from_dict,
    trim_messages,
)

__all__ = [
    "AIMessage", "AIMessageChunk", "AnyMessage", "BaseMessage", "BaseMessageChunk", "ChatMessage",
    "ChatMessageChunk", "FunctionMessage", "FunctionMessageChunk", "HumanMessage", "HumanMessageChunk",
    "InputTokenDetails", "InvalidToolCall", "MessageLikeRepresentation", "OutputTokenDetails", "RemoveMessage",
    "SystemMessage", "SystemMessageChunk", "ToolCall", "ToolCallChunk", "ToolMessage", "ToolMessageChunk",
    "UsageMetadata", "_message_from_dict", "convert_to_messages", "convert_to_openai_messages", "filter_messages",
    "get_buffer_string", "merge_content", "merge_message_runs", "message_chunk_to_message", "message_to_dict",
    "messages_from_dict", "messages_to_dict", "trim_messages",
]
