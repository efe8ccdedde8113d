"""What is masked, and how: the built-in patterns, custom patterns, placeholders.

A ``Masker`` masks the texts of one model call: every match becomes a
placeholder ``<LABEL_N>`` (``LABEL``: the kind in capitals, ``N`` counts the
distinct values of that kind in the call, from 1). The same value gets the
same placeholder everywhere in the call, so the model can still tell that two
mentions are the same address. ``mapping`` (placeholder -> original) lets the
answer be restored; it lives only as long as the call.

When patterns overlap, custom patterns win over the built-ins, then
``api_key`` over ``email`` over ``phone``; a match overlapping one already
taken is skipped. A pattern with a named group ``mask`` masks only that group
(e.g. the value after ``password=``), else the whole match.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

__all__ = ["Rule", "BUILTIN_KINDS", "build_rules", "Masker", "restore_text", "label_of", "PLACEHOLDER",
           "map_tool_call_args"]

#: Any placeholder this plugin writes: ``<EMAIL_1>``, ``<API_KEY_12>``...
PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*_[0-9]+>")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Rule:
    """One regular expression of one kind; ``check`` may veto a match."""

    kind: str
    regex: "re.Pattern[str]"
    check: Optional[Callable[[str], bool]] = None


def label_of(kind: str) -> str:
    """The placeholder label of a kind: ``api_key`` -> ``API_KEY``."""
    return kind.upper()


# --------------------------------------------------------------------------- #
# Built-in patterns
# --------------------------------------------------------------------------- #

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![\w-])"
)

# Numbers written as phone numbers: with a leading + (E.164, separators
# optional) or in groups joined by space, dot or dash, with an optional (area
# code). Plain digit runs without + are left alone (order numbers, timestamps).
_PHONE = re.compile(
    r"(?<![\w+.-])(?:"
    r"\+[0-9]{1,3}(?:[ .-]?\(?[0-9]{1,4}\)?){1,5}[ .-]?[0-9]{2,4}"
    r"|\(?[0-9]{2,4}\)?(?:[ .-][0-9]{2,4}){1,4}"
    r")(?![\w.-]*[0-9])"
)
_DATE = re.compile(r"^[0-9]{4}[-./][0-9]{1,2}[-./][0-9]{1,2}$|^[0-9]{1,2}[-./][0-9]{1,2}[-./][0-9]{2,4}$")
_IPV4 = re.compile(r"^[0-9]{1,3}(?:\.[0-9]{1,3}){3}$")


def _is_phone(value: str) -> bool:
    digits = sum(c.isdigit() for c in value)
    return 7 <= digits <= 15 and not _DATE.match(value) and not _IPV4.match(value)


# Well-known key formats, then a long token right after a word like "key",
# "token", "secret" or "password" (only the token is masked).
_API_KEYS = (
    r"(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{16,}",                       # OpenAI, Anthropic (sk-ant-...), sk-proj-...
    r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])",     # AWS access key ids
    r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{30,}",                  # GitHub tokens
    r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,}",                # GitHub fine-grained tokens
    r"(?<![A-Za-z0-9])xox[abprs]-[A-Za-z0-9-]{10,}",                 # Slack tokens
    r"(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}",                        # Google API keys
    r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",  # JWTs
    r"(?i)(?<![a-z0-9])(?:api[_-]?key|access[_-]?key|secret(?:[_-]?key)?|private[_-]?key|client[_-]?secret|key|"
    r"token|access[_-]?token|auth[_-]?token|refresh[_-]?token|bearer|password|passwd|pwd)"
    r"(?:[\"']?\s*[:=]\s*[\"']?|\s+(?:is\s+|was\s+)?[\"']?)"
    r"(?P<mask>(?=[a-z0-9+/_.=-]*[0-9])[a-z0-9+/_.-]{16,}={0,2})",
)

BUILTIN_KINDS: dict[str, tuple[Rule, ...]] = {
    "api_key": tuple(Rule("api_key", re.compile(p)) for p in _API_KEYS),
    "email": (Rule("email", _EMAIL),),
    "phone": (Rule("phone", _PHONE, _is_phone),),
}
#: The order built-ins are tried in (the first to claim a span keeps it).
_BUILTIN_ORDER = ("api_key", "email", "phone")


def compile_pattern(name: Any, pattern: Any) -> "re.Pattern[str]":
    """Compile one custom pattern; ``ValueError`` naming it when it is unusable."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"redact pattern name {name!r} must start with a letter and hold only letters, digits and _ "
            f"(it becomes the placeholder <{str(name).upper()}_1>)"
        )
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(f"redact pattern {name!r} must be a non-empty regular expression string, got {pattern!r}")
    try:
        regex = re.compile(pattern)
    except re.error as e:
        raise ValueError(f"redact pattern {name!r} is not a valid regular expression: {e} (pattern: {pattern!r})") from None
    if regex.search("") is not None:
        raise ValueError(f"redact pattern {name!r} matches the empty string; it would mask nothing useful (pattern: {pattern!r})")
    return regex


