"""``JsonOutputParser`` (as ``langchain_core.output_parsers.json``).

Reads the JSON in a model's answer, inside a markdown code fence or not. While
streaming it yields the object parsed so far each time it grows (``{}``,
``{"a": "H"}``, ``{"a": "Hi"}``...), reading truncated JSON with
``parse_partial_json``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Optional

from pydantic import SkipValidation

from hookchain.errors import OutputParserException
from hookchain.output_parsers.format_instructions import JSON_FORMAT_INSTRUCTIONS
from hookchain.output_parsers.transform import BaseCumulativeTransformOutputParser
from hookchain.outputs import Generation
from hookchain.utils.json import parse_and_check_json_markdown, parse_json_markdown, parse_partial_json

__all__ = ["JsonOutputParser", "SimpleJsonOutputParser", "parse_partial_json", "parse_and_check_json_markdown"]


def schema_instructions(model: type) -> str:
    """``JSON_FORMAT_INSTRUCTIONS`` with the JSON schema of ``model`` (a
    pydantic v2 or v1 model class), its top-level ``title`` and ``type`` removed."""
    schema = model.model_json_schema() if hasattr(model, "model_json_schema") else model.schema()
    reduced = {k: v for k, v in schema.items() if k not in ("title", "type")}
    return JSON_FORMAT_INSTRUCTIONS.format(schema=json.dumps(reduced, ensure_ascii=False))


class JsonOutputParser(BaseCumulativeTransformOutputParser[Any]):
    """The JSON value in a model's answer (any JSON type).

    Fields:
        pydantic_object: a pydantic model class whose schema
            ``get_format_instructions`` shows the model. As LangChain, the
            parsed value is *not* validated against it (use
            ``PydanticOutputParser`` for that).
        diff: stream JSON patches (lists of RFC 6902 operations) instead of
            whole objects; needs the ``jsonpatch`` package.

    Raises ``OutputParserException`` (with ``llm_output``, the stripped text)
    when the whole answer is not JSON.
    """

    pydantic_object: Annotated[Optional[type], SkipValidation()] = None

    def _diff(self, prev: Optional[Any], next: Any) -> Any:
        try:
            import jsonpatch
        except ImportError:
            raise ImportError("JsonOutputParser(diff=True) needs the jsonpatch package: pip install jsonpatch") from None
        return jsonpatch.make_patch(prev, next).patch

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        """The JSON value of ``result[0].text``; with ``partial=True``, ``None``
        instead of an error while it is not JSON yet."""
        text = result[0].text.strip()
        try:
            return parse_json_markdown(text)
        except json.JSONDecodeError as e:
            if partial:
                return None
            raise OutputParserException(f"Invalid json output: {text}", llm_output=text) from e

    def parse(self, text: str) -> Any:
        return self.parse_result([Generation(text=text)])

    def get_format_instructions(self) -> str:
        """Asks for JSON; with ``pydantic_object``, for an instance of its schema."""
        if self.pydantic_object is None:
            return "Return a JSON object."
        return schema_instructions(self.pydantic_object)

    @property
    def _type(self) -> str:
        return "simple_json_output_parser"


SimpleJsonOutputParser = JsonOutputParser
