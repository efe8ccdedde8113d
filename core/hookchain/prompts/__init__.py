"""Prompt templates (as ``langchain_core.prompts``).

* ``PromptTemplate`` (``prompt.py``): a string template; ``invoke`` returns a
  ``StringPromptValue``.
* ``ChatPromptTemplate`` and the message templates (``chat.py``):
  ``invoke`` returns a ``ChatPromptValue``.
* Template formats ``"f-string"``, ``"mustache"`` and ``"jinja2"``
  (``string.py``): parsed once; f-string values are inserted verbatim and no
  code runs (attribute and index access are rejected when the template is
  built); mustache renders plain data only; jinja2 runs in a sandbox and is
  an optional dependency.

Invoking a template is a chain run with ``run_type="prompt"`` (an
``on_prompt_*`` event in ``astream_events``), as in LangChain.
"""

from hookchain.prompts.base import BasePromptTemplate
from hookchain.prompts.chat import (
    AIMessagePromptTemplate, BaseChatPromptTemplate, BaseStringMessagePromptTemplate, ChatMessagePromptTemplate,
    ChatPromptTemplate, HumanMessagePromptTemplate, MessageLike, MessageLikeRepresentation, MessagesPlaceholder,
    SystemMessagePromptTemplate,
)
from hookchain.prompts.dict import DictPromptTemplate
from hookchain.prompts.image import ImagePromptTemplate
from hookchain.prompts.message import BaseMessagePromptTemplate
from hookchain.prompts.prompt import PromptTemplate
from hookchain.prompts.string import (
    StringPromptTemplate, check_valid_template, get_template_variables, jinja2_formatter, mustache_formatter,
)

__all__ = [
    "AIMessagePromptTemplate", "BaseChatPromptTemplate", "BaseMessagePromptTemplate", "BasePromptTemplate",
    "BaseStringMessagePromptTemplate", "ChatMessagePromptTemplate", "ChatPromptTemplate", "DictPromptTemplate",
    "HumanMessagePromptTemplate", "ImagePromptTemplate", "MessageLike", "MessageLikeRepresentation",
    "MessagesPlaceholder", "PromptTemplate", "StringPromptTemplate", "SystemMessagePromptTemplate",
    "check_valid_template", "get_template_variables", "jinja2_formatter", "mustache_formatter",
]
