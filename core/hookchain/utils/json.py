"""Lenient JSON reading for model output (as ``langchain_core.utils.json``).

Models wrap JSON in markdown fences and, while streaming, stop in the middle of
it. ``parse_partial_json`` completes a truncated document (closes the open
string, arrays and objects; drops trailing characters that still do not parse)
and ``parse_json_markdown`` first takes the JSON out of a code fence.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Optional

from hookchain.errors import OutputParserException

__all__ = ["parse_partial_json", "parse_json_markdown", "parse_and_check_json_markdown"]

_CLOSER = {"{": "}", "[": "]"}


def parse_partial_json(s: str, *, strict: bool = False) -> Any:
    """The value of the JSON text ``s``, completed if it was cut short.

    Args:
        s: JSON text, possibly truncated (``'{"a": [1, "x'`` reads as
            ``{"a": [1, "x"]}``).
        strict: passed to ``json.loads``; when false (the default, as
            LangChain) raw control characters are allowed inside strings.

    Returns:
        The parsed value, or ``None`` when a closing bracket does not match the
        open one (``'{"a": 1]'``), as LangChain.

    Raises:
        json.JSONDecodeError: when no prefix of ``s`` completes into JSON.
    """
    try:
        return json.loads(s, strict=strict)
    except json.JSONDecodeError:
        pass
    kept: list[str] = []
    closers: list[str] = []
    in_string = escaped = False
    for char in s:
        if in_string:
            if char == '"' and not escaped:
                in_string = False
            elif char == "\n" and not escaped:
                char = "\\n"  # a raw newline inside a string, escaped
            elif char == "\\":
                escaped = not escaped
            else:
                escaped = False
        elif char == '"':
            in_string, escaped = True, False
        elif char in _CLOSER:
            closers.append(_CLOSER[char])
        elif char in "}]":
            if not closers or closers[-1] != char:
                return None
            closers.pop()
        kept.append(char)
    if in_string:
        if escaped:  # a dangling backslash would escape the closing quote
            kept.pop()
        kept.append('"')
    tail = "".join(reversed(closers))
    while kept:  # drop trailing characters (a half-written key, a comma...) until it parses
        try:
            return json.loads("".join(kept) + tail, strict=strict)
        except json.JSONDecodeError:
            kept.pop()
    return json.loads(s, strict=strict)  # raises the error for the original text


_FENCE = re.compile(r"```(json)?(.*)", re.DOTALL)
_STRIP = " \n\r\t`"


def parse_json_markdown(json_string: str, *, parser: Callable[[str], Any] = parse_partial_json) -> Any:
    """The JSON value in ``json_string``: the whole text, or else what follows
    the first markdown fence (```` ``` ```` or ```` ```json ````), surrounding
    whitespace and backticks removed (as LangChain's ``parse_json_markdown``).

    ``parser`` reads the JSON text (default ``parse_partial_json``, so an open
    fence or a truncated document still parse). Raises
    ``json.JSONDecodeError`` when neither reading parses.
    """
    try:
        return parser(json_string.strip(_STRIP))
    except json.JSONDecodeError:
        match = _FENCE.search(json_string)
        if match is None:
            raise
    return parser(match.group(2).strip(_STRIP))


def parse_and_check_json_markdown(text: str, expected_keys: list[str]) -> dict[str, Any]:
    """``parse_json_markdown(text)``, checked to be an object holding every key
    in ``expected_keys``.

    Raises:
        OutputParserException: the text is not JSON, not an object, or lacks a key.
    """
    try:
        found: Optional[Any] = parse_json_markdown(text)
    except json.JSONDecodeError as e:
        raise OutputParserException(f"Got invalid JSON object. Error: {e}") from e
    if not isinstance(found, dict):
        raise OutputParserException(
            f"Expected JSON object (dict), but got: {type(found).__name__}. ", llm_output=text
        )
    for key in expected_keys:
        if key not in found:
            raise OutputParserException(
                f"Got invalid return object. Expected key `{key}` to be present, but got {found}"
            )
    return found
