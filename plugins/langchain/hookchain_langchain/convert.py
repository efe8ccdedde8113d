"""Objects converted between hookchain and ``langchain_core``, both ways.

``to_langchain(obj)`` and ``to_hookchain(obj)`` convert messages (every class
of ``hookchain.messages``, chunks included), generations and results
(``hookchain.outputs``) and prompt values, also inside lists, tuples and dicts,
field by field: content, tool calls, tool-call chunks, usage and response
metadata, ids and the rest arrive unchanged (the same dicts and lists, not
copies). Anything else is returned as is; a container in which nothing needed
converting is returned itself, so the cost of an event with plain data is one
type lookup per value.
"""

from __future__ import annotations

from typing import Any, Callable

import hookchain.messages as hc_messages
import hookchain.outputs as hc_outputs
import hookchain.prompt_values as hc_prompt_values
import langchain_core.messages as lc_messages
import langchain_core.outputs as lc_outputs
import langchain_core.prompt_values as lc_prompt_values

__all__ = ["to_langchain", "to_hookchain", "message_fields"]

Convert = Callable[[Any], Any]

#: The message classes, by name; both libraries have the same names and fields.
_MESSAGES = [
    name for name in hc_messages.__all__
    if isinstance(getattr(hc_messages, name), type) and issubclass(getattr(hc_messages, name), hc_messages.BaseMessage)
    and name not in ("BaseMessage", "BaseMessageChunk")
]


def message_fields(cls: type) -> tuple[str, ...]:
    """The field names of hookchain message class ``cls`` (LangChain's, less ``type``)."""
    return tuple(name for name, _ in cls._fields if not (name == "content" and cls.__name__ == "RemoveMessage"))


def _message(target: type, fields: tuple[str, ...], build: Callable[..., Any]) -> Callable[[Any, Convert], Any]:
    def convert(message: Any, _: Convert) -> Any:
        return build(target, {f: getattr(message, f) for f in fields})

    return convert


def _lc_build(target: type, values: dict[str, Any]) -> Any:
    # The values come from a valid hookchain message (validated there, tool calls
    # already derived from the chunks): no second validation on the token path.
    return target.model_construct(**values)


def _hc_build(target: type, values: dict[str, Any]) -> Any:
    return target(**values)


def _generation(target: type) -> Callable[[Any, Convert], Any]:
    def convert(generation: Any, to: Convert) -> Any:
        if hasattr(generation, "message"):
            return target(message=to(generation.message), generation_info=generation.generation_info)
        return target(text=generation.text, generation_info=generation.generation_info)

    return convert


def _result(target: type, with_run: bool) -> Callable[[Any, Convert], Any]:
    def convert(result: Any, to: Convert) -> Any:
        generations = to(result.generations)
        return target(generations=generations, llm_output=result.llm_output, **({"run": None} if with_run else {}))

    return convert


def _table(direction: str) -> dict[type, Callable[[Any, Convert], Any]]:
    to_lc = direction == "lc"
    pairs: list[tuple[type, type, Callable[..., Any]]] = []
    for name in _MESSAGES:
        hc, lc = getattr(hc_messages, name), getattr(lc_messages, name)
        fields = message_fields(hc)
        pairs.append((hc, lc, lambda t, f=fields: _message(t, f, _lc_build if to_lc else _hc_build)))
    for name in ("Generation", "GenerationChunk", "ChatGeneration", "ChatGenerationChunk"):
        pairs.append((getattr(hc_outputs, name), getattr(lc_outputs, name), _generation))
    pairs.append((hc_outputs.ChatResult, lc_outputs.ChatResult, lambda t: _result(t, False)))
    pairs.append((hc_outputs.LLMResult, lc_outputs.LLMResult, lambda t: _result(t, True)))
    pairs.append((hc_prompt_values.ChatPromptValue, lc_prompt_values.ChatPromptValue,
                  lambda t: lambda v, to: t(messages=to(v.messages))))
    pairs.append((hc_prompt_values.StringPromptValue, lc_prompt_values.StringPromptValue,
                  lambda t: lambda v, to: t(text=v.text)))
    pairs.append((hc_prompt_values.ImagePromptValue, lc_prompt_values.ImagePromptValue,
                  lambda t: lambda v, to: t(image_url=v.image_url)))
    return {(hc if to_lc else lc): make(lc if to_lc else hc) for hc, lc, make in pairs}


def _converter(table: dict[type, Callable[[Any, Convert], Any]]) -> Convert:
    plain: set[type] = {str, int, float, bool, type(None), bytes}
    found: dict[type, Any] = {}

    def lookup(cls: type) -> Any:
        # A subclass (a user's message class) converts as its nearest known base.
        fn = next((table[base] for base in cls.__mro__ if base in table), None)
        found[cls] = fn
        return fn

    def convert(obj: Any) -> Any:
        cls = type(obj)
        if cls in plain:
            return obj
        fn = found[cls] if cls in found else lookup(cls)
        if fn is not None:
            return fn(obj, convert)
        if cls is list or cls is tuple:
            items = [convert(x) for x in obj]
            if all(a is b for a, b in zip(items, obj)):
                return obj
            return items if cls is list else tuple(items)
        if cls is dict:
            values = {k: convert(v) for k, v in obj.items()}
            if all(values[k] is v for k, v in obj.items()):
                return obj
            return values
        return obj

    return convert


#: hookchain objects (or containers of them) as ``langchain_core`` objects.
to_langchain: Convert = _converter(_table("lc"))
#: ``langchain_core`` objects (or containers of them) as hookchain objects.
to_hookchain: Convert = _converter(_table("hc"))
