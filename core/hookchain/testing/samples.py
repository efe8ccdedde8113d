"""Realistic arguments for every callback event, as LangChain passes them.

``event_calls()`` returns one plausible lifecycle (a sequence with a chat model
run, an LLM run that fails, tools, a retriever, an agent step, a retry, a
custom event, a failing sub-chain) as ``(event, args, kwargs)`` triples. Every
event of ``hookchain.hookspecs.CALLBACK_EVENTS`` appears at least once.
"""

from __future__ import annotations

import uuid
from typing import Any, NamedTuple, Optional

__all__ = ["AgentAction", "AgentFinish", "Document", "RetryState", "event_calls"]


class AgentAction(NamedTuple):
    """Shaped as ``langchain_core.agents.AgentAction``."""

    tool: str
    tool_input: Any
    log: str


class AgentFinish(NamedTuple):
    """Shaped as ``langchain_core.agents.AgentFinish``."""

    return_values: dict
    log: str


class Document(NamedTuple):
    """Shaped as ``langchain_core.documents.Document``."""

    page_content: str
    metadata: dict
    id: Optional[str] = None


class RetryState(NamedTuple):
    """The attributes of tenacity's ``RetryCallState`` a handler usually reads."""

    attempt_number: int
    idle_for: float
    outcome: Any = None


def _serialized(*path: str) -> dict[str, Any]:
    return {"id": list(path), "name": path[-1]}


def event_calls(tags: Optional[list[str]] = None, metadata: Optional[dict[str, Any]] = None) -> list[tuple[str, tuple, dict[str, Any]]]:
    """One lifecycle of events with consistent run ids, in firing order."""
    from hookchain.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
    from hookchain.outputs import ChatGeneration, ChatGenerationChunk, Generation, GenerationChunk, LLMResult

    tags = list(tags or ["conformance"])
    metadata = dict(metadata or {"conformance_suite": "handler"})
    seq, chat, llm, tool, bad_tool, retriever, bad_retriever, sub = (uuid.uuid4() for _ in range(8))
    messages = [[SystemMessage("You are terse."), HumanMessage("Tell me a joke about bears")]]
    step = tags + ["seq:step:2"]
    invocation = {"model_name": "conformance", "_type": "conformance", "stop": None}

    def child(run_id: uuid.UUID, parent: Optional[uuid.UUID] = seq, **kw: Any) -> dict[str, Any]:
        return {"run_id": run_id, "parent_run_id": parent, "tags": step if parent else tags, **kw}

    def start(run_id: uuid.UUID, parent: Optional[uuid.UUID] = seq, **kw: Any) -> dict[str, Any]:
        return {**child(run_id, parent), "metadata": metadata, **kw}

    answer = AIMessage("Why did the bear...", response_metadata={"model_name": "conformance", "finish_reason": "stop"},
                       usage_metadata={"input_tokens": 9, "output_tokens": 4, "total_tokens": 13}, id=f"run-{chat}-0")
    tokens = ["Why", " did", " the bear", "..."]
    calls: list[tuple[str, tuple, dict[str, Any]]] = [
        ("on_chain_start", (_serialized("hookchain", "runnables", "RunnableSequence"), {"animal": "bears"}),
         start(seq, None, name="RunnableSequence")),
        ("on_chat_model_start", (_serialized("hookchain_conformance", "ConformanceChatModel"), messages),
         start(chat, invocation_params=invocation, options={"stop": None}, name=None, batch_size=1)),
    ]
    for token in tokens:
        calls.append(("on_llm_new_token", (token,), child(chat, chunk=ChatGenerationChunk(message=AIMessageChunk(token)))))
    calls += [
        ("on_llm_end", (LLMResult(generations=[[ChatGeneration(message=answer)]], llm_output={"model_name": "conformance"}),), child(chat)),
        ("on_retry", (RetryState(attempt_number=2, idle_for=0.5),), child(chat)),
        ("on_llm_start", (_serialized("hookchain_conformance", "ConformanceLLM"), ["System: You are terse.\nHuman: Tell me a joke about bears"]),
         start(llm, invocation_params=invocation, options={"stop": ["\n"]}, name=None, batch_size=1)),
        ("on_llm_new_token", ("Why",), child(llm, chunk=GenerationChunk(text="Why"))),
        ("on_llm_error", (TimeoutError("the model timed out"),),
         child(llm, response=LLMResult(generations=[[Generation(text="Why")]]))),
        ("on_tool_start", (_serialized("hookchain_conformance", "search"), "bears"),
         start(tool, inputs={"query": "bears"}, name="search", color="green")),
        ("on_text", ("searching for bears\n",), child(tool, color="green", end="\n")),
        ("on_tool_end", ("3 results about bears",), child(tool, name="search", color="green", observation_prefix="Observation: ")),
        ("on_tool_start", (_serialized("hookchain_conformance", "calculator"), "1/0"), start(bad_tool, name="calculator")),
        ("on_tool_error", (ZeroDivisionError("division by zero"),), child(bad_tool, name="calculator")),
        ("on_retriever_start", (_serialized("hookchain_conformance", "BearRetriever"), "bears"), start(retriever, name="BearRetriever")),
        ("on_retriever_end", ([Document("Bears are large mammals.", {"source": "zoo.txt"}, "doc-1"),
                               Document("Bears hibernate.", {"source": "wiki"})],), child(retriever)),
        ("on_retriever_start", (_serialized("hookchain_conformance", "BearRetriever"), "pandas"), start(bad_retriever, name="BearRetriever")),
        ("on_retriever_error", (ConnectionError("the index is offline"),), child(bad_retriever)),
        ("on_agent_action", (AgentAction("search", {"query": "bears"}, "Thought: I should search.\nAction: search"),),
         child(seq, None, color="green")),
        ("on_agent_finish", (AgentFinish({"output": "Bears are large."}, "Final Answer: Bears are large."),),
         child(seq, None, color="green")),
        ("on_custom_event", ("progress", {"step": 1, "of": 3}), {"run_id": seq, "tags": tags, "metadata": metadata}),
        ("on_chain_start", (_serialized("hookchain", "runnables", "RunnableLambda"), {"animal": "bears"}), start(sub, name="parse")),
        ("on_chain_error", (KeyError("animal"),), child(sub)),
        ("on_chain_end", (answer,), child(seq, None)),
    ]
    return calls
