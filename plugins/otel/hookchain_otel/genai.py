"""What a model run becomes as OpenTelemetry GenAI attributes.

Follows the OpenTelemetry semantic conventions for generative AI (client
spans): the request (``gen_ai.operation.name``, ``gen_ai.provider.name``,
``gen_ai.request.*``) read from the callback's ``invocation_params`` and, when a
model reports them as LangChain's do, the ``ls_*`` metadata keys; the response
(``gen_ai.response.*``, ``gen_ai.usage.*``) read from the ``LLMResult`` of
``on_llm_end``; and, only when content capture is on, the messages as the
``gen_ai.input.messages`` / ``gen_ai.output.messages`` JSON documents.
"""

from __future__ import annotations

import json
from typing import Any, Iterator, Optional

from pydantic import BaseModel, SecretBytes, SecretStr

__all__ = ["HIDDEN", "request_attributes", "response_attributes", "input_messages", "output_messages",
           "prompt_messages", "to_json", "attribute_value"]

HIDDEN = "**********"  # how pydantic shows a SecretStr

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool", "function": "tool",
          "developer": "system", "chat": "user"}
# invocation_params key(s) -> gen_ai.request attribute (the first key present wins)
_REQUEST = (
    (("temperature",), "gen_ai.request.temperature"),
    (("max_tokens", "max_completion_tokens", "max_output_tokens", "max_new_tokens"), "gen_ai.request.max_tokens"),
    (("top_p",), "gen_ai.request.top_p"),
    (("top_k",), "gen_ai.request.top_k"),
    (("frequency_penalty",), "gen_ai.request.frequency_penalty"),
    (("presence_penalty",), "gen_ai.request.presence_penalty"),
    (("seed",), "gen_ai.request.seed"),
)
_LS = {"ls_temperature": "gen_ai.request.temperature", "ls_max_tokens": "gen_ai.request.max_tokens"}


def _json_default(value: Any) -> Any:
    if isinstance(value, (SecretStr, SecretBytes)):
        return HIDDEN
    if isinstance(value, BaseModel) or callable(getattr(value, "model_dump", None)):  # pydantic models, messages
        return value.model_dump()
    if hasattr(value, "to_messages") and callable(value.to_messages):  # a PromptValue
        return {"messages": value.to_messages()}
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    slots = [name for cls in type(value).__mro__ for name in getattr(cls, "__slots__", ()) if not name.startswith("_")]
    if slots:  # a Generation, a ChatGeneration...
        return {name: getattr(value, name, None) for name in slots}
    return repr(value)


def to_json(value: Any) -> str:
    """``value`` as JSON text: ``SecretStr``/``SecretBytes`` as ``**********``,
    pydantic models (messages, documents) dumped, anything else by ``repr``."""
    try:
        return json.dumps(value, default=_json_default, ensure_ascii=False)
    except (TypeError, ValueError):  # circular, keys that are not strings...
        return json.dumps(repr(value), ensure_ascii=False)


