"""Opt-in conformance checks for tool calling and structured output.

Part of ``ChatModelConformance`` (which inherits ``ToolCallingChecks``). They
are skipped unless the test class turns them on, with the names of
langchain-tests' ``ChatModelIntegrationTests`` properties (class attributes
here)::

    class TestMyModelConformance(ChatModelConformance):
        model_name = "my-model"
        has_tool_calling = True          # bind_tools works: the tool checks run
        tool_choice_value = "any"        # force a call in those checks (optional)
        has_structured_output = True     # with_structured_output works
        structured_output_kwargs = {"method": "function_calling"}  # optional

What they check, against the real model:

* ``test_tool_calling`` (invoke, ainvoke, stream, astream):
  ``bind_tools([my_adder_tool], tool_choice=tool_choice_value)`` answers an
  ``AIMessage`` with one tool call named ``my_adder_tool`` whose ``args`` are a
  dict of the two integers ``a`` and ``b``, with a string ``id`` and ``type
  "tool_call"``; streamed, the chunks carry ``tool_call_chunks`` and add up
  to that call; one ``on_chat_model_start`` / ``on_llm_end`` run.
* ``test_tool_message_round_trip``: the call is run (``my_adder_tool.invoke(call)``
  gives a ``ToolMessage`` with the call's id) and the history
  ``[human, AIMessage with the call, ToolMessage]`` sent back gives an
  ``AIMessage`` (the model accepts tool results).
* ``test_tool_choice`` (when ``has_tool_choice``): ``tool_choice`` set to a
  tool's name makes the model call that tool, and ``"any"`` makes it call one.
* ``test_structured_output`` (pydantic model, ``TypedDict``, JSON schema; invoke,
  stream, ainvoke): ``with_structured_output(schema, **structured_output_kwargs)``
  answers a validated ``Joke`` instance (or a dict with string ``setup`` and
  ``punchline``); streamed, every chunk is one and the last is complete.
* ``test_structured_output_include_raw``: ``include_raw=True`` answers
  ``{"raw": AIMessage, "parsed": Joke, "parsing_error": None}``.
"""

from __future__ import annotations

import inspect
import json
from functools import lru_cache
from typing import Any, ClassVar, Optional

import pytest
from typing_extensions import Annotated, TypedDict  # module level: the TypedDict's annotations are resolved here

from hookchain.testing._util import alist, check, fail, run, short
from hookchain.testing.recording import RecordingHandler

__all__ = ["ToolCallingChecks"]

_API = ("invoke", "ainvoke", "stream", "astream")


@lru_cache(maxsize=None)
def tools() -> dict[str, Any]:
    """The tools and schemas the checks use, built on first use."""
    from pydantic import BaseModel, Field

    from hookchain.tools import tool

    @tool
    def my_adder_tool(a: int, b: int) -> int:
        """Add two integers a and b and return their sum."""
        return a + b

    @tool
    def magic_function(input: int) -> int:
        """Apply a magic function to an integer input."""
        return input + 2

    class Joke(BaseModel):
        """Joke to tell user."""

        setup: str = Field(description="question to set up a joke")
        punchline: str = Field(description="answer to resolve the joke")

    class JokeDict(TypedDict):
        """Joke to tell user."""

        setup: Annotated[str, ..., "question to set up a joke"]
        punchline: Annotated[str, ..., "answer to resolve the joke"]

    json_schema = {
        "title": "Joke", "description": "Joke to tell user.", "type": "object",
        "properties": {
            "setup": {"type": "string", "description": "question to set up a joke"},
            "punchline": {"type": "string", "description": "answer to resolve the joke"},
        },
        "required": ["setup", "punchline"],
    }
    return {"my_adder_tool": my_adder_tool, "magic_function": magic_function,
            "pydantic": Joke, "typeddict": JokeDict, "json_schema": json_schema}


def _skip_unless(flag: Any, name: str) -> None:
    if not flag:
        pytest.skip(f"opt-in check: set {name} = True in the test class to run it")


