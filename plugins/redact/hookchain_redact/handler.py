"""The ``redact`` handler: masks secrets in the messages before a chat model sees them.

Enable it in ``hookchain.toml``::

    [handlers.redact]
    kinds = ["email", "phone", "api_key"]      # the built-ins to use (default: all)
    restore = false                            # put the originals back into the answer
    [handlers.redact.patterns]                 # your own: name -> regular expression
    ticket = 'TCK-[0-9]{6}'

How it wraps a model call (the chat-model hooks, ``hookchain.hookspecs``):

* ``chat_model_start`` is the outermost wrapper (``wrapper=True, tryfirst=True``)
  of that hook: it masks before every other plugin's ``chat_model_start`` (so
  they see masked copies) and again after them, also when one raised (so what
  they add is masked too; placeholders already there are kept), with one
  mapping. Every cache lookup happens after all start hooks, so the model, the
  other plugins and the cache key (hookchain-cache) only ever see masked
  copies. ``call.messages`` is replaced by a new list; the caller's message
  objects are never changed. What was masked is reported once, after the
  second pass, as the custom event ``redact`` with ``{"counts": {kind:
  occurrences}, "total": n}``: kinds and numbers only, never a masked value.
* ``chat_model_cached`` (``tryfirst``, answers nothing): a guard. If this
  handler's ``chat_model_start`` did not run (a start-hook wrapper around it
  raised before its ``yield``), the messages
  went out unmasked; with ``fail_closed`` (the default) the call is stopped
  with ``RedactionError`` before the model or a cache is asked.
* ``chat_model_chunk`` and ``chat_model_end`` are ``trylast`` and only act with
  ``restore = true``: they put the originals back into the streamed chunks and
  the final message (content and tool-call arguments), after every other
  plugin saw the answer, so e.g. the cache stores the masked answer.

Streams and ``restore``: a placeholder can be split over several chunks (the
echo model streams one character per chunk). A chunk's text from a ``<`` that
may begin one of the call's placeholders is held back and prepended to the
next chunk (that chunk then carries the restored original); a chunk carrying
``finish_reason`` (in ``response_metadata`` or ``generation_info``) releases
what is held. If a stream ends without such a chunk while text is held, that
text (the start of a placeholder, e.g. ``<EMA``) is missing from the streamed
chunks but present, restored, in the final result (``on_llm_end``,
``invoke``'s answer). The number of chunks never changes; a chunk may become
empty. Chunks whose content is a list of blocks are restored in the final
result only.

Errors: with ``fail_closed = true`` (default) an error while masking stops the
call (the handler sets ``raise_error``), since going on would send the
unmasked text; with ``false`` it is logged and the call goes on unmasked. An
error while restoring is always logged and leaves the answer masked.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, field_validator

import hookchain
from hookchain.callbacks import BaseCallbackHandler

from hookchain_redact.patterns import (
    Masker, build_rules, check_kinds, compile_pattern, could_start_placeholder, map_tool_call_args, restore_content,
    restore_text, restore_value,
)

__all__ = ["RedactHandler", "RedactOptions", "RedactionError", "DEFAULT_KINDS"]

logger = logging.getLogger("hookchain_redact")

DEFAULT_KINDS = ("email", "phone", "api_key")
_FINISH_KEYS = ("finish_reason", "stop_reason", "done_reason")


class RedactionError(RuntimeError):
    """The messages could not be masked; the call was stopped (``fail_closed``)."""


class RedactOptions(BaseModel):
    """Options of the ``redact`` handler."""

    model_config = ConfigDict(extra="forbid")

    kinds: list[str] = list(DEFAULT_KINDS)
    """Built-in patterns to use: ``email``, ``phone``, ``api_key`` (default: all)."""
    patterns: dict[str, str] = {}
    """Your own patterns, ``name -> regular expression`` (Python ``re`` syntax);
    a match becomes ``<NAME_1>``. A named group ``mask`` masks only that part."""
    restore: bool = False
    """Put the originals back into the answer (final message and streamed chunks)."""
    fail_closed: bool = True
    """Stop the call when masking fails instead of sending the messages unmasked."""

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, value: list[str]) -> list[str]:
        return check_kinds(value)

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, value: dict[str, str]) -> dict[str, str]:
        for name, pattern in value.items():
            compile_pattern(name, pattern)
        return value


class RedactHandler(BaseCallbackHandler):
    """Masks e-mail addresses, phone numbers, API keys and custom patterns in
    every chat model call; see the module docstring for the order of hooks.

    Raises ``ValueError`` at construction for an unknown kind or a custom
    pattern that does not compile (the message names the pattern).
    """

    options_model = RedactOptions

    def __init__(self, kinds: Optional[list[str]] = None, patterns: Optional[dict[str, str]] = None,
                 restore: bool = False, fail_closed: bool = True) -> None:
        self.kinds = list(DEFAULT_KINDS) if kinds is None else check_kinds(kinds)
        self.patterns = dict(patterns or {})
        self.rules = build_rules(self.kinds, self.patterns)
        self.restore = bool(restore)
        self.fail_closed = bool(fail_closed)
        # hookchain re-raises a failing hook of a handler with raise_error.
        self.raise_error = self.fail_closed
        self._key = f"hookchain_redact:{id(self)}"  # this handler's entry in call.state

    def __repr__(self) -> str:
        return (f"RedactHandler(kinds={self.kinds!r}, patterns={sorted(self.patterns)!r}, "
                f"restore={self.restore!r}, fail_closed={self.fail_closed!r})")

    def masker(self) -> Masker:
        """A fresh ``Masker`` with this handler's rules (one per call)."""
        return Masker(self.rules)

    # -- the chat-model hooks --------------------------------------------- #
    @hookchain.hookimpl(wrapper=True, tryfirst=True)
    def chat_model_start(self, call: Any) -> Any:
        """Mask ``call.messages`` around every other plugin's ``chat_model_start``:
        before them (they see masked copies) and again after them (what they
        added is masked too), with one mapping, so placeholders stay stable."""
        masker = self.masker()
        self._mask(call, masker)
        call.state[self._key] = {"mapping": masker.mapping, "pending": ""}
        try:
            return (yield)
        finally:  # also when another plugin's start hook raised: the call may go on
            self._mask(call, masker)
            if masker.counts:
                call.dispatch_custom_event("redact", {"counts": dict(masker.counts), "total": sum(masker.counts.values())})

    @staticmethod
    def _mask(call: Any, masker: Masker) -> None:
        """``call.messages`` replaced by masked copies; ``RedactionError`` if that fails."""
        try:
            call.messages = [masker.mask_message(m) for m in call.messages]
        except Exception as e:
            raise RedactionError(f"could not mask the messages ({type(e).__name__}: {e})") from e

    @hookchain.hookimpl(tryfirst=True)
    def chat_model_cached(self, call: Any) -> None:
        """Never answers: checks that ``chat_model_start`` masked this call."""
        if self._key in call.state:
            return None
        message = ("the redact handler's chat_model_start did not run for this call (another plugin's "
                   "chat_model_start failed first), so its messages were not masked")
        if self.fail_closed:
            raise RedactionError(message + "; the call is stopped (fail_closed)")
        logger.warning("hookchain-redact: %s; the call goes on (fail_closed = false)", message)
        return None

    @hookchain.hookimpl(trylast=True)
    def chat_model_chunk(self, call: Any, chunk: Any) -> None:
        """With ``restore``: the originals back into the streamed chunk (``trylast``)."""
        state = call.state.get(self._key)
        if not self.restore or not state or not state["mapping"]:
            return
        try:
            self._restore_chunk(state, chunk)
        except Exception as e:  # noqa: BLE001 - restoring is best effort
            logger.warning("hookchain-redact: could not restore a streamed chunk, it stays masked: %r", e)

    @hookchain.hookimpl(trylast=True)
    def chat_model_end(self, call: Any, result: Any) -> None:
        """With ``restore``: the originals back into the final message(s) (``trylast``)."""
        state = call.state.get(self._key)
        if not self.restore or not state or not state["mapping"]:
            return
        mapping = state["mapping"]
        try:
            pending, state["pending"] = state["pending"], ""
            for i, generation in enumerate(result.generations):
                message = generation.message
                content = message.content
                if i == 0 and pending and isinstance(content, str):
                    content += pending  # held back at the end of a stream
                message.content = restore_content(content, mapping)
                for field, calls in map_tool_call_args(message, lambda args: restore_value(args, mapping)).items():
                    setattr(message, field, calls)
        except Exception as e:  # noqa: BLE001 - restoring is best effort
            logger.warning("hookchain-redact: could not restore the answer, it stays masked: %r", e)

    # -- streams ----------------------------------------------------------- #
    @staticmethod
    def _is_last(chunk: Any) -> bool:
        info = chunk.generation_info or {}
        meta = getattr(chunk.message, "response_metadata", None) or {}
        return any(info.get(k) or meta.get(k) for k in _FINISH_KEYS)

    def _restore_chunk(self, state: dict[str, Any], chunk: Any) -> None:
        content = chunk.message.content
        if not isinstance(content, str):
            return
        mapping = state["mapping"]
        text, tail = state["pending"] + content, ""
        if not self._is_last(chunk):
            i = text.rfind("<")
            if i >= 0 and ">" not in text[i:] and could_start_placeholder(text[i:], mapping):
                text, tail = text[:i], text[i:]
        state["pending"] = tail
        chunk.message.content = restore_text(text, mapping)
