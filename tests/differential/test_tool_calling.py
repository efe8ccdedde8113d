"""Tool calling and structured output on chat models against langchain-core
1.7.2: ``bind_tools`` on a model that implements it, ``with_structured_output``
(pydantic, TypedDict, JSON schema, OpenAI function; ``include_raw``; parse
failures) and a whole tool loop, comparing outputs (tool calls included),
streamed values, callback events and ``astream_events``.

The model is ``ToolFake``, built from the same source on both frameworks: it
answers a script of ``(content, [(name, JSON arguments, id), ...])`` turns,
streams the content one character per chunk and each call's arguments in
pieces of 4 characters as ``tool_call_chunks``, and its ``bind_tools`` binds
``convert_to_openai_tool`` of each tool (as provider models do).
"""

from __future__ import annotations

import json
import re
from typing import Any, Optional

import langchain_core.messages as lc_messages
import langchain_core.output_parsers as lc_output_parsers
import langchain_core.tools as lc_tools
import langchain_core.utils.function_calling as lc_fc
import pydantic
import pytest
from typing_extensions import Annotated, TypedDict

import hookchain.messages as hc_messages
import hookchain.output_parsers as hc_output_parsers
import hookchain.tools as hc_tools
import hookchain.utils.function_calling as hc_fc

from .harness import HC, LC, both, collect, event_stream, events, norm, raised, stream_event_trees, trees

MODULES = {
    LC.name: {"messages": lc_messages, "tools": lc_tools, "fc": lc_fc, "parsers": lc_output_parsers},
    HC.name: {"messages": hc_messages, "tools": hc_tools, "fc": hc_fc, "parsers": hc_output_parsers},
}


_LINK = re.compile(r"\nFor troubleshooting, visit: \S+ ?")


def M(fw, kind):  # noqa: N802 - the framework's module of that kind
    return MODULES[fw.name][kind]


def tool_fake(fw):
    """``ToolFake`` of ``fw`` (see the module docstring)."""

    class ToolFake(fw.BaseChatModel):
        script: list
        i: int = 0

        def bind_tools(self, tools, *, tool_choice=None, **kwargs):
            return self.bind(tools=[M(fw, "fc").convert_to_openai_tool(t) for t in tools], tool_choice=tool_choice, **kwargs)

        def _turn(self):
            content, calls = self.script[self.i % len(self.script)]
            self.i += 1
            return content, calls

        def _chunks(self, content, calls):
            for char in content:
                yield fw.ChatGenerationChunk(message=fw.AIMessageChunk(content=char))
            for index, (name, args, call_id) in enumerate(calls):
                pieces = [args[k:k + 4] for k in range(0, len(args), 4)] or [""]
                for n, piece in enumerate(pieces):
                    first = n == 0
                    yield fw.ChatGenerationChunk(message=fw.AIMessageChunk(content="", tool_call_chunks=[{
                        "name": name if first else None, "args": piece, "id": call_id if first else None, "index": index,
                    }]))

        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            chunks = list(self._chunks(*self._turn()))
            total = chunks[0].message
            for c in chunks[1:]:
                total = total + c.message
            message = fw.AIMessage(content=total.content, tool_calls=total.tool_calls, invalid_tool_calls=total.invalid_tool_calls)
            return fw.ChatResult(generations=[fw.ChatGeneration(message=message)])

        def _stream(self, messages, stop=None, run_manager=None, **kwargs):
            yield from self._chunks(*self._turn())

        @property
        def _llm_type(self):
            return "tool-fake"

    return ToolFake