def attribute_value(value: Any) -> Any:
    """``value`` as an OpenTelemetry attribute value: str, bool, int and float
    as they are, a list of one of those as a list, a secret as ``**********``,
    anything else as JSON text; ``None`` for ``None``."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (SecretStr, SecretBytes)):
        return HIDDEN
    if isinstance(value, (list, tuple)) and value:
        kind = type(value[0])
        if kind in (str, bool, int, float) and all(type(v) is kind for v in value):
            return list(value)
    return to_json(value)


def _model_name(params: dict[str, Any], metadata: dict[str, Any]) -> Optional[str]:
    for source, keys in ((metadata, ("ls_model_name",)), (params, ("model", "model_name", "model_id", "deployment_name"))):
        for key in keys:
            value = source.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def _provider(params: dict[str, Any], metadata: dict[str, Any]) -> Optional[str]:
    """``ls_provider`` (as LangChain's models report it), else the model's
    ``_llm_type`` up to its first ``-`` (``openai-chat`` -> ``openai``)."""
    provider = metadata.get("ls_provider")
    if isinstance(provider, str) and provider:
        return provider
    llm_type = params.get("_type")
    if isinstance(llm_type, str) and llm_type:
        return llm_type.split("-", 1)[0]
    return None


def request_attributes(operation: str, params: Optional[dict[str, Any]],
                       metadata: Optional[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """``(span name, attributes)`` of a model run's request: the span is named
    ``"{operation} {model}"`` (just ``operation`` when no model is known), as the
    GenAI conventions ask. ``operation`` is ``"chat"`` or ``"text_completion"``."""
    params, metadata = params or {}, metadata or {}
    model = _model_name(params, metadata)
    attributes: dict[str, Any] = {"gen_ai.operation.name": operation}
    provider = _provider(params, metadata)
    if provider:
        attributes["gen_ai.provider.name"] = provider
    if model:
        attributes["gen_ai.request.model"] = model
    for key, attribute in _LS.items():
        if isinstance(metadata.get(key), (int, float)):
            attributes[attribute] = metadata[key]
    for keys, attribute in _REQUEST:
        value = next((params[k] for k in keys if params.get(k) is not None), None)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            attributes[attribute] = value
    stop = params.get("stop") if params.get("stop") is not None else metadata.get("ls_stop")
    if isinstance(stop, str):
        stop = [stop]
    if isinstance(stop, (list, tuple)) and stop and all(isinstance(s, str) for s in stop):
        attributes["gen_ai.request.stop_sequences"] = list(stop)
    return (f"{operation} {model}" if model else operation), attributes


def _generations(response: Any) -> Iterator[Any]:
    for generations in getattr(response, "generations", None) or ():
        yield from generations


def response_attributes(response: Any) -> dict[str, Any]:
    """The ``gen_ai.response.*`` and ``gen_ai.usage.*`` attributes of an
    ``LLMResult``: the model and finish reasons from each answer's
    ``response_metadata`` (or ``generation_info``), usage from the messages'
    ``usage_metadata``, else ``llm_output["token_usage"]`` (OpenAI's names)."""
    attributes: dict[str, Any] = {}
    reasons: list[str] = []
    usage_found, inp, out, cached = False, 0, 0, 0
    llm_output = getattr(response, "llm_output", None) or {}
    for generation in _generations(response):
        message = getattr(generation, "message", None)
        meta = {**(getattr(generation, "generation_info", None) or {}), **(getattr(message, "response_metadata", None) or {})}
        model = meta.get("model_name") or meta.get("model")
        if isinstance(model, str) and model:
            attributes.setdefault("gen_ai.response.model", model)
        answer_id = meta.get("id")
        if isinstance(answer_id, str) and answer_id:
            attributes.setdefault("gen_ai.response.id", answer_id)
        reason = meta.get("finish_reason") or meta.get("stop_reason")
        if isinstance(reason, str) and reason:
            reasons.append(reason)
        usage = getattr(message, "usage_metadata", None)
        if usage:
            usage_found = True
            inp += usage.get("input_tokens") or 0
            out += usage.get("output_tokens") or 0
            cached += (usage.get("input_token_details") or {}).get("cache_read") or 0
    if "gen_ai.response.model" not in attributes:
        model = llm_output.get("model_name") or llm_output.get("model")
        if isinstance(model, str) and model:
            attributes["gen_ai.response.model"] = model
    if reasons:
        attributes["gen_ai.response.finish_reasons"] = reasons
    if usage_found:
        attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"] = inp, out
        if cached:
            attributes["gen_ai.usage.cache_read.input_tokens"] = cached
    else:
        token_usage = llm_output.get("token_usage") or llm_output.get("usage") or {}
        if isinstance(token_usage, dict):
            for key, attribute in (("prompt_tokens", "gen_ai.usage.input_tokens"), ("completion_tokens", "gen_ai.usage.output_tokens")):
                if isinstance(token_usage.get(key), int):
                    attributes[attribute] = token_usage[key]
    return attributes


def _parts(message: Any) -> list[dict[str, Any]]:
    """A message's content (and tool calls) as GenAI message parts."""
    parts: list[dict[str, Any]] = []
    content = getattr(message, "content", "")
    if isinstance(content, str):
        if content:
            parts.append({"type": "text", "content": content})
    else:
        for block in content or ():
            if isinstance(block, str):
                parts.append({"type": "text", "content": block})
            elif isinstance(block, dict) and block.get("type") == "text":
                parts.append({"type": "text", "content": block.get("text", "")})
            else:
                parts.append({"type": block.get("type", "unknown") if isinstance(block, dict) else "unknown", "content": block})
    for call in getattr(message, "tool_calls", None) or ():
        parts.append({"type": "tool_call", "id": call.get("id"), "name": call.get("name"), "arguments": call.get("args")})
    if _role(message) == "tool":
        parts = [{"type": "tool_call_response", "id": getattr(message, "tool_call_id", None), "response": content}]
    return parts


def _role(message: Any) -> str:
    kind = getattr(message, "type", "") or ""
    if kind.endswith("MessageChunk"):  # AIMessageChunk -> ai
        kind = kind[: -len("MessageChunk")].lower()
    return _ROLES.get(kind) or getattr(message, "role", None) or "user"


def _message(message: Any) -> dict[str, Any]:
    return {"role": _role(message), "parts": _parts(message)}


def input_messages(messages: list[Any]) -> str:
    """``gen_ai.input.messages``: a chat model's messages as the GenAI JSON document."""
    return to_json([_message(m) for m in messages])


def prompt_messages(prompts: list[str]) -> str:
    """``gen_ai.input.messages`` of a text-completion (LLM) run: each prompt as a user message."""
    return to_json([{"role": "user", "parts": [{"type": "text", "content": p}]} for p in prompts])


def output_messages(response: Any) -> str:
    """``gen_ai.output.messages``: each answer of an ``LLMResult`` as an assistant
    message, with its finish reason."""
    out = []
    for generation in _generations(response):
        message = getattr(generation, "message", None)
        meta = {**(getattr(generation, "generation_info", None) or {}), **(getattr(message, "response_metadata", None) or {})}
        entry = _message(message) if message is not None else {"role": "assistant", "parts": [{"type": "text", "content": generation.text}]}
        entry["finish_reason"] = meta.get("finish_reason") or meta.get("stop_reason") or "stop"
        out.append(entry)
    return to_json(out)
