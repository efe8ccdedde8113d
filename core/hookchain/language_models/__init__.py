"""Language models (as ``langchain_core.language_models``)."""

from typing import Any

from hookchain.language_models.chat_models import BaseChatModel, LanguageModelInput, SimpleChatModel

_FAKES = ("FakeListChatModel", "FakeMessagesListChatModel", "GenericFakeChatModel", "ParrotFakeChatModel")
_LLMS = ("BaseLLM", "LLM")
_FAKE_LLMS = ("FakeListLLM", "FakeStreamingListLLM")

__all__ = ["BaseChatModel", "SimpleChatModel", "LanguageModelInput", *_FAKES, *_LLMS, *_FAKE_LLMS]


def __getattr__(name: str) -> Any:
    # The fake models (for tests) load on first use: building their pydantic
    # classes costs ~10 ms that programs using real models should not pay.
    if name in _FAKES:
        from hookchain.language_models import fake_chat_models

        return getattr(fake_chat_models, name)
    if name in _LLMS:  # text-completion models: loaded on first use, as the fakes
        from hookchain.language_models import llms

        return getattr(llms, name)
    if name in _FAKE_LLMS:
        from hookchain.language_models import fake

        return getattr(fake, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