def full(value: Any) -> Any:
    """``norm`` keeping what tool calling adds: a message's tool calls,
    invalid tool calls, tool-call chunks and tool-call id; pydantic objects as
    their class name and fields; exceptions as their type (pydantic's messages
    carry its version's URL)."""
    if isinstance(value, (lc_messages.BaseMessage, hc_messages.BaseMessage)):
        out = [type(value).__name__, norm(value.content)]
        for field in ("tool_calls", "invalid_tool_calls", "tool_call_chunks", "tool_call_id"):
            if getattr(value, field, None):
                out.append((field, norm(getattr(value, field))))
        return tuple(out)
    if isinstance(value, pydantic.BaseModel):
        return ("pydantic", type(value).__name__, value.model_dump())
    if isinstance(value, BaseException):
        return ("error", type(value).__name__)
    if isinstance(value, dict):
        return {k: full(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [full(v) for v in value]
    return norm(value)


def _add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: the first
        b: the second
    """
    return a + b


def add_tool(fw):
    return M(fw, "tools").tool(parse_docstring=True)(_add)


class Joke(pydantic.BaseModel):
    """A joke to tell the user."""

    setup: str = pydantic.Field(description="question to set up the joke")
    punchline: str = pydantic.Field(description="answer resolving the joke")
    rating: Optional[int] = None


class JokeDict(TypedDict):
    """A joke to tell the user."""

    setup: Annotated[str, ..., "question to set up the joke"]
    punchline: Annotated[str, ..., "answer resolving the joke"]


JOKE_SCHEMA = {
    "title": "JokeSchema", "description": "A joke to tell the user.", "type": "object",
    "properties": {"setup": {"type": "string"}, "punchline": {"type": "string"}}, "required": ["setup", "punchline"],
}
JOKE_FUNCTION = {"name": "joke_function", "description": "A joke.", "parameters": JOKE_SCHEMA}
SCHEMAS = {"pydantic": Joke, "typeddict": JokeDict, "json_schema": JOKE_SCHEMA, "openai_function": JOKE_FUNCTION}
SCHEMA_NAMES = {"pydantic": "Joke", "typeddict": "JokeDict", "json_schema": "JokeSchema", "openai_function": "joke_function"}
JOKE_ARGS = json.dumps({"setup": "Why did the bear cross the road?", "punchline": "To get to the honey."})

ADD_CALL = ("", [("_add", '{"a": 2, "b": 3}', "call_1")])
TWO_CALLS = ("Let me add.", [("_add", '{"a": 2, "b": 3}', "call_1"), ("_add", '{"a": 10, "b": 20}', "call_2")])


def nested(fw, log):
    """LangChain 1.7.2's ``RunnableWithFallbacks.invoke``/``ainvoke`` start
    the attempts with the fallbacks' own config, not its child config
    (langchain-ai/langchain#36072; README differences): the attempt comes out
    as a sibling of the fallbacks run, with its tags. This moves LangChain's
    attempts (runs started while a fallbacks run is open, under that run's
    parent) under the fallbacks run, without its tags, as hookchain runs them."""
    if fw is not LC:
        return log
    open_runs, out = {}, []  # fallbacks run id -> (parent id, tags)
    for e in log:
        run, parent = str(e["run_id"]), str(e["parent_run_id"])
        if e["name"] == "RunnableWithFallbacks" and e["event"] == "on_chain_start":
            open_runs[run] = (parent, e["tags"] or [])
        owner = next((f for f, (p, _) in open_runs.items() if p == parent and f != run), None)
        if owner is not None:
            e = {**e, "parent_run_id": owner, "tags": [t for t in e["tags"] or [] if t not in open_runs[owner][1]]}
        if run in open_runs and e["event"] in ("on_chain_end", "on_chain_error"):
            del open_runs[run]
        out.append(e)
    return out


def unlinked(value):
    """``value`` without LangChain's troubleshooting-link lines in exception
    texts (README differences: exception texts)."""
    if isinstance(value, str):
        return _LINK.sub("", value)
    if isinstance(value, dict):
        return {k: unlinked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(unlinked(v) for v in value)
    return value


def _with_events(fw, runnable, call):
    recorder = fw.Recorder()
    out = call(runnable, {"callbacks": [recorder]})
    return full(out), events(fw, recorder.log)


# --------------------------------------------------------------------------- #
# bind_tools
# --------------------------------------------------------------------------- #


def test_bind_tools_binds_the_converted_tools_and_invoke_returns_tool_calls():
    def scenario(fw):
        bound = tool_fake(fw)(script=[TWO_CALLS]).bind_tools([add_tool(fw)], tool_choice="any")
        starts = []

        class Starts(fw.BaseCallbackHandler):
            def on_chat_model_start(self, serialized, messages, **kwargs):
                params = kwargs["invocation_params"]
                starts.append(({k: params[k] for k in ("tools", "tool_choice")}, kwargs["options"]))

        out, evs = _with_events(fw, bound, lambda r, c: r.invoke("what is 2 + 3?", {**c, "callbacks": [*c["callbacks"], Starts()]}))
        return out, evs, starts

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0][2][1][0]["args"] == {"a": 2, "b": 3}


@pytest.mark.parametrize("api", ["stream", "astream"])
def test_bind_tools_streams_tool_call_chunks(api):
    async def scenario(fw):
        bound = tool_fake(fw)(script=[TWO_CALLS]).bind_tools([add_tool(fw)])
        recorder = fw.Recorder()
        config = {"callbacks": [recorder]}
        chunks = list(bound.stream("add", config)) if api == "stream" else await collect(bound.astream("add", config))
        chunks = [c for c in chunks if not (c.chunk_position == "last" and not c.content and not c.tool_call_chunks)]
        total = chunks[0]
        for c in chunks[1:]:
            total = total + c
        return full(chunks), full(total), events(fw, recorder.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert [c["args"] for c in hc[1][2][1]] == [{"a": 2, "b": 3}, {"a": 10, "b": 20}]


def test_bind_tools_astream_events():
    async def scenario(fw):
        chain = fw.ChatPromptTemplate.from_messages([("human", "{q}")]) | tool_fake(fw)(script=[ADD_CALL]).bind_tools([add_tool(fw)])
        return await event_stream(fw, chain, {"q": "2 + 3?"})

    lc, hc = both(scenario)
    assert lc == hc


def test_base_model_has_no_bind_tools_or_structured_output():
    def scenario(fw):
        model = fw.EchoModel()
        return (raised(lambda: model.bind_tools([add_tool(fw)]))[:2],
                raised(lambda: model.with_structured_output(Joke))[:2])

    lc, hc = both(scenario)
    assert lc == hc == (("raised", "NotImplementedError"), ("raised", "NotImplementedError"))
    # hookchain's messages say which model and what to implement (LangChain's: none / "for this model")
    message = raised(lambda: HC.EchoModel().bind_tools([]))[2]
    assert message.startswith("EchoModel does not support tool calling") and "convert_to_openai_tool" in message
    assert "EchoModel: implement bind_tools" in raised(lambda: HC.EchoModel().with_structured_output(Joke))[2]


def test_with_structured_output_rejects_unknown_arguments():
    def scenario(fw):
        model = tool_fake(fw)(script=[ADD_CALL])
        ok = [type(model.with_structured_output(Joke, method=m, strict=True)).__name__ for m in ("json_schema", "json_mode")]
        return ok, raised(lambda: model.with_structured_output(Joke, temperature=0))

    lc, hc = both(scenario)
    assert lc[0] == hc[0] == ["RunnableSequence", "RunnableSequence"]
    assert lc[1][:2] == hc[1][:2] == ("raised", "ValueError")
    assert hc[1][2].startswith(lc[1][2])  # LangChain's text, then what is accepted


# --------------------------------------------------------------------------- #
# with_structured_output
# --------------------------------------------------------------------------- #


def _joke_model(fw, kind, args=JOKE_ARGS, name=None):
    return tool_fake(fw)(script=[("", [(name or SCHEMA_NAMES[kind], args, "call_1")])])


@pytest.mark.parametrize("kind", list(SCHEMAS))
def test_with_structured_output_invoke(kind):
    def scenario(fw):
        structured = _joke_model(fw, kind).with_structured_output(SCHEMAS[kind])
        recorder = fw.Recorder()
        out = structured.invoke("tell me a joke", {"callbacks": [recorder]})
        return full(out), events(fw, recorder.log)

    lc, hc = both(scenario)
    assert lc == hc
    fields = hc[0] if isinstance(hc[0], dict) else hc[0][2]
    assert fields["setup"] == "Why did the bear cross the road?"


@pytest.mark.parametrize("kind", list(SCHEMAS))
def test_with_structured_output_start_options(kind):
    """on_chat_model_start gets the bound tool in invocation_params and
    ls_structured_output_format (the schema as JSON schema) in options, which
    never reaches the model's _generate/_stream."""
    def scenario(fw):
        seen = []

        class Starts(fw.BaseCallbackHandler):
            def on_chat_model_start(self, serialized, messages, **kwargs):
                params = kwargs["invocation_params"]
                seen.append(({k: params.get(k) for k in ("tools", "tool_choice", "ls_structured_output_format")}, kwargs["options"]))

        model = _joke_model(fw, kind)
        received = []
        model.__dict__["_generate"] = lambda messages, stop=None, run_manager=None, **kw: (
            received.append(sorted(kw)), type(model)._generate(model, messages, stop, run_manager, **kw))[1]
        structured = model.with_structured_output(SCHEMAS[kind])
        structured.invoke("joke", {"callbacks": [Starts()]})
        list(structured.stream("joke", {"callbacks": [Starts()]}))
        return seen, received

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[1] == [["tool_choice", "tools"]]
    assert {"setup", "punchline"} <= set(hc[0][0][1]["ls_structured_output_format"]["schema"]["properties"])


@pytest.mark.parametrize("kind", list(SCHEMAS))
def test_with_structured_output_streams_partial_objects(kind):
    def scenario(fw):
        structured = _joke_model(fw, kind).with_structured_output(SCHEMAS[kind])
        recorder = fw.Recorder()
        out = list(structured.stream("tell me a joke", {"callbacks": [recorder]}))
        return full(out), events(fw, recorder.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert len(hc[0]) > 3  # partial objects as the arguments grow


@pytest.mark.parametrize("kind", ["pydantic", "json_schema"])
def test_with_structured_output_astream_events(kind):
    async def scenario(fw):
        structured = _joke_model(fw, kind).with_structured_output(SCHEMAS[kind])
        return await event_stream(fw, structured, "tell me a joke")

    lc, hc = both(scenario)
    assert lc == hc


@pytest.mark.parametrize("kind", list(SCHEMAS))
@pytest.mark.parametrize("api", ["invoke", "ainvoke"])
def test_with_structured_output_include_raw(kind, api):
    async def scenario(fw):
        structured = _joke_model(fw, kind).with_structured_output(SCHEMAS[kind], include_raw=True)
        recorder = fw.Recorder()
        config = {"callbacks": [recorder]}
        out = structured.invoke("joke", config) if api == "invoke" else await structured.ainvoke("joke", config)
        return full(out), trees(fw, nested(fw, recorder.log))

    lc, hc = both(scenario)
    assert lc == hc
    assert sorted(hc[0]) == ["parsed", "parsing_error", "raw"] and hc[0]["parsing_error"] is None


# Parse failures: a call to another tool, arguments that do not validate,
# arguments that are not JSON (an invalid tool call: no call to parse), no call.
FAILURES = {
    "other_tool": dict(name="Other"),
    "invalid_args": dict(args=json.dumps({"setup": "only a setup", "rating": "high"})),
    "not_json": dict(args='{"setup": "cut'),
}


@pytest.mark.parametrize("kind", ["pydantic", "json_schema"])
@pytest.mark.parametrize("failure", list(FAILURES))
def test_with_structured_output_parse_failures(kind, failure):
    def scenario(fw):
        model = _joke_model(fw, kind, **FAILURES[failure])
        plain = model.with_structured_output(SCHEMAS[kind])
        recorder = fw.Recorder()
        try:
            result = ("returned", full(plain.invoke("joke", {"callbacks": [recorder]})))
        except Exception as e:  # noqa: BLE001
            result = ("raised", type(e).__name__)
        raw = model.with_structured_output(SCHEMAS[kind], include_raw=True)
        raw_recorder = fw.Recorder()
        with_raw = full(raw.invoke("joke", {"callbacks": [raw_recorder]}))
        return result, unlinked(events(fw, recorder.log)), with_raw, unlinked(trees(fw, nested(fw, raw_recorder.log)))

    lc, hc = both(scenario)
    assert lc == hc
    if kind == "pydantic" and failure != "not_json":
        assert hc[0][0] == "raised" and hc[2]["parsed"] is None and hc[2]["parsing_error"] is not None


def test_with_structured_output_include_raw_stream():
    def scenario(fw):
        structured = _joke_model(fw, "pydantic").with_structured_output(Joke, include_raw=True)
        recorder = fw.Recorder()
        return full(list(structured.stream("joke", {"callbacks": [recorder]}))), trees(fw, nested(fw, recorder.log))

    lc, hc = both(scenario)
    assert lc == hc


def _unordered(node):
    """A ``stream_event_trees`` node with its events sorted: the branches of
    the parser's ``RunnableParallel`` (``parsed``, ``parsing_error``) run
    concurrently under ``astream``, so which one streams first is not fixed
    (LangChain's lambda branch happens to finish first, hookchain's sequence
    branch). Start and end events are checked in place below."""
    return {"events": sorted(node["events"], key=repr), "children": [_unordered(c) for c in node["children"]]}


def test_with_structured_output_include_raw_astream_events():
    async def scenario(fw):
        structured = _joke_model(fw, "pydantic").with_structured_output(Joke, include_raw=True)
        return stream_event_trees(fw, await collect(structured.astream_events("joke", version="v2")))

    lc, hc = both(scenario)
    assert [_unordered(n) for n in lc] == [_unordered(n) for n in hc]
    root = hc[0]["events"]
    assert root[0][0] == "on_chain_start" and root[-1][0] == "on_chain_end"
    assert root[-1][-1]["output"]["parsed"] == ("object", "Joke") and root[-1][-1]["output"]["parsing_error"] is None


# --------------------------------------------------------------------------- #
# The tool loop
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("api", ["invoke", "ainvoke"])
def test_tool_loop(api):
    """bind_tools([add]).invoke -> AIMessage.tool_calls -> add.invoke(call) ->
    ToolMessage -> second model call, one recorder over all of it."""

    async def scenario(fw):
        add = add_tool(fw)
        model = tool_fake(fw)(script=[TWO_CALLS, ("2 + 3 = 5 and 10 + 20 = 30", [])])
        bound = model.bind_tools([add])
        recorder = fw.Recorder()
        config = {"callbacks": [recorder]}
        messages = [M(fw, "messages").HumanMessage("what are 2 + 3 and 10 + 20?")]
        first = bound.invoke(messages, config) if api == "invoke" else await bound.ainvoke(messages, config)
        messages.append(first)
        for call in first.tool_calls:
            messages.append(add.invoke(call, config) if api == "invoke" else await add.ainvoke(call, config))
        final = bound.invoke(messages, config) if api == "invoke" else await bound.ainvoke(messages, config)
        return full(messages), full(final), events(fw, recorder.log)

    lc, hc = both(scenario)
    assert lc == hc
    messages = hc[0]
    assert [m[0] for m in messages] == ["HumanMessage", "AIMessage", "ToolMessage", "ToolMessage"]
    assert messages[2][1:] == ("5", ("tool_call_id", "call_1"))
    assert hc[1][1] == "2 + 3 = 5 and 10 + 20 = 30"


def test_tool_loop_astream_events():
    async def scenario(fw):
        add = add_tool(fw)
        bound = tool_fake(fw)(script=[ADD_CALL]).bind_tools([add])
        chain = bound | (lambda message: [add.invoke(call) for call in message.tool_calls])
        return await event_stream(fw, chain, "2 + 3?")

    lc, hc = both(scenario)
    assert lc == hc


# --------------------------------------------------------------------------- #
# hookchain's fakes have bind_tools (LangChain's do not)
# --------------------------------------------------------------------------- #


def test_fake_models_bind_tools_difference():
    """Deliberate difference (README): GenericFakeChatModel and
    FakeMessagesListChatModel bind tools, so a with_structured_output chain
    runs on scripted tool calls; LangChain 1.7.2's raise NotImplementedError."""
    import langchain_core.language_models.fake_chat_models as lc_fakes

    import hookchain.language_models.fake_chat_models as hc_fakes

    call = {"name": "Joke", "args": json.loads(JOKE_ARGS), "id": "call_1"}
    for fakes, fw in ((lc_fakes, LC), (hc_fakes, HC)):
        generic = fakes.GenericFakeChatModel(messages=iter([fw.AIMessage(content="", tool_calls=[call])]))
        listed = fakes.FakeMessagesListChatModel(responses=[fw.AIMessage(content="", tool_calls=[call])])
        if fw is LC:
            assert raised(lambda: generic.bind_tools([Joke]))[1] == "NotImplementedError"
            assert raised(lambda: listed.with_structured_output(Joke))[1] == "NotImplementedError"
        else:
            assert generic.with_structured_output(Joke).invoke("joke") == Joke(**call["args"])
            bound = listed.bind_tools([Joke, _add], tool_choice="any")
            assert [t["function"]["name"] for t in bound.kwargs["tools"]] == ["Joke", "_add"]
            assert bound.kwargs["tool_choice"] == "any"
            assert bound.invoke("joke").tool_calls[0]["args"] == call["args"]


@pytest.mark.parametrize("kind", list(SCHEMAS))
def test_convert_to_json_schema(kind):
    """``convert_to_json_schema`` (what on_chat_model_start's
    ``ls_structured_output_format`` carries) as LangChain's."""
    lc, hc = both(lambda fw: M(fw, "fc").convert_to_json_schema(SCHEMAS[kind]))
    assert lc == hc
    assert both(lambda fw: raised(lambda: M(fw, "fc").convert_to_json_schema({"type": "web_search"}))[1]) == ("ValueError", "ValueError")


@pytest.mark.parametrize("disable", [False, True, "tool_calling"])
def test_disable_streaming_tool_calling(disable):
    """disable_streaming="tool_calling": a stream of a call given tools is one
    message from invoke; without tools it streams."""
    def scenario(fw):
        model = tool_fake(fw)(script=[ADD_CALL], disable_streaming=disable)
        with_tools = [type(c).__name__ for c in model.bind_tools([add_tool(fw)]).stream("2 + 3?")]
        model.script = [("hi there", [])]
        without = [type(c).__name__ for c in model.stream("hi")]
        return with_tools, without

    lc, hc = both(scenario)
    # LangChain's extra empty last chunk (harness docstring) is not counted
    lc = tuple(names[:-1] if names.count("AIMessageChunk") > 1 else names for names in lc)
    assert lc == hc
    assert hc[0] == (["AIMessage"] if disable else ["AIMessageChunk"] * 4)  # the arguments in 4 pieces
    assert hc[1] == (["AIMessage"] if disable is True else ["AIMessageChunk"] * 8)
