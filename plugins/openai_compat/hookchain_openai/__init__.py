"""hookchain-openai: a chat model for OpenAI and OpenAI-compatible servers.

Registers ``openai`` and its alias ``openai-compatible`` (the same
``ChatOpenAI`` class): point ``base_url`` at OpenAI, vLLM, Ollama, llama.cpp's
``llama-server``, LiteLLM... Written against hookchain's public contract only.
"""

from typing import Callable

import hookchain

from hookchain_openai import errors
from hookchain_openai.chat_model import DEFAULT_BASE_URL, ChatOpenAI
from hookchain_openai.convert import message_to_openai, messages_to_openai

__all__ = ["ChatOpenAI", "DEFAULT_BASE_URL", "errors", "message_to_openai", "messages_to_openai"]


@hookchain.hookimpl
def register_models(register: Callable) -> None:
    register("openai", ChatOpenAI)
    register("openai-compatible", ChatOpenAI)
