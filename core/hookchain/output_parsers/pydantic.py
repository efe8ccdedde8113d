"""``PydanticOutputParser`` (as ``langchain_core.output_parsers.pydantic``)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Generic, Optional, TypeVar

import pydantic
from pydantic import SkipValidation

from hookchain.errors import OutputParserException
from hookchain.output_parsers.json import JsonOutputParser, schema_instructions
from hookchain.outputs import Generation

__all__ = ["PydanticOutputParser"]

TBaseModel = TypeVar("TBaseModel")


class PydanticOutputParser(JsonOutputParser, Generic[TBaseModel]):
    """The JSON in a model's answer, validated into ``pydantic_object`` (a
    pydantic v2 or v1 model class). Streams a model instance each time the
    partial JSON validates into a new one.

    Raises ``OutputParserException`` when the answer is not JSON or does not
    validate; for the latter its ``llm_output`` is the parsed JSON re-dumped.
    """

    pydantic_object: Annotated[type, SkipValidation()]  # type: ignore[assignment]

    def _parse_obj(self, obj: Any) -> Any:
        model = self.pydantic_object
        if hasattr(model, "model_validate"):  # a pydantic v2 model
            validate, invalid = model.model_validate, pydantic.ValidationError
        elif hasattr(model, "parse_obj"):  # a pydantic.v1 model
            from pydantic.v1 import ValidationError as invalid

            validate = model.parse_obj
        else:
            raise OutputParserException(f"PydanticOutputParser needs a pydantic model class, got {model!r}")
        try:
            return validate(obj)
        except invalid as e:
            dumped = json.dumps(obj, ensure_ascii=False)
            raise OutputParserException(
                f"Failed to parse {model.__name__} from completion {dumped}. Got: {e}", llm_output=dumped,
            ) from e

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Optional[Any]:
        """A ``pydantic_object`` instance; with ``partial=True``, ``None`` while
        the text does not validate yet."""
        try:
            return self._parse_obj(super().parse_result(result, partial=partial))
        except OutputParserException:
            if partial:
                return None
            raise

    def parse(self, text: str) -> Any:
        return self.parse_result([Generation(text=text)])

    def get_format_instructions(self) -> str:
        """Asks for an instance of ``pydantic_object``'s JSON schema."""
        return schema_instructions(self.pydantic_object)

    @property
    def _type(self) -> str:
        return "pydantic"