class ToolCallingChecks:
    """The opt-in checks (see the module docstring). Attributes:

    Attributes:
        has_tool_calling: run the tool-calling checks (the model implements
            ``bind_tools``). Default ``False``.
        tool_choice_value: ``tool_choice`` passed to ``bind_tools`` in
            ``test_tool_calling`` and ``test_tool_message_round_trip`` to make
            sure the model calls the tool (e.g. ``"any"``); ``None`` (default)
            passes none and relies on ``tool_prompt``.
        has_tool_choice: run ``test_tool_choice``; ``None`` (default): when
            ``has_tool_calling`` and the model's ``bind_tools`` takes a
            ``tool_choice`` argument (as langchain-tests).
        has_structured_output: run the structured-output checks. Default ``False``.
        structured_output_kwargs: extra arguments of ``with_structured_output``
            (e.g. ``{"method": "json_schema", "strict": True}``).
        tool_prompt: what the tool checks ask (it names the tool).
        structured_output_prompt: what the structured-output checks ask.
    """

    has_tool_calling: ClassVar[bool] = False
    tool_choice_value: ClassVar[Optional[str]] = None
    has_tool_choice: ClassVar[Optional[bool]] = None
    has_structured_output: ClassVar[bool] = False
    structured_output_kwargs: ClassVar[dict[str, Any]] = {}
    tool_prompt: ClassVar[str] = "What is 3 + 4? Use the my_adder_tool tool to compute it."
    structured_output_prompt: ClassVar[str] = "Tell me a joke about cats."

    # -- helpers ----------------------------------------------------------- #
    def _bound(self, model: Any, tool_list: list[Any], tool_choice: Optional[str]) -> Any:
        kwargs = {} if tool_choice is None else {"tool_choice": tool_choice}
        try:
            return model.bind_tools(tool_list, **kwargs)
        except NotImplementedError:
            fail(f"has_tool_calling is set but {type(model).__name__}.bind_tools raised NotImplementedError: implement "
                 f"bind_tools (convert each tool with hookchain.utils.function_calling.convert_to_openai_tool and "
                 f"return self.bind(tools=..., tool_choice=...)) or unset has_tool_calling")

    @staticmethod
    def _answer(runnable: Any, value: Any, api: str, config: Optional[dict[str, Any]] = None) -> tuple[Any, list[Any]]:
        """(the answer, the streamed chunks) of one call through ``api``;
        streamed chunks are added up with ``+``."""
        if api == "invoke":
            return runnable.invoke(value, config), []
        if api == "ainvoke":
            return run(runnable.ainvoke(value, config)), []
        chunks = list(runnable.stream(value, config)) if api == "stream" else run(alist(runnable.astream(value, config)))
        check(chunks, f"{api}() of the tool-bound model yielded no chunks")
        total = chunks[0]
        for chunk in chunks[1:]:
            total = total + chunk
        return total, chunks

    @staticmethod
    def _check_call(message: Any, name: str, keys: dict[str, type], where: str) -> dict[str, Any]:
        from hookchain.messages import AIMessage

        check(isinstance(message, AIMessage), f"{where} returned {type(message).__name__} ({short(message)}), not an AIMessage")
        invalid = getattr(message, "invalid_tool_calls", None)
        check(message.tool_calls, f"{where}: the AIMessage has no tool_calls (content {short(message.content)}"
                                  + (f", invalid_tool_calls {short(invalid, 200)}: arguments that are not JSON" if invalid else "")
                                  + "): put the provider's tool calls into AIMessage(tool_calls=[{'name', 'args', 'id'}]) "
                                    "(and tool_call_chunks when streaming)")
        call = message.tool_calls[0]
        check(call.get("name") == name, f"{where}: the tool call is named {call.get('name')!r}, expected {name!r} (tool_calls: {short(message.tool_calls, 200)})")
        args = call.get("args")
        check(isinstance(args, dict), f"{where}: tool call args are {type(args).__name__} ({short(args)}), not a dict: parse the provider's JSON arguments")
        check(set(args) == set(keys), f"{where}: tool call args have keys {sorted(args)}, expected {sorted(keys)}")
        for key, kind in keys.items():
            check(isinstance(args[key], kind) and not isinstance(args[key], bool),
                  f"{where}: tool call argument {key!r} is {short(args[key])}, expected a {kind.__name__}")
        check(isinstance(call.get("id"), str) and call["id"], f"{where}: tool call id is {short(call.get('id'))}; give each call the provider's id (a non-empty str)")
        check(call.get("type") == "tool_call", f"{where}: tool call type is {call.get('type')!r}, expected 'tool_call'")
        return call

    # -- tool calling ------------------------------------------------------ #
    @pytest.mark.parametrize("api", _API)
    def test_tool_calling(self, model: Any, api: str) -> None:
        """bind_tools([my_adder_tool]) answers a well-formed my_adder_tool call,
        through invoke/ainvoke/stream/astream, in one model run."""
        _skip_unless(self.has_tool_calling, "has_tool_calling")
        bound = self._bound(model, [tools()["my_adder_tool"]], self.tool_choice_value)
        recorder = RecordingHandler()
        message, chunks = self._answer(bound, self.tool_prompt, api, {"callbacks": [recorder]})
        if chunks:
            from hookchain.messages import AIMessageChunk, message_chunk_to_message

            if all(isinstance(c, AIMessageChunk) for c in chunks) and len(chunks) > 1:
                check(any(c.tool_call_chunks for c in chunks),
                      f"{api}(): no chunk carries tool_call_chunks: stream the provider's tool-call deltas as "
                      f"AIMessageChunk(tool_call_chunks=[{{'name', 'args', 'id', 'index'}}])")
            message = message_chunk_to_message(message)
        self._check_call(message, "my_adder_tool", {"a": int, "b": int}, f"bind_tools([my_adder_tool]).{api}")
        starts, ends = recorder.of("on_chat_model_start"), recorder.of("on_llm_end")
        check(len(starts) == 1 and len(ends) == 1,
              f"{api}() of the tool-bound model fired on_chat_model_start {len(starts)} and on_llm_end {len(ends)} times (expected one run)")

    def test_tool_message_round_trip(self, model: Any) -> None:
        """The model's call runs as a ToolMessage (same tool_call_id) and the
        history with it, sent back, gives an AIMessage."""
        from hookchain.messages import AIMessage, HumanMessage, ToolMessage

        _skip_unless(self.has_tool_calling, "has_tool_calling")
        adder = tools()["my_adder_tool"]
        bound = self._bound(model, [adder], self.tool_choice_value)
        history: list[Any] = [HumanMessage(self.tool_prompt)]
        first = bound.invoke(history)
        call = self._check_call(first, "my_adder_tool", {"a": int, "b": int}, "bind_tools([my_adder_tool]).invoke")
        result = adder.invoke(call)
        check(isinstance(result, ToolMessage) and result.tool_call_id == call["id"],
              f"my_adder_tool.invoke(tool call) gave {short(result)}, not a ToolMessage with tool_call_id {call['id']!r}")
        history += [first, result]
        recorder = RecordingHandler()
        try:
            answer = model.bind_tools([adder]).invoke(history, {"callbacks": [recorder]})
        except Exception as e:  # noqa: BLE001 - reported as the check's failure
            fail(f"sending back [human, AIMessage with tool_calls, ToolMessage] raised {type(e).__name__}: {e} "
                 f"(convert AIMessage.tool_calls and ToolMessage(tool_call_id=...) into the provider's request)")
        check(isinstance(answer, AIMessage), f"after the ToolMessage the model returned {type(answer).__name__}, not an AIMessage")
        sent = recorder.of("on_chat_model_start")
        check(sent and [type(m).__name__ for m in sent[0].args[1][0]] == ["HumanMessage", "AIMessage", "ToolMessage"],
              f"on_chat_model_start did not get the history [HumanMessage, AIMessage, ToolMessage]: {short(sent[0].args[1] if sent else None, 200)}")

    @pytest.mark.parametrize("choice", ["my_adder_tool", "any"])
    def test_tool_choice(self, model: Any, choice: str) -> None:
        """tool_choice=<name> makes the model call that tool; "any" makes it call one."""
        _skip_unless(self.has_tool_calling, "has_tool_calling")
        has_choice = self.has_tool_choice
        if has_choice is None:
            has_choice = "tool_choice" in inspect.signature(model.bind_tools).parameters
        _skip_unless(has_choice, "has_tool_choice")
        bound = self._bound(model, [tools()["magic_function"], tools()["my_adder_tool"]], choice)
        message = bound.invoke("Hello!")
        if choice == "any":
            check(message.tool_calls, f"tool_choice='any': the model answered {short(message.content)} without a tool call")
        else:
            self._check_call(message, choice, {"a": int, "b": int}, f"tool_choice={choice!r}")

    # -- structured output ------------------------------------------------- #
    def _structured(self, model: Any, kind: str, **kwargs: Any) -> Any:
        _skip_unless(self.has_structured_output, "has_structured_output")
        try:
            return model.with_structured_output(tools()[kind], **{**self.structured_output_kwargs, **kwargs})
        except NotImplementedError as e:
            fail(f"has_structured_output is set but with_structured_output raised NotImplementedError ({e})")

    @staticmethod
    def _check_joke(value: Any, kind: str, where: str, partial: bool = False) -> None:
        if kind == "pydantic":
            check(isinstance(value, tools()["pydantic"]), f"{where} gave {type(value).__name__} ({short(value)}), not a Joke instance")
            value = value.model_dump()
        check(isinstance(value, dict), f"{where} gave {type(value).__name__} ({short(value)}), not a dict")
        keys = {"setup", "punchline"}
        if partial:
            check(set(value) <= keys, f"{where}: keys {sorted(value)} are not among {sorted(keys)}")
            return
        check(set(value) == keys, f"{where} gave keys {sorted(value)}, expected {sorted(keys)} ({short(json.dumps(value, default=str), 200)})")
        for key in keys:
            check(isinstance(value[key], str), f"{where}: {key!r} is {short(value[key])}, not a str")

    @pytest.mark.parametrize("kind", ["pydantic", "typeddict", "json_schema"])
    @pytest.mark.parametrize("api", ["invoke", "ainvoke", "stream"])
    def test_structured_output(self, model: Any, kind: str, api: str) -> None:
        """with_structured_output(Joke) answers a validated Joke (pydantic) or a
        Joke dict; streamed, each chunk is one and the last is complete."""
        structured = self._structured(model, kind)
        prompt = self.structured_output_prompt
        if api == "invoke":
            self._check_joke(structured.invoke(prompt), kind, f"with_structured_output({kind}).invoke")
        elif api == "ainvoke":
            self._check_joke(run(structured.ainvoke(prompt)), kind, f"with_structured_output({kind}).ainvoke")
        else:
            chunks = list(structured.stream(prompt))
            check(chunks, f"with_structured_output({kind}).stream yielded nothing")
            for i, chunk in enumerate(chunks[:-1]):
                self._check_joke(chunk, kind, f"with_structured_output({kind}).stream chunk #{i}", partial=True)
            self._check_joke(chunks[-1], kind, f"with_structured_output({kind}).stream's last chunk")

    def test_structured_output_include_raw(self, model: Any) -> None:
        """include_raw=True: {"raw": AIMessage, "parsed": Joke, "parsing_error": None}."""
        from hookchain.messages import AIMessage

        answer = self._structured(model, "pydantic", include_raw=True).invoke(self.structured_output_prompt)
        check(isinstance(answer, dict) and set(answer) == {"raw", "parsed", "parsing_error"},
              f"with_structured_output(include_raw=True) gave {short(answer, 200)}, not a dict of raw, parsed and parsing_error")
        check(isinstance(answer["raw"], AIMessage), f"include_raw: 'raw' is {type(answer['raw']).__name__}, not an AIMessage")
        check(answer["parsing_error"] is None, f"include_raw: parsing failed: {answer['parsing_error']!r}")
        self._check_joke(answer["parsed"], "pydantic", "include_raw: 'parsed'")
