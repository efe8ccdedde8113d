"""Language models (as ``langchain_core.language_models``)."""

from hookchain.language_models.chat_models import BaseChatModel, LanguageModelInput, SimpleChatModel

__all__ = ["BaseChatModel", "SimpleChatModel", "LanguageModelInput"]
