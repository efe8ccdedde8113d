"""Tools: ``@tool`` / ``StructuredTool.from_function`` / ``BaseTool`` subclasses
run under langchain-core and hookchain; outputs, schemas, errors and the tool
callback events (every keyword argument, by value) compared."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Optional

import langchain_core.tools as lc_tools
import pydantic
from langchain_core.runnables import RunnableConfig as LCRunnableConfig

import hookchain.tools as hc_tools
from hookchain.runnables import RunnableConfig as HCRunnableConfig

from .harness import HC, LC, Ids, araised, both, event_stream, events, norm, raised

TOOLS = {LC.name: lc_tools, HC.name: hc_tools}

_IDS = ("run_id", "parent_run_id")


def T(fw):  # noqa: N802 - the framework's tools module
    return TOOLS[fw.name]


def kwrecorder(fw):
    """A handler recording tool and chain events with all their keyword
    arguments (run ids as small integers, in order of appearance)."""
    ids = Ids()

    class KwRecorder(fw.BaseCallbackHandler):
        def __init__(self):
            self.log = []

        def _rec(self, event, args, kwargs):
            self.log.append((
                event, ids(kwargs.get("run_id")), ids(kwargs.get("parent_run_id")), norm(list(args)),
                {k: norm(v) for k, v in sorted(kwargs.items()) if k not in _IDS and not (k == "metadata" and not v)},
            ))

        def on_tool_start(self, *a, **k):
            self._rec("on_tool_start", a, k)

        def on_tool_end(self, *a, **k):
            self._rec("on_tool_end", a, k)

        def on_tool_error(self, *a, **k):
            self._rec("on_tool_error", a, k)

        def on_chain_start(self, *a, **k):
            self._rec("on_chain_start", a[1:], {n: v for n, v in k.items() if n != "run_type"})

        def on_chain_end(self, *a, **k):
            self._rec("on_chain_end", a, k)

    return KwRecorder()


def msg(value):
    """A ToolMessage with the fields a tool sets."""
    if type(value).__name__ == "ToolMessage":
        return ("ToolMessage", norm(value.content), value.tool_call_id, value.name, value.status, norm(value.artifact))
    return norm(value)


def call(args, id="call_1", name="add"):
    return {"type": "tool_call", "id": id, "name": name, "args": args}


def add(a: int, b: int = 2) -> int:
    """Add two integers."""
    return a + b


async def aadd(a: int, b: int = 2) -> int:
    """Add two integers, asynchronously."""
    return a + b


def search(query: str, limit: int = 3) -> list:
    """Search the catalogue.

    Returns matching titles, best first.

    Args:
        query: the words to look for
        limit (int): how many titles to return,
            at most 10

    Returns:
        A list of titles.
    """
    return [f"{query}-{i}" for i in range(limit)]


def schema_view(t):
    s = t.tool_call_schema
    return {
        "name": t.name, "description": t.description, "args": t.args, "return_direct": t.return_direct,
        "tool_call_schema": s if isinstance(s, dict) else s.model_json_schema(),
    }


# --------------------------------------------------------------------------- #
# Building tools: names, descriptions, schemas
# --------------------------------------------------------------------------- #


def test_decorator_forms_and_schemas():
    def scenario(fw):
        t = T(fw)
        return [
            schema_view(t.tool(add)),
            schema_view(t.tool("plus")(add)),
            schema_view(t.tool("plus2", add)),
            schema_view(t.tool(aadd)),
            schema_view(t.tool(return_direct=True, description="custom")(add)),
            schema_view(t.tool(parse_docstring=True)(search)),
            schema_view(t.tool(search)),
            schema_view(t.StructuredTool.from_function(add, name="adder", description="adds")),
            schema_view(t.StructuredTool.from_function(coroutine=aadd)),
        ]

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[5]["args"]["limit"]["description"] == "how many titles to return, at most 10"


class Point(pydantic.BaseModel):
    x: int
    y: int = 0


def place(p: Point, label: Annotated[str, "what to call it"], tags: Optional[list[str]] = None) -> str:
    """Place a point."""
    return f"{label}@{p.x},{p.y}:{tags}"


def test_annotated_descriptions_defaults_and_nested_models():
    def scenario(fw):
        t = T(fw).tool(place)
        return schema_view(t), t.invoke({"p": {"x": 1}, "label": "a"}), t.invoke({"p": {"x": 1, "y": 2}, "label": "b", "tags": ["t"]})

    lc, hc = both(scenario)
    assert lc == hc


def test_missing_docstring_and_bad_docstring_errors():
    def nodoc(a: int) -> int:
        return a

    def badly(a: int) -> int:
        """No args section."""
        return a

    def scenario(fw):
        t = T(fw)
        return (
            raised(lambda: t.tool(nodoc)),
            raised(lambda: t.tool(parse_docstring=True)(badly)),
            schema_view(t.tool(parse_docstring=True, error_on_invalid_docstring=False)(badly)),
            raised(lambda: t.StructuredTool.from_function()),
        )

    lc, hc = both(scenario)
    assert lc[0][0] == hc[0][0] == "raised"
    assert lc[0][1] == hc[0][1] == "ValueError"
    assert lc[1:] == hc[1:]


# --------------------------------------------------------------------------- #
# Running: outputs and callback events
# --------------------------------------------------------------------------- #


def test_invoke_args_and_tool_call_with_events():
    def scenario(fw):
        h = kwrecorder(fw)
        t = T(fw).tool(add)
        cfg = {"callbacks": [h], "tags": ["t1"], "metadata": {"m": 1}, "run_name": "my-add"}
        out = [t.invoke({"a": 1}, cfg), msg(t.invoke(call({"a": 1, "b": 5}), {"callbacks": [h]}))]
        return out, h.log

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == [3, ("ToolMessage", "6", "call_1", "add", "success", None)]


def test_async_tools_with_events():
    async def scenario(fw):
        h = kwrecorder(fw)
        t = T(fw)
        out = [
            await t.tool(aadd).ainvoke({"a": 1, "b": 1}, {"callbacks": [h]}),
            await t.tool(add).ainvoke({"a": 2}, {"callbacks": [h]}),  # sync function, async call
            msg(await t.tool(aadd).ainvoke(call({"a": 3}, name="aadd"), {"callbacks": [h]})),
            await araised(t.tool(aadd).ainvoke({"a": "x"}, {"callbacks": [h]})),
        ]
        return out, h.log

    lc, hc = both(scenario)
    assert lc == hc


def test_async_only_tool_has_no_sync_path():
    def scenario(fw):
        return raised(lambda: T(fw).tool(aadd).invoke({"a": 1}))

    lc, hc = both(scenario)
    assert lc == hc


def test_validation_errors_raised_and_handled():
    def scenario(fw):
        h = kwrecorder(fw)
        t = T(fw)
        cfg = {"callbacks": [h]}
        out = [
            raised(lambda: t.tool(add).invoke({"b": 1}, cfg)),
            raised(lambda: t.tool(add).invoke({"a": "one"}, cfg)),
        ]
        for flag in (True, "bad arguments, try again", lambda e: f"handled {type(e).__name__}"):
            handled = t.StructuredTool.from_function(add, handle_validation_error=flag)
            out.append(handled.invoke({"a": "x"}, cfg))
            out.append(msg(handled.invoke(call({"a": "x"}), cfg)))
        return out, h.log

    lc, hc = both(scenario)
    assert lc == hc
    assert "\na\n" in hc[0][0][2]  # names the argument


def _failing(kind: str) -> str:
    """Fail with the given kind of error."""
    raise (ValueError if kind == "value" else lc_tools.ToolException)(f"{kind} went wrong")


def test_tool_exception_raised_and_handled():
    def scenario(fw):
        t = T(fw)

        def fails(kind: str) -> str:
            """Fail with the given kind of error."""
            if kind == "value":
                raise ValueError("value went wrong")
            if kind == "empty":
                raise t.ToolException()
            raise t.ToolException(f"{kind} went wrong")

        h = kwrecorder(fw)
        cfg = {"callbacks": [h]}
        plain = t.tool(fails)
        out = [raised(lambda: plain.invoke({"kind": "tool"}, cfg)), raised(lambda: plain.invoke(call({"kind": "tool"}, name="fails"), cfg))]
        for flag in (True, "tool failed", lambda e: f"handled: {e}"):
            handled = t.StructuredTool.from_function(fails, handle_tool_error=flag)
            out.append(handled.invoke({"kind": "tool"}, cfg))
            out.append(handled.invoke({"kind": "empty"}, cfg))
            out.append(msg(handled.invoke(call({"kind": "tool"}, name="fails"), cfg)))
            out.append(raised(lambda: handled.invoke({"kind": "value"}, cfg)))  # not a ToolException: raised
        return out, h.log

    lc, hc = both(scenario)
    assert lc == hc


def test_content_and_artifact():
    def pair(n: int) -> tuple:
        """Return a summary and the raw numbers."""
        return f"{n} numbers", list(range(n))

    def not_pair(n: int) -> str:
        """Return a string only."""
        return "oops"

    def scenario(fw):
        h = kwrecorder(fw)
        t = T(fw)
        cfg = {"callbacks": [h]}
        good = t.tool(response_format="content_and_artifact")(pair)
        bad = t.tool(response_format="content_and_artifact")(not_pair)
        return [
            good.invoke({"n": 3}, cfg),
            msg(good.invoke(call({"n": 2}, name="pair"), cfg)),
            raised(lambda: bad.invoke({"n": 1}, cfg)),
        ], h.log

    lc, hc = both(scenario)
    assert lc == hc


def test_tool_call_output_formats():
    def as_dict(k: str) -> Any:
        """Return various things."""
        return {
            "dict": {"a": 1, "é": [1, 2]},
            "blocks": [{"type": "text", "text": "hi"}, "there"],
            "int": 7,
            "obj": object,
            "list": [1, 2],
        }[k]

    def scenario(fw):
        t = T(fw).tool(as_dict)
        return [msg(t.invoke(call({"k": k}, name="as_dict"))) for k in ("dict", "blocks", "int", "list")] + [
            msg(t.invoke(call({"k": "obj"}, name="as_dict"))).__class__.__name__,
            t.invoke(call({"k": "obj"}, name="as_dict")).content.startswith("<class"),
        ]

    lc, hc = both(scenario)
    assert lc == hc


def test_string_input_single_argument_tool():
    def shout(text: str) -> str:
        """Upper-case the text."""
        return text.upper()

    def scenario(fw):
        h = kwrecorder(fw)
        t = T(fw).tool(shout)
        return t.invoke("hey", {"callbacks": [h]}), h.log

    lc, hc = both(scenario)
    assert lc == hc


def test_base_tool_subclass_with_args_schema_and_run_manager():
    class Args(pydantic.BaseModel):
        """Arguments of the multiplier."""

        x: int = pydantic.Field(description="the number")
        times: int = 2

    def scenario(fw):
        t = T(fw)

        class Multiplier(t.BaseTool):
            name: str = "multiplier"
            description: str = "Multiply x"
            args_schema: type[pydantic.BaseModel] = Args

            def _run(self, x: int, times: int = 2, run_manager=None) -> int:
                run_manager.on_text("working")
                return x * times

        class AsyncMultiplier(Multiplier):
            async def _arun(self, x: int, times: int = 2, run_manager=None) -> int:
                return -x * times

        h = kwrecorder(fw)
        cfg = {"callbacks": [h]}
        m = Multiplier()
        return [
            m.invoke({"x": 3}, cfg), m.invoke({"x": 3, "times": 3}, cfg), msg(m.invoke(call({"x": 1}, name="multiplier"), cfg)),
            asyncio.run(m.ainvoke({"x": 4}, cfg)), asyncio.run(AsyncMultiplier().ainvoke({"x": 4}, cfg)),
            schema_view(m), raised(lambda: m.invoke({"times": 1}, cfg)),
        ], h.log

    lc, hc = both(scenario)
    assert lc == hc


def test_json_schema_args_schema():
    schema = {
        "title": "lookup", "description": "Look a key up.", "type": "object",
        "properties": {"key": {"type": "string"}}, "required": ["key"],
    }

    def lookup(key: str) -> str:
        return key * 2

    def scenario(fw):
        t = T(fw).StructuredTool.from_function(lookup, args_schema=schema)
        return schema_view(t), t.invoke({"key": "ab"}), raised(lambda: t.invoke("ab"))

    lc, hc = both(scenario)
    assert lc == hc


def reply_lc(text: str, user: Annotated[str, lc_tools.InjectedToolArg], call_id: Annotated[str, lc_tools.InjectedToolCallId]) -> str:
    """Reply to the user."""
    return f"{user}:{text}:{call_id}"


def reply_hc(text: str, user: Annotated[str, hc_tools.InjectedToolArg], call_id: Annotated[str, hc_tools.InjectedToolCallId]) -> str:
    """Reply to the user."""
    return f"{user}:{text}:{call_id}"


def test_injected_args_and_tool_call_id():
    def scenario(fw):
        t = T(fw)
        h = kwrecorder(fw)
        r = t.tool("reply", reply_lc if fw is LC else reply_hc)
        return [
            schema_view(r),
            msg(r.invoke(call({"text": "hi", "user": "ann"}, id="c9", name="reply"), {"callbacks": [h]})),
            raised(lambda: r.invoke({"text": "hi", "user": "ann"})),
        ], h.log

    lc, hc = both(scenario)
    assert lc == hc


def test_tool_inside_a_chain_is_a_child_run():
    def scenario(fw):
        t = T(fw).tool(add)
        h = fw.Recorder()
        chain = fw.RunnableLambda(lambda x: {"a": x}) | t | fw.RunnableLambda(lambda y: y * 10)
        nested = fw.RunnableLambda(lambda x: t.invoke({"a": x, "b": x}))
        return chain.invoke(1, {"callbacks": [h]}), nested.invoke(4, {"callbacks": [h]}), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def tagged_lc(a: int, config: LCRunnableConfig) -> str:
    """Return the tags it was run with."""
    return f"{a}:{sorted(config['tags'])}"


def tagged_hc(a: int, config: HCRunnableConfig) -> str:
    """Return the tags it was run with."""
    return f"{a}:{sorted(config['tags'])}"


def test_config_parameter():
    def scenario(fw):
        t = T(fw)
        tagged = t.tool("tagged", tagged_lc if fw is LC else tagged_hc)
        h = kwrecorder(fw)
        return tagged.invoke({"a": 1}, {"tags": ["x"], "callbacks": [h]}), schema_view(tagged), h.log

    lc, hc = both(scenario)
    assert lc == hc


# --------------------------------------------------------------------------- #
# astream_events
# --------------------------------------------------------------------------- #


def test_astream_events_of_a_tool_and_a_chain_calling_tools():
    async def scenario(fw):
        t = T(fw)
        plus = t.tool(add)

        def fails(kind: str) -> str:
            """Always fails."""
            raise ValueError(f"bad {kind}")

        failing = t.tool(fails)

        async def use(x):
            first = await plus.ainvoke({"a": x})
            second = await plus.ainvoke(call({"a": first, "b": 1}))
            return second.content

        def guarded(x):
            try:
                return failing.invoke({"kind": x})
            except ValueError as e:
                return str(e)

        chain = fw.RunnableLambda(use) | fw.RunnableLambda(guarded)
        return (
            await event_stream(fw, plus, {"a": 1}),
            await event_stream(fw, plus, call({"a": 2})),
            await event_stream(fw, chain, 5, config={"tags": ["outer"]}),
        )

    lc, hc = both(scenario)
    assert lc == hc
    assert [e[0] for e in hc[0]] == ["on_tool_start", "on_tool_end"]
