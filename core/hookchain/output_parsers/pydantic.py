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

def _validation_errors() -> tuple[type[Exception], ...]:
    try:
        from pydantic import v1
    except ImportError:  # pragma: no cover - pydantic without its v1 shim
        return (pydantic.ValidationError,)
    return (pydantic.ValidationError, v1.ValidationError)

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
        try:
            if hasattr(model, "model_validate"):
                return model.model_validate(obj)
            if hasattr(model, "parse_obj"):
                return model.parse_obj(obj)
        except _validation_errors() as e:
            dumped = json.dumps(obj, ensure_ascii=False)
            raise OutputParserException(
                f"Failed to parse {model.__name__} from completion {dumped}. Got: {e}", llm_output=dumped,
            ) from e
        raise OutputParserException(f"PydanticOutputParser needs a pydantic model class, got {model!r}")

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
