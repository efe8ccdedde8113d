"""hookchain.tools on its own: errors that name what is at fault, handler
failures that do not break a tool run, runs started inside a tool joining its
run tree, run_manager / callbacks / config reaching the tool function.
(LangChain compatibility: tests/differential/test_tools.py.)"""

from __future__ import annotations

import asyncio

import pydantic
import pytest

from hookchain.callbacks import BaseCallbackHandler
from hookchain.runnables import RunnableLambda
from hookchain.tools import BaseTool, StructuredTool, ToolException, tool


def add(a: int, b: int = 2) -> int:
    """Add two integers."""
    return a + b


class Log(BaseCallbackHandler):
    def __init__(self, fail_on=()):
        self.events = []
        self.fail_on = fail_on

    def _rec(self, event, kwargs):
        self.events.append((event, kwargs.get("run_id"), kwargs.get("parent_run_id"), kwargs.get("name")))
        if event in self.fail_on:
            raise RuntimeError(f"handler broke in {event}")

    def on_tool_start(self, serialized, input_str, **kwargs):
        self._rec("on_tool_start", kwargs)

    def on_tool_end(self, output, **kwargs):
        self._rec("on_tool_end", kwargs)

    def on_tool_error(self, error, **kwargs):
        self._rec("on_tool_error", kwargs)

    def on_chain_start(self, serialized, inputs, **kwargs):
        self._rec("on_chain_start", kwargs)

    def on_chain_end(self, outputs, **kwargs):
        self._rec("on_chain_end", kwargs)


def test_validation_error_names_the_argument():
    with pytest.raises(pydantic.ValidationError) as info:
        tool(add).invoke({"a": "three"})
    assert "\na\n" in str(info.value) and "valid integer" in str(info.value)
    with pytest.raises(pydantic.ValidationError, match="(?s)\na\n.*Field required"):
        tool(add).invoke({"b": 1})


def test_bad_decorator_argument_and_missing_docstring_are_one_line_errors():
    with pytest.raises(TypeError, match="tool\\(\\) takes a name \\(str\\) or a function, got int"):
        tool(42)

    def nodoc(x: int) -> int:
        return x

    with pytest.raises(ValueError, match="Function 'nodoc' must have a docstring"):
        tool(nodoc)
    with pytest.raises(TypeError, match="Invalid args_schema for tool 'nodoc'"):
        StructuredTool.from_function(nodoc, args_schema=42)


def test_failing_handler_does_not_break_the_tool_run():
    log = Log(fail_on={"on_tool_start", "on_tool_end"})
    assert tool(add).invoke({"a": 1}, {"callbacks": [log]}) == 3
    assert [e[0] for e in log.events] == ["on_tool_start", "on_tool_end"]


def test_runs_inside_a_tool_are_its_children():
    inner = RunnableLambda(lambda x: x * 2).with_config(run_name="double")

    @tool
    def doubled(x: int) -> int:
        """Double x through a runnable."""
        return inner.invoke(x)

    log = Log()
    assert doubled.invoke({"x": 4}, {"callbacks": [log]}) == 8
    (start, tool_run, parent, name), child, *_ = log.events
    assert (start, parent, name) == ("on_tool_start", None, None)
    assert child[0] == "on_chain_start" and child[2] == tool_run and child[3] == "double"
    assert log.events[-1][:2] == ("on_tool_end", tool_run)


def test_async_runs_inside_a_tool_are_its_children():
    inner = RunnableLambda(lambda x: x + 1)

    @tool
    async def bump(x: int) -> int:
        """Bump x through a runnable."""
        return await inner.ainvoke(x)

    log = Log()
    assert asyncio.run(bump.ainvoke({"x": 1}, {"callbacks": [log]})) == 2
    assert log.events[1][0] == "on_chain_start" and log.events[1][2] == log.events[0][1]


def test_run_manager_callbacks_and_config_reach_the_function():
    seen = {}

    def spy(q: str, callbacks=None) -> str:
        """Record what the tool function receives."""
        seen["callbacks"] = callbacks
        return q

    log = Log()
    tool(spy).invoke({"q": "x"}, {"callbacks": [log]})
    assert log in seen["callbacks"].handlers
    assert tool(spy).args == {"q": {"title": "Q", "type": "string"}}  # callbacks is not an argument

    class Echo(BaseTool):
        name: str = "echo"
        description: str = "Echo the text"

        def _run(self, text: str, run_manager=None) -> str:
            return f"{text}:{type(run_manager).__name__}"

    assert Echo().invoke("hi") == "hi:CallbackManagerForToolRun"
    assert asyncio.run(Echo().ainvoke("hi")) == "hi:CallbackManagerForToolRun"  # _run in a thread, sync manager


def test_tool_exception_handler_output_and_status():
    def fails(x: int) -> int:
        """Always fails."""
        raise ToolException(f"cannot do {x}")

    handled = StructuredTool.from_function(fails, handle_tool_error=True)
    message = handled.invoke({"type": "tool_call", "id": "c1", "name": "fails", "args": {"x": 2}})
    assert (message.content, message.status) == ("cannot do 2", "error")
    with pytest.raises(ToolException, match="cannot do 3"):
        tool(fails).invoke({"x": 3})


def test_tool_in_a_sequence_and_batch():
    chain = RunnableLambda(lambda n: {"a": n}) | tool(add)
    assert chain.invoke(1) == 3
    assert tool(add).batch([{"a": 1}, {"a": 2, "b": 0}]) == [3, 2]
