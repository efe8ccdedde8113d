"""``Run``: one run as a tracer records it (as ``langchain_core.tracers.schemas.Run``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Run"]


class Run(BaseModel):
    """A run's record, with LangChain's field names.

    Fields: ``id`` (the run id), ``name``, ``run_type`` (``"chain"``,
    ``"chat_model"``, ``"llm"`` (text completion), ``"tool"``,
    ``"retriever"``, ``"prompt"``, ``"parser"``), ``start_time`` and
    ``end_time`` (UTC datetimes), ``inputs`` and ``outputs`` (dicts: a chain's
    non-dict input or output is wrapped as ``{"input": x}`` /
    ``{"output": x}``, as LangChain's tracers), ``error`` (the exception's
    ``repr`` followed by its traceback, as LangChain, or ``None``), ``tags``,
    ``extra`` (``{"metadata": {...}}``; also read as ``metadata``),
    ``serialized``, ``parent_run_id`` (``None`` for the root run a listener
    gets, as LangChain's tracers, which know no run above it), ``events`` (``{"name": "start" |
    "end" | "error", "time": datetime}``) and ``child_runs`` (kept empty:
    hookchain records the root run only).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: UUID
    name: str
    run_type: str
    start_time: datetime
    end_time: Optional[datetime] = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: Optional[dict[str, Any]] = Field(default_factory=dict)
    error: Optional[str] = None
    tags: list[str] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)
    serialized: Optional[dict[str, Any]] = None
    parent_run_id: Optional[UUID] = None
    events: list[dict[str, Any]] = Field(default_factory=list)
    child_runs: list["Run"] = Field(default_factory=list)

    @property
    def metadata(self) -> dict[str, Any]:
        """``extra["metadata"]`` (``{}`` if absent), as LangSmith's ``Run.metadata``."""
        return self.extra.get("metadata", {})