def check_kinds(kinds: Iterable[Any]) -> list[str]:
    """``kinds`` as a list; ``ValueError`` naming an unknown one."""
    out = []
    for kind in kinds:
        if kind not in BUILTIN_KINDS:
            raise ValueError(f"unknown redact kind {kind!r}; built-in kinds: {', '.join(_BUILTIN_ORDER)}")
        if kind not in out:
            out.append(kind)
    return out


def build_rules(kinds: Optional[Sequence[str]] = None, patterns: Optional[Mapping[str, str]] = None) -> tuple[Rule, ...]:
    """The rules in priority order: custom patterns (in the order given), then
    the chosen built-ins. Raises ``ValueError`` naming a bad kind or pattern."""
    chosen = check_kinds(_BUILTIN_ORDER if kinds is None else kinds)
    rules = [Rule(name, compile_pattern(name, pattern)) for name, pattern in (patterns or {}).items()]
    for kind in _BUILTIN_ORDER:
        if kind in chosen:
            rules.extend(BUILTIN_KINDS[kind])
    return tuple(rules)


# --------------------------------------------------------------------------- #
# Masking one call
# --------------------------------------------------------------------------- #


class Masker:
    """Masks the texts of one call with stable placeholders.

    Attributes:
        mapping: ``{placeholder: original}`` (keep it private: it holds the secrets).
        counts: ``{kind: number of occurrences masked}`` (safe to report).
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = rules
        self.mapping: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        self._placeholders: dict[tuple[str, str], str] = {}
        self._next: dict[str, int] = {}

    def _placeholder(self, kind: str, value: str) -> str:
        label = label_of(kind)
        found = self._placeholders.get((label, value))
        if found is None:
            n = self._next.get(label, 0) + 1
            self._next[label] = n
            found = self._placeholders[(label, value)] = f"<{label}_{n}>"
            self.mapping[found] = value
        return found

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """Non-overlapping ``(start, end, kind)`` to mask, sorted by position.
        Placeholders already in ``text`` (``<EMAIL_1>``...) are left as they
        are, so masking masked text again changes nothing."""
        starts: list[int] = []
        taken: list[tuple[int, int, str]] = []
        if "<" in text:
            for m in PLACEHOLDER.finditer(text):
                starts.append(m.start())
                taken.append((m.start(), m.end(), ""))
        for rule in self.rules:
            masked_group = "mask" in rule.regex.groupindex
            for m in rule.regex.finditer(text):
                start, end = m.span("mask") if masked_group else m.span()
                if start < 0 or start == end:
                    continue
                if rule.check is not None and not rule.check(text[start:end]):
                    continue
                i = bisect.bisect_left(starts, start)
                if (i > 0 and taken[i - 1][1] > start) or (i < len(starts) and starts[i] < end):
                    continue  # overlaps a span an earlier rule claimed
                starts.insert(i, start)
                taken.insert(i, (start, end, rule.kind))
        return [span for span in taken if span[2]]

    def mask(self, text: str) -> str:
        """``text`` with every match replaced by its placeholder."""
        return self.mask_pieces([text])[0] if text else text

    def mask_pieces(self, texts: Sequence[str]) -> list[str]:
        """Mask ``texts`` read as one text (a model reads a message's text
        blocks joined), so a value split between two pieces is found. Each
        piece is masked in place; a value spanning pieces becomes one
        placeholder in the piece where it starts and is cut from the others."""
        joined = "".join(texts)
        spans = self.spans(joined) if joined else []
        if not spans:
            return list(texts)
        out, lo = [], 0
        for text in texts:
            hi = lo + len(text)
            parts, at = [], lo
            for start, end, kind in spans:
                if end <= lo or start >= hi:
                    continue
                if start >= lo:
                    parts.append(joined[at:start])
                    parts.append(self._placeholder(kind, joined[start:end]))
                    self.counts[kind] = self.counts.get(kind, 0) + 1
                at = min(end, hi)
            parts.append(joined[at:hi])
            out.append("".join(parts))
            lo = hi
        return out

    def mask_content(self, content: Any) -> Any:
        """A message ``content``: a str, or a list of str / content blocks
        whose texts (str items and ``{"type": "text", "text": ...}`` blocks;
        others are kept) are masked together, see ``mask_pieces``."""
        if isinstance(content, str):
            return self.mask(content)
        if not isinstance(content, list):
            return content
        where = [i for i, block in enumerate(content) if _block_text(block) is not None]
        texts = [_block_text(content[i]) for i in where]
        masked = self.mask_pieces(texts)
        if masked == texts:
            return content
        out = list(content)
        for i, text in zip(where, masked):
            out[i] = text if isinstance(content[i], str) else {**content[i], "text": text}
        return out

    def mask_value(self, value: Any) -> Any:
        """Strings inside nested dicts/lists (tool-call arguments)."""
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, dict):
            return {k: self.mask_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.mask_value(v) for v in value]
        return value

    def mask_message(self, message: Any) -> Any:
        """A masked copy of ``message`` (the same object when nothing matched;
        the original is never changed): its content and the arguments of its
        ``tool_calls``, ``invalid_tool_calls`` and ``tool_call_chunks``."""
        update: dict[str, Any] = {}
        content = self.mask_content(message.content)
        if content != message.content:
            update["content"] = content
        update.update(map_tool_call_args(message, self.mask_value))
        return message.model_copy(update=update) if update else message


#: Where an AI message carries tool-call arguments: parsed (a dict), unparseable
#: (``invalid_tool_calls``: the raw string) and streamed pieces (strings).
TOOL_CALL_FIELDS = ("tool_calls", "invalid_tool_calls", "tool_call_chunks")


def map_tool_call_args(message: Any, fn: Callable[[Any], Any]) -> dict[str, list]:
    """``{field: calls with fn(args)}`` for each field of ``TOOL_CALL_FIELDS``
    that ``message`` has and ``fn`` changes (new dicts; ``message`` is not changed)."""
    changed = {}
    for field in TOOL_CALL_FIELDS:
        calls = getattr(message, field, None)
        if calls:
            mapped = [{**c, "args": fn(c.get("args"))} if isinstance(c, dict) and "args" in c else c for c in calls]
            if mapped != calls:
                changed[field] = mapped
    return changed


def _block_text(block: Any) -> Optional[str]:
    """The text of a content item (a str or a text block), else ``None``."""
    if isinstance(block, str):
        return block
    if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
        return block["text"]
    return None


# --------------------------------------------------------------------------- #
# Restoring an answer
# --------------------------------------------------------------------------- #


def restore_text(text: str, mapping: Mapping[str, str]) -> str:
    """``text`` with this call's placeholders replaced by the originals
    (placeholders of other calls, or made up by the model, are kept)."""
    if not mapping or "<" not in text:
        return text
    return PLACEHOLDER.sub(lambda m: mapping.get(m.group(0), m.group(0)), text)


def restore_content(content: Any, mapping: Mapping[str, str]) -> Any:
    if isinstance(content, str):
        return restore_text(content, mapping)
    if isinstance(content, list):
        return [
            restore_text(b, mapping) if isinstance(b, str)
            else {**b, "text": restore_text(b["text"], mapping)}
            if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str) else b
            for b in content
        ]
    return content


def restore_value(value: Any, mapping: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return restore_text(value, mapping)
    if isinstance(value, dict):
        return {k: restore_value(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [restore_value(v, mapping) for v in value]
    return value


def could_start_placeholder(tail: str, mapping: Mapping[str, str]) -> bool:
    """Whether ``tail`` (text from a ``<`` to the end, no ``>``) may be the
    beginning of one of this call's placeholders."""
    return any(p.startswith(tail) for p in mapping)
