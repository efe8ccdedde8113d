"""Language models (as ``langchain_core.language_models``)."""

from typing import Any

from hookchain.language_models.chat_models import BaseChatModel, LanguageModelInput, SimpleChatModel

_FAKES = ("FakeListChatModel", "FakeMessagesListChatModel", "GenericFakeChatModel", "ParrotFakeChatModel")

__all__ = ["BaseChatModel", "SimpleChatModel", "LanguageModelInput", *_FAKES]


def __getattr__(name: str) -> Any:
    # The fake models (for tests) load on first use: building their pydantic
    # classes costs ~10 ms that programs using real models should not pay.
    if name in _FAKES:
        from hookchain.language_models import fake_chat_models

        return getattr(fake_chat_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
