"""Messages on hookchain and on langchain-core 1.7.2: the same calls, the same results.

Each scenario is a function of the messages module (``langchain_core.messages``
or ``hookchain.messages``), run on both; messages compare by class name and
``model_dump()``, exceptions by the builtin class LangChain's derives from
(pydantic's ``ValidationError`` is a ``ValueError``; hookchain's
``InvalidMessageError`` is a ``TypeError`` and a ``ValueError``). Hypothesis
draws the inputs where the input space is wide. Deliberate differences are
asserted at the end of the file and listed in the README.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import langchain_core.messages as lc
import langchain_core.messages.ai as lc_ai
import langchain_core.messages.tool as lc_tool
import langchain_core.utils._merge as lc_merge
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hookchain.messages as hc
import hookchain.messages._merge as hc_merge
import hookchain.messages.ai as hc_ai
import hookchain.messages.tool as hc_tool

FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BUILTIN_ERRORS = (NotImplementedError, KeyError, TypeError, ValueError, AttributeError)


class Raised:
    """An exception, equal to another whose builtin base class it shares."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
        self.kinds = {k for k in BUILTIN_ERRORS if isinstance(exc, k)}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Raised) and bool(self.kinds & other.kinds)

    def __repr__(self) -> str:
        return f"Raised({type(self.exc).__name__}: {self.exc})"


def dump(value: Any) -> Any:
    """Messages as ``(class name, model_dump())``, recursively."""
    if isinstance(value, (lc.BaseMessage, hc.BaseMessage)):
        return (type(value).__name__, value.model_dump())
    if isinstance(value, (list, tuple)):
        return [dump(v) for v in value]
    if isinstance(value, dict):
        return {k: dump(v) for k, v in value.items()}
    return value


def run(scenario: Callable[[Any], Any], module: Any) -> Any:
    try:
        return dump(scenario(module))
    except Exception as e:  # noqa: BLE001
        return Raised(e)


def same(scenario: Callable[[Any], Any], lc_module: Any = lc, hc_module: Any = hc) -> Any:
    """Run ``scenario`` on both modules and assert equal results; returns hookchain's."""
    expected, got = run(scenario, lc_module), run(scenario, hc_module)
    assert expected == got
    return got


# --------------------------------------------------------------------------- #
# Strategies
# --------------------------------------------------------------------------- #

keys = st.sampled_from(["a", "b", "index", "id", "type", "created", "output_version", "model_provider"])
scalars = (st.none() | st.booleans() | st.integers(-2, 3) | st.sampled_from([0.5, 1.5]) | st.text("xy", max_size=2)
           | st.sampled_from(["lc_1", "lc_2"]))
indexed = st.fixed_dictionaries(
    {"index": st.integers(0, 2) | st.sampled_from(["lc_0", "x"])},
    optional={"id": st.sampled_from(["", "1", "2"]) | st.none(), "type": st.sampled_from(["text", "non_standard"]),
              "text": st.text("ab", max_size=2), "value": st.fixed_dictionaries({"k": st.text("c", max_size=1)})},
)
values = st.recursive(
    scalars | st.lists(indexed | scalars, max_size=3),
    lambda inner: st.dictionaries(keys, inner, max_size=3),
    max_leaves=6,
)
metadata = st.dictionaries(keys, values, max_size=4)
blocks = st.lists(
    st.text("ab", max_size=2) | st.fixed_dictionaries(
        {"type": st.just("text"), "text": st.text("cd", max_size=2)}, optional={"index": st.integers(0, 1)}),
    max_size=3,
)
contents = st.text("hi ", max_size=3) | blocks
ai_ids = st.sampled_from([None, "", "lc_run--1", "lc_run--2", "lc_abc", "msg_1", "msg_2"])


# --------------------------------------------------------------------------- #
# 1. Merging
# --------------------------------------------------------------------------- #


@FAST
@given(metadata, metadata, metadata)
def test_merge_dicts_as_langchain(a, b, c):
    same(lambda m: m.merge_dicts(copy.deepcopy(a), copy.deepcopy(b), copy.deepcopy(c)), lc_merge, hc_merge)


@FAST
@given(st.lists(indexed | scalars, max_size=4), st.lists(indexed | scalars, max_size=4), st.none() | st.lists(indexed, max_size=2))
def test_merge_lists_as_langchain(a, b, c):
    same(lambda m: m.merge_lists(copy.deepcopy(a), copy.deepcopy(b), copy.deepcopy(c)), lc_merge, hc_merge)


@FAST
@given(values, values)
def test_merge_obj_as_langchain(a, b):
    same(lambda m: m.merge_obj(copy.deepcopy(a), copy.deepcopy(b)), lc_merge, hc_merge)


@FAST
@given(st.none() | contents, st.lists(contents, max_size=3))
def test_merge_content_as_langchain(first, others):
    same(lambda m: m.merge_content(copy.deepcopy(first), *copy.deepcopy(others)))


@pytest.mark.parametrize("first, others", [
    ("", [[{"type": "text", "text": "a"}]]),
    ("x", [["y"]]),
    ([], ["a"]),
    ([], [""]),
    (["a"], ["b"]),
    ([{"type": "text", "text": "a"}], ["", "b"]),
    ([{"type": "text", "text": "a", "index": 0}], [[{"type": "text", "text": "b", "index": 0}], "c"]),
    (None, ["a"]),
])
def test_merge_content_edge_cases(first, others):
    same(lambda m: m.merge_content(copy.deepcopy(first), *copy.deepcopy(others)))


def chunk_args(cls_name: str) -> dict[str, Any]:
    return {"ToolMessageChunk": {"tool_call_id": "t1"}, "FunctionMessageChunk": {"name": "f"},
            "ChatMessageChunk": {"role": "critic"}}.get(cls_name, {})


@FAST
@given(
    st.sampled_from(["AIMessageChunk", "HumanMessageChunk", "SystemMessageChunk", "ToolMessageChunk",
                     "FunctionMessageChunk", "ChatMessageChunk"]),
    st.lists(st.tuples(contents, metadata, metadata, ai_ids), min_size=1, max_size=4),
)
def test_chunk_sums_as_langchain(cls_name, parts):
    def scenario(m):
        # Only the first non-AI chunk gets an id: see test_difference_chunk_sums_keep_name_and_a_later_id.
        chunks = [
            getattr(m, cls_name)(content=copy.deepcopy(c), additional_kwargs=copy.deepcopy(ak),
                                 response_metadata=copy.deepcopy(rm), id=i if n == 0 or cls_name == "AIMessageChunk" else None,
                                 **chunk_args(cls_name))
            for n, (c, ak, rm, i) in enumerate(parts)
        ]
        total = chunks[0]
        for chunk in chunks[1:]:
            total = total + chunk
        return total

    same(scenario)


@FAST
@given(st.sampled_from(["AIMessageChunk", "HumanMessageChunk", "SystemMessageChunk"]),
       st.lists(st.tuples(contents, metadata, ai_ids), min_size=2, max_size=4))
def test_chunk_plus_list_as_langchain(cls_name, parts):
    def scenario(m):
        chunks = [getattr(m, cls_name)(content=copy.deepcopy(c), response_metadata=copy.deepcopy(rm),
                                       id=i if n == 0 or cls_name == "AIMessageChunk" else None)
                  for n, (c, rm, i) in enumerate(parts)]
        return chunks[0] + chunks[1:]

    same(scenario)


usages = st.none() | st.fixed_dictionaries(
    {"input_tokens": st.integers(0, 9), "output_tokens": st.integers(0, 9), "total_tokens": st.integers(0, 18)},
    optional={"input_token_details": st.fixed_dictionaries({}, optional={"cache_read": st.integers(0, 5), "audio": st.integers(0, 5)}),
              "output_token_details": st.fixed_dictionaries({}, optional={"reasoning": st.integers(0, 5)})},
)
tool_chunks = st.lists(st.fixed_dictionaries({
    "name": st.sampled_from([None, "f", "g"]), "args": st.sampled_from([None, "", '{"a"', ': 1', '}', '{"b": [1', "x", "]}"]),
    "id": st.sampled_from([None, "c1", "c2"]), "index": st.sampled_from([None, 0, 1]),
}), max_size=2)


@FAST
@given(st.lists(st.tuples(st.text("ab", max_size=2), usages, tool_chunks, ai_ids,
                          st.sampled_from([None, "last"])), min_size=1, max_size=4))
def test_ai_chunk_stream_sums_as_langchain(parts):
    def scenario(m):
        chunks = [m.AIMessageChunk(content=c, usage_metadata=copy.deepcopy(u), tool_call_chunks=copy.deepcopy(t),
                                   id=i, chunk_position=p) for c, u, t, i, p in parts]
        pairwise = chunks[0]
        for chunk in chunks[1:]:
            pairwise = pairwise + chunk
        return [pairwise, chunks[0] + chunks[1:], m.message_chunk_to_message(pairwise)]

    same(scenario)


@pytest.mark.parametrize("left, right", [
    (("ToolMessageChunk", {"tool_call_id": "1"}), ("ToolMessageChunk", {"tool_call_id": "2"})),
    (("FunctionMessageChunk", {"name": "f"}), ("FunctionMessageChunk", {"name": "g"})),
    (("ChatMessageChunk", {"role": "a"}), ("ChatMessageChunk", {"role": "b"})),
    (("ChatMessageChunk", {"role": "a"}), ("HumanMessageChunk", {})),
    (("AIMessageChunk", {}), ("AIMessage", {})),
    (("HumanMessageChunk", {}), ("HumanMessage", {})),
])
def test_chunk_addition_errors_and_cross_types_as_langchain(left, right):
    same(lambda m: getattr(m, left[0])("a", **left[1]) + getattr(m, right[0])("b", **right[1]))


def test_chunk_plus_non_message_raises_type_error_as_langchain():
    same(lambda m: m.AIMessageChunk("a") + "b")
    same(lambda m: m.AIMessageChunk("a") + [m.AIMessageChunk("b"), "c"])


def test_tool_chunks_merge_artifacts_and_status_as_langchain():
    def scenario(m):
        a = m.ToolMessageChunk("a", tool_call_id="1", artifact={"rows": [1]}, status="success")
        b = m.ToolMessageChunk("b", tool_call_id="1", artifact={"rows": [2]}, status="error")
        c = m.ToolMessageChunk("c", tool_call_id="1", artifact={"rows": 3})
        return [a + b, (a + b).status, _try(lambda: (a + b) + c)]

    same(scenario)


def _try(call: Callable[[], Any]) -> Any:
    try:
        return dump(call())
    except Exception as e:  # noqa: BLE001
        return Raised(e)


# --------------------------------------------------------------------------- #
# Deliberate differences (README, "Differences from LangChain")
# --------------------------------------------------------------------------- #


def test_difference_chunks_of_different_classes_do_not_add_up():
    # LangChain returns the left class and drops the right chunk's type.
    assert type(lc.AIMessageChunk("a") + lc.HumanMessageChunk("b")).__name__ == "AIMessageChunk"
    with pytest.raises(TypeError, match="cannot add HumanMessageChunk to AIMessageChunk"):
        hc.AIMessageChunk("a") + hc.HumanMessageChunk("b")
    with pytest.raises(TypeError, match="cannot add AIMessageChunk to SystemMessageChunk"):
        hc.SystemMessageChunk("a") + hc.AIMessageChunk("b")


def test_difference_chunk_sums_keep_name_and_a_later_id():
    # LangChain's sums drop ``name`` and a later chunk's id (langchain-ai/langchain#40677).
    assert (lc.AIMessageChunk("a", name="bot") + lc.AIMessageChunk("b")).name is None
    assert (hc.AIMessageChunk("a", name="bot") + hc.AIMessageChunk("b")).name == "bot"
    assert (hc.HumanMessageChunk("a") + hc.HumanMessageChunk("b", name="ann")).name == "ann"
    assert (lc.HumanMessageChunk("a") + lc.HumanMessageChunk("b", id="m1")).id is None
    assert (hc.HumanMessageChunk("a") + hc.HumanMessageChunk("b", id="m1")).id == "m1"
    assert (hc.ToolMessageChunk("a", tool_call_id="1") + [hc.ToolMessageChunk("b", tool_call_id="1", id="m2")]).id == "m2"
    # ... and so merge_message_runs keeps the name of a run.
    assert lc.merge_message_runs([lc.AIMessage("a", name="bot"), lc.AIMessage("b", name="bot")])[0].name is None
    assert hc.merge_message_runs([hc.AIMessage("a", name="bot"), hc.AIMessage("b", name="bot")])[0].name == "bot"


def test_difference_extra_dict_keys_go_to_additional_kwargs():
    # LangChain keeps "example" (a field of old versions) as an undeclared extra field.
    item = {"role": "user", "content": "e", "example": True}
    assert getattr(lc.convert_to_messages([dict(item)])[0], "example") is True
    assert hc.convert_to_messages([dict(item)])[0].additional_kwargs == {"example": True}


def test_difference_openai_tool_blocks_outside_ai_messages():
    # LangChain reads ``message.tool_calls`` of any message there: AttributeError.
    content = [{"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}]
    with pytest.raises(AttributeError):
        lc.convert_to_openai_messages([lc.HumanMessage(content)])
    assert hc.convert_to_openai_messages([hc.HumanMessage(content)]) == [{
        "role": "user", "content": "",
        "tool_calls": [{"type": "function", "id": "t1", "function": {"name": "f", "arguments": '{"a": 1}'}}],
    }]


def test_difference_list_sums_of_tool_and_chat_chunks_work():
    # LangChain's list form builds the chunk without tool_call_id and fails.
    with pytest.raises(KeyError):
        lc.ToolMessageChunk("a", tool_call_id="1") + [lc.ToolMessageChunk("b", tool_call_id="1")]
    total = hc.ToolMessageChunk("a", tool_call_id="1") + [hc.ToolMessageChunk("b", tool_call_id="1")]
    assert (total.content, total.tool_call_id) == ("ab", "1")


# --------------------------------------------------------------------------- #
# 2. Fields, model_dump / model_copy, dict round trips
# --------------------------------------------------------------------------- #

CLASSES = {
    "HumanMessage": {}, "SystemMessage": {}, "AIMessage": {}, "ToolMessage": {"tool_call_id": "t1"},
    "FunctionMessage": {"name": "fn"}, "ChatMessage": {"role": "critic"},
    "HumanMessageChunk": {}, "SystemMessageChunk": {}, "AIMessageChunk": {}, "ToolMessageChunk": {"tool_call_id": "t1"},
    "FunctionMessageChunk": {"name": "fn"}, "ChatMessageChunk": {"role": "critic"},
}
EXTRA = {
    "AI": st.fixed_dictionaries({}, optional={
        "usage_metadata": usages.filter(bool),
        "tool_calls": st.lists(st.fixed_dictionaries({
            "name": st.sampled_from(["f", "g"]), "id": st.sampled_from([None, "c1"]),
            "args": st.dictionaries(st.sampled_from("ab"), st.integers(0, 3), max_size=2),
        }), max_size=2),
    }),
    "Tool": st.fixed_dictionaries({}, optional={"artifact": values, "status": st.sampled_from(["success", "error"])}),
}
message_specs = st.tuples(
    st.sampled_from(sorted(CLASSES)), contents, metadata, metadata, st.none() | st.text("nm", max_size=2),
    st.none() | st.sampled_from(["m1", "lc_run--2"]), EXTRA["AI"], EXTRA["Tool"], st.sampled_from([None, "last"]),
)


def build(m, spec):
    cls_name, content, ak, rm, name, id_, ai_extra, tool_extra, position = copy.deepcopy(spec)
    kwargs = dict(CLASSES[cls_name])
    if name is not None and cls_name not in ("FunctionMessage", "FunctionMessageChunk"):
        kwargs["name"] = name
    if cls_name.startswith("AI"):
        kwargs.update(ai_extra)
        if cls_name == "AIMessageChunk":
            kwargs["chunk_position"] = position
    if cls_name.startswith("Tool"):
        kwargs.update(tool_extra)
    return getattr(m, cls_name)(content=content, additional_kwargs=ak, response_metadata=rm, id=id_, **kwargs)


@FAST
@given(message_specs)
def test_model_dump_and_round_trips_as_langchain(spec):
    def scenario(m):
        msg = build(m, spec)
        dumped = msg.model_dump()
        again = type(msg)(**msg.model_dump())
        as_dicts = m.messages_to_dict([msg])
        return {
            "dump": dumped, "keys": list(dumped), "round trip equal": again == msg, "again": again,
            "dicts": as_dicts, "from dicts": m.messages_from_dict(as_dicts), "from dicts equal": m.messages_from_dict(as_dicts) == [msg],
            "one": m.message_to_dict(msg), "no type": msg.model_dump(exclude={"type"}),
            "only": msg.model_dump(include={"content", "id"}), "no none": msg.model_dump(exclude_none=True),
            "text": msg.text, "pretty": msg.pretty_repr(),
        }

    same(scenario)


@FAST
@given(message_specs, contents, metadata)
def test_model_copy_as_langchain(spec, content, meta):
    def scenario(m):
        msg = build(m, spec)
        updated = msg.model_copy(update={"content": copy.deepcopy(content), "response_metadata": copy.deepcopy(meta)})
        shallow, deep = msg.model_copy(), msg.model_copy(deep=True)
        deep.additional_kwargs["added"] = 1
        shallow_shares = shallow.additional_kwargs is msg.additional_kwargs
        return [updated, shallow == msg, shallow_shares, "added" in msg.additional_kwargs, deep]

    same(scenario)


def test_model_copy_does_not_revalidate_as_langchain():
    def scenario(m):
        chunk = m.AIMessageChunk("", tool_call_chunks=[{"name": "f", "args": '{"a": 1}', "id": "1", "index": 0}])
        return chunk.model_copy(update={"tool_call_chunks": []})

    same(scenario)


@pytest.mark.parametrize("call", [
    lambda m: m.HumanMessage("x", type="human"),
    lambda m: m.HumanMessage("x", type="ai"),
    lambda m: m.AIMessage(content="x", id=5),
    lambda m: m.HumanMessage([1]),
    lambda m: m.HumanMessage(content_blocks=[{"type": "text", "text": "a"}]),
    lambda m: m.ToolMessage(5, tool_call_id=3),
    lambda m: m.ToolMessage(("a", 2), tool_call_id="1"),
    lambda m: m.ChatMessage("a"),
    lambda m: m.FunctionMessage("a"),
    lambda m: m.AIMessageChunk("a", chunk_position="last"),
    lambda m: m.AIMessageChunk("a", chunk_position="last") + m.AIMessageChunk("b"),
    lambda m: m.AIMessageChunk("a") + m.AIMessageChunk("b", chunk_position="last"),
    lambda m: m.message_chunk_to_message(m.AIMessageChunk("a", chunk_position="last", id="lc_1")),
    lambda m: m.message_chunk_to_message(m.ToolMessageChunk("a", tool_call_id="1", artifact=[1], status="error")),
    lambda m: m.message_chunk_to_message(m.HumanMessage("a")),
    lambda m: m.messages_from_dict([{"type": "nope", "data": {}}]),
    lambda m: m.AIMessage("a", name="n", tool_calls=[{"name": "f", "args": {"a": 1}, "id": "1"}]).pretty_repr(),
    lambda m: m.AIMessage("a", invalid_tool_calls=[{"name": "f", "args": "{", "id": "1", "error": "bad"}]).pretty_repr(),
    lambda m: m.HumanMessage([{"type": "text", "text": "a"}, "b", {"type": "image_url", "image_url": {"url": "u"}},
                              {"type": "text", "text": 3}]).text,
])
def test_construction_cases_as_langchain(call):
    same(call)


# --------------------------------------------------------------------------- #
# 3. Tool calls
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("call", [
    lambda t: t.tool_call(name="f", args={"a": 1}, id="1"),
    lambda t: t.tool_call(name="f", args={}, id=None),
    lambda t: t.tool_call_chunk(),
    lambda t: t.tool_call_chunk(name="f", args='{"a', id="1", index=0),
    lambda t: t.invalid_tool_call(),
    lambda t: t.invalid_tool_call(name="f", args="{", id="1", error="bad json"),
    lambda t: t.tool_call(name="f"),
    lambda t: t.tool_call_chunk(nme="f"),
])
def test_tool_call_constructors_as_langchain(call):
    same(call, lc_tool, hc_tool)


raw_calls = st.lists(st.fixed_dictionaries({}, optional={
    "id": st.sampled_from(["call_1", "call_2", None]),
    "index": st.sampled_from([0, 1, None]),
    "type": st.just("function"),
    "function": st.fixed_dictionaries({
        "name": st.sampled_from(["f", "", None]),
        "arguments": st.sampled_from(['{"a": 1}', "{}", "", "null", "{bad", '{"a": [1, 2', "[1]", '"s"']),
    }),
}), max_size=3)


@FAST
@given(raw_calls)
def test_openai_tool_calls_in_additional_kwargs_as_langchain(raw):
    def scenario(m):
        return [
            _try(lambda: m.AIMessage("", additional_kwargs={"tool_calls": copy.deepcopy(raw)})),
            _try(lambda: m.AIMessageChunk("", additional_kwargs={"tool_calls": copy.deepcopy(raw)})),
            _try(lambda: m.AIMessage("", additional_kwargs={"tool_calls": copy.deepcopy(raw)},
                                     tool_calls=[{"name": "given", "args": {}, "id": "g"}])),
        ]

    same(scenario)
    same(lambda t: [t.default_tool_parser(copy.deepcopy(raw)), t.default_tool_chunk_parser(copy.deepcopy(raw))],
         lc_tool, hc_tool)


json_docs = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 50) | st.text('ab"\\\n{', max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text("kq", max_size=2), inner, max_size=3),
    max_leaves=8,
)


@FAST
@given(json_docs, st.data())
def test_partial_tool_call_args_parse_as_langchain(doc, data):
    import json as json_module

    text = json_module.dumps(doc)
    cut = data.draw(st.integers(0, len(text)))
    pieces = [text[:cut], text[cut:]]

    def scenario(m):
        chunks = [m.AIMessageChunk("", tool_call_chunks=[
                      {"name": "f" if i == 0 else None, "args": p, "id": "c" if i == 0 else None, "index": 0}])
                  for i, p in enumerate(pieces)]
        return [chunks[0], chunks[0] + chunks[1]]

    same(scenario)


@pytest.mark.parametrize("kwargs", [
    {"tool_calls": [{"name": "f", "args": {"a": 1}, "id": "1"}]},
    {"tool_calls": [{"name": "f", "args": {"a": 1}, "id": "1", "type": "tool_call", "extras": {"x": 1}}]},
    {"tool_calls": [{"name": "f", "args": {"a": 1}, "id": "1", "index": 0}]},
    {"tool_calls": [{"name": "f", "args": {}}]},
    {"invalid_tool_calls": [{"name": "f", "args": "{", "id": "1", "error": None}]},
    {"invalid_tool_calls": [{"name": "f", "args": "{", "id": "1", "error": None, "type": "invalid_tool_call"}]},
    {"tool_calls": [{"name": "f", "args": {"a": 1}, "id": "1"}],
     "invalid_tool_calls": [{"name": "g", "args": "{", "id": "2", "error": "e"}]},
])
def test_tool_call_normalisation_as_langchain(kwargs):
    same(lambda m: [m.AIMessage("x", **copy.deepcopy(kwargs)), m.AIMessageChunk("x", **copy.deepcopy(kwargs))])


@pytest.mark.parametrize("chunks", [
    [{"name": "f", "args": '{"a": 1}', "id": "1", "index": 0}],
    [{"name": "f", "args": '{"a": ', "id": "1", "index": 0}, {"name": "g", "args": "[1, 2]", "id": "2", "index": 1}],
    [{"name": None, "args": None, "id": None, "index": None}],
    [{"name": "f", "args": "not json", "id": "1", "index": 0, "type": "tool_call_chunk"}],
    [{"name": "f", "args": "{}", "id": "1"}],
])
def test_tool_call_chunks_derive_tool_calls_as_langchain(chunks):
    same(lambda m: m.AIMessageChunk("", tool_call_chunks=copy.deepcopy(chunks)))


def test_v1_last_chunk_blocks_as_langchain():
    def scenario(m):
        first = m.AIMessageChunk(
            [{"type": "tool_call_chunk", "id": "1", "name": "f", "args": '{"a"', "index": 0},
             {"type": "server_tool_call_chunk", "id": "s", "name": "web", "args": '{"q": 1}', "index": 1}],
            tool_call_chunks=[{"name": "f", "args": '{"a"', "id": "1", "index": 0}],
            response_metadata={"output_version": "v1"})
        last = m.AIMessageChunk([], tool_call_chunks=[{"name": None, "args": ": 2}", "id": None, "index": 0}],
                                chunk_position="last", response_metadata={"output_version": "v1"})
        return first + last

    same(scenario)


# --------------------------------------------------------------------------- #
# 4. Utilities
# --------------------------------------------------------------------------- #

message_lists = st.lists(message_specs, max_size=5)


def build_all(m, specs):
    return [build(m, s) for s in specs]


@FAST
@given(message_lists, st.sampled_from(["prefix", "xml"]), st.sampled_from([{}, {"human_prefix": "User", "ai_prefix": "Bot"},
       {"system_prefix": "Sys", "tool_prefix": "T", "function_prefix": "F", "message_separator": "\n\n"}]))
def test_get_buffer_string_as_langchain(specs, fmt, kwargs):
    same(lambda m: m.get_buffer_string(build_all(m, specs), format=fmt, **kwargs))


@pytest.mark.parametrize("make", [
    lambda m: [m.AIMessage("", additional_kwargs={"function_call": {"name": "f", "arguments": '{"a": 1}'}})],
    lambda m: [m.AIMessage("see <this> & that", tool_calls=[{"name": "s", "args": {"q": "ü<"}, "id": "x" * 70}])],
    lambda m: [m.HumanMessage([
        "plain", {"type": "text", "text": "a<b"}, {"type": "reasoning", "reasoning": "r"},
        {"type": "image", "url": "http://i"}, {"type": "image", "file_id": "f1"}, {"type": "image", "base64": "AAA"},
        {"type": "image_url", "image_url": {"url": "http://u"}}, {"type": "image_url", "image_url": {"url": "data:x"}},
        {"type": "audio", "url": "http://a"}, {"type": "video", "file_id": "v"}, {"type": "text-plain", "text": "t" * 600},
        {"type": "server_tool_call", "id": "s1", "name": "web", "args": {"q": 1}},
        {"type": "server_tool_result", "tool_call_id": "s1", "status": "success", "output": {"r": [1]}},
        {"type": "unknown"}, "",
    ])],
    lambda m: [m.ChatMessage("x", role="Critic"), m.ToolMessage("r", tool_call_id="1"), m.FunctionMessage("f", name="fn")],
])
def test_get_buffer_string_cases_as_langchain(make):
    same(lambda m: [m.get_buffer_string(make(m)), m.get_buffer_string(make(m), format="xml")])
    same(lambda m: m.get_buffer_string(make(m), format="json"))


@pytest.mark.parametrize("item", [
    "hello", ("human", "h"), ("user", "u"), ("ai", "a"), ("assistant", "a"), ("system", "s"), ("developer", "d"),
    ("function", "f"), ("tool", "t"), ("robot", "x"), ["user", "list pair"], ("a", "b", "c"),
    {"role": "user", "content": "c", "name": "ann", "id": "1", "foo": "bar"},
    {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}]},
    {"role": "assistant", "content": "x", "tool_calls": [{"name": "f", "args": {"a": 1}, "id": "c1"}]},
    {"role": "tool", "content": "r", "tool_call_id": "c1", "artifact": [1], "status": "error"},
    {"role": "developer", "content": "be brief", "additional_kwargs": {"k": 1}},
    {"type": "ai", "content": "typed", "response_metadata": {"model": "m"}},
    {"role": "system"},
    {"lc": 1, "type": "constructor", "id": ["langchain", "schema", "messages", "AIMessage"], "kwargs": {"content": "ser"}},
    {"lc": 1, "type": "constructor", "id": ["x", "Unknown"], "kwargs": {"content": "ser"}},
    42,
])
def test_convert_to_messages_as_langchain(item):
    same(lambda m: m.convert_to_messages([copy.deepcopy(item)]))


def test_convert_to_messages_of_messages_and_prompt_values_as_langchain():
    import langchain_core.prompt_values as lc_pv

    import hookchain.prompt_values as hc_pv

    def scenario(m, pv):
        msgs = [m.SystemMessage("s"), m.HumanMessage("h")]
        return [m.convert_to_messages(msgs), m.convert_to_messages(pv.ChatPromptValue(messages=msgs)),
                m.convert_to_messages(pv.StringPromptValue(text="t"))]

    assert dump(scenario(lc, lc_pv)) == dump(scenario(hc, hc_pv))


type_filters = st.none() | st.sampled_from(["human", "ai", ["system", "tool"], "AIMessageChunk"])


@FAST
@given(message_lists, type_filters, type_filters, st.none() | st.sampled_from([["nm"], ["n"]]),
       st.none() | st.sampled_from([["m1"], ["lc_run--2"]]), st.sampled_from([None, True, ["c1"], ("c1", None)]))
def test_filter_messages_as_langchain(specs, include_types, exclude_types, names, ids, exclude_tool_calls):
    same(lambda m: m.filter_messages(build_all(m, specs), include_types=include_types, exclude_types=exclude_types,
                                     include_names=names, exclude_ids=ids, exclude_tool_calls=exclude_tool_calls))


def test_filter_messages_by_class_and_as_runnable_as_langchain():
    def scenario(m):
        msgs = [m.SystemMessage("s"), m.HumanMessage("h", name="a"), m.AIMessage("x", id="1")]
        return [m.filter_messages(msgs, include_types=[m.HumanMessage, "system"]),
                m.filter_messages(exclude_types=m.SystemMessage).invoke(msgs),
                m.filter_messages(msgs, exclude_names=["a"], include_ids=["1"])]

    same(scenario)


@FAST
@given(message_lists, st.sampled_from(["\n", "", " | "]))
def test_merge_message_runs_as_langchain(specs, separator):
    # Names and later ids of merged runs: see test_difference_chunk_sums_keep_name_and_a_later_id.
    specs = [(s[0], s[1], s[2], s[3], None, s[5] if s[0].startswith("AI") else None, *s[6:]) for s in specs]
    same(lambda m: m.merge_message_runs(build_all(m, specs), chunk_separator=separator))


def test_merge_message_runs_cases_as_langchain():
    def scenario(m):
        msgs = [m.HumanMessage("a"), m.HumanMessage(["b", {"type": "text", "text": "c"}]), m.HumanMessage("d"),
                m.AIMessage("x", tool_calls=[{"name": "f", "args": {}, "id": "1"}], response_metadata={"r": 1}),
                m.AIMessage("y", response_metadata={"r": 2}), m.ToolMessage("t", tool_call_id="1"),
                m.ToolMessage("u", tool_call_id="2"), ("user", "tuple")]
        return [m.merge_message_runs(msgs), m.merge_message_runs([]), m.merge_message_runs(chunk_separator="").invoke(msgs)]

    same(scenario)


def _count_words(messages):
    return sum(len(str(msg.content).split()) + 1 for msg in messages)


class _Model:
    def get_num_tokens_from_messages(self, messages):
        return sum(len(str(msg.content)) for msg in messages)


@FAST
@given(message_lists, st.integers(0, 40), st.sampled_from(["first", "last"]), st.booleans(), type_filters, type_filters,
       st.booleans(), st.sampled_from(["words", "approximate", "model", "len"]))
def test_trim_messages_as_langchain(specs, max_tokens, strategy, allow_partial, end_on, start_on, include_system, counter):
    def scenario(m):
        counters = {"words": _count_words, "approximate": "approximate", "model": _Model(),
                    "len": lambda msgs: sum(len(m.get_buffer_string([x])) for x in msgs)}
        return m.trim_messages(build_all(m, specs), max_tokens=max_tokens, token_counter=counters[counter],
                               strategy=strategy, allow_partial=allow_partial, end_on=end_on,
                               start_on=start_on if strategy == "last" else None,
                               include_system=include_system and strategy == "last")

    same(scenario)


def test_trim_messages_cases_as_langchain():
    long = "line one\nline two\nline three\nline four"

    def scenario(m):
        def per_message(message):
            return len(str(message.content))

        per_message.__annotations__ = {"message": m.BaseMessage}

        msgs = [m.SystemMessage("system prompt"), m.HumanMessage(long), m.AIMessage([{"type": "text", "text": "a"}, {"type": "text", "text": long}]),
                m.HumanMessage("last question")]
        return [
            m.trim_messages(msgs, max_tokens=40, token_counter=per_message, allow_partial=True),
            m.trim_messages(msgs, max_tokens=40, token_counter=per_message, strategy="first", allow_partial=True),
            m.trim_messages(msgs, max_tokens=30, token_counter=per_message, allow_partial=True, include_system=True),
            m.trim_messages(msgs, max_tokens=25, token_counter=per_message, allow_partial=True, text_splitter=lambda t: t.split(" ")),
            m.trim_messages(max_tokens=20, token_counter=per_message).invoke(msgs),
            _try(lambda: m.trim_messages(msgs, max_tokens=5, token_counter="nope")),
            _try(lambda: m.trim_messages(msgs, max_tokens=5, token_counter=len, strategy="first", start_on="human")),
            _try(lambda: m.trim_messages(msgs, max_tokens=5, token_counter=len, strategy="middle")),
        ]

    same(scenario)


@FAST
@given(message_lists, st.sampled_from(["string", "block"]), st.booleans())
def test_convert_to_openai_messages_as_langchain(specs, text_format, include_id):
    same(lambda m: m.convert_to_openai_messages(build_all(m, specs), text_format=text_format, include_id=include_id))


@pytest.mark.parametrize("content", [
    [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAA"}}],
    [{"type": "image", "source": {"type": "base64"}}],
    [{"image": {"format": "png", "source": {"bytes": b"\x00\x01"}}}],
    [{"type": "image", "url": "http://i"}, {"type": "image", "base64": "AAA", "mime_type": "image/png"}],
    [{"type": "image", "source_type": "base64", "data": "AAA", "mime_type": "image/jpeg"}],
    [{"type": "file", "base64": "AAA", "mime_type": "application/pdf", "filename": "a.pdf"}],
    [{"type": "file", "base64": "AAA", "mime_type": "application/pdf"}],
    [{"type": "file", "file_id": "f1"}], [{"type": "file", "url": "http://f"}],
    [{"type": "audio", "base64": "AAA", "mime_type": "audio/wav"}], [{"type": "video", "url": "http://v"}],
    [{"type": "file", "file": {"file_data": "data:..."}}],
    [{"type": "input_audio", "input_audio": {"data": "AAA", "format": "wav"}}],
    [{"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}, {"type": "tool_use", "id": "t2"}],
    [{"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"}],
    [{"type": "tool_result", "tool_use_id": "t1", "content": "ok", "is_error": True}],
    ["hi", {"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "ok"}]}],
    [{"type": "json", "json": {"a": 1}}], [{"json": {"a": 1}}],
    [{"type": "guard_content", "guard_content": {"text": {"text": "g"}}}], [{"guard_content": {}}],
    [{"type": "media", "mime_type": "image/png", "data": b"\x00"}], [{"type": "media", "mime_type": "audio/wav", "data": b""}],
    [{"type": "thinking", "thinking": "t"}], [{"type": "custom", "x": 1}], [{"type": "text"}], [{"type": "image_url"}],
])
@pytest.mark.parametrize("text_format", ["string", "block"])
@pytest.mark.parametrize("pass_through", [True, False])
@pytest.mark.filterwarnings("ignore:.*filename")  # both warn about a file block without one
def test_convert_to_openai_blocks_as_langchain(content, text_format, pass_through):
    # Tool-call blocks in a human message: see test_difference_openai_tool_blocks_outside_ai_messages.
    calls_only_in_ai = any(b.get("type") in ("tool_use", "function_call") for b in content if isinstance(b, dict))
    same(lambda m: m.convert_to_openai_messages(
        [m.AIMessage(copy.deepcopy(content), tool_calls=[{"name": "f", "args": {"a": 1}, "id": "t1"}])]
        + ([] if calls_only_in_ai else [m.HumanMessage(copy.deepcopy(content))]),
        text_format=text_format, pass_through_unknown_blocks=pass_through))


def test_convert_to_openai_single_and_roles_as_langchain():
    def scenario(m):
        return [m.convert_to_openai_messages(m.HumanMessage("x", name="n", id="1"), include_id=True),
                m.convert_to_openai_messages("plain"), m.convert_to_openai_messages({"role": "developer", "content": "d"}),
                m.convert_to_openai_messages([m.AIMessage("", additional_kwargs={"refusal": "no"}), m.ChatMessage("c", role="critic"),
                                              m.FunctionMessage("f", name="fn"), m.ToolMessage("t", tool_call_id="1")]),
                _try(lambda: m.convert_to_openai_messages(["x"], text_format="html"))]

    same(scenario)


@FAST
@given(message_lists, st.sampled_from([4.0, 2.5]), st.booleans(), st.booleans(), st.sampled_from([None, "openai", "other"]))
def test_count_tokens_approximately_as_langchain(specs, chars_per_token, count_name, scaling, provider):
    def scenario(m):
        msgs = build_all(m, specs)
        for msg in msgs:
            if provider and isinstance(msg, m.AIMessage):
                msg.response_metadata["model_provider"] = provider
        tools = [{"name": "f", "description": "d", "parameters": {"type": "object"}}]
        return m.utils.count_tokens_approximately(msgs, chars_per_token=chars_per_token, count_name=count_name,
                                                  use_usage_metadata_scaling=scaling, tools=tools if scaling else None)

    same(scenario)


@FAST
@given(usages, usages)
def test_add_and_subtract_usage_as_langchain(a, b):
    same(lambda ai: [ai.add_usage(copy.deepcopy(a), copy.deepcopy(b)), ai.subtract_usage(copy.deepcopy(a), copy.deepcopy(b))],
         lc_ai, hc_ai)


def test_usage_with_bad_values_as_langchain():
    same(lambda ai: ai.add_usage({"input_tokens": 1, "output_tokens": "x", "total_tokens": 1},
                                 {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}), lc_ai, hc_ai)


def test_difference_trim_counter_annotated_as_a_string():
    # With ``from __future__ import annotations`` (as in this file) the
    # annotation is the string "BaseMessage": LangChain then passes the whole
    # list to a one-message counter.
    def per_message(message: BaseMessage) -> int:
        return len(message.content)

    msgs = [("human", "aaaa"), ("ai", "bbbb"), ("human", "cc")]
    with pytest.raises(AttributeError):
        lc.trim_messages(msgs, max_tokens=6, token_counter=per_message)
    assert [m.content for m in hc.trim_messages(msgs, max_tokens=6, token_counter=per_message)] == ["bbbb", "cc"]


BaseMessage = hc.BaseMessage  # the annotation above, resolved by name only


@pytest.mark.parametrize("call", [
    lambda m: m.AIMessage(content_blocks=[{"type": "text", "text": "a"}, {"type": "tool_call", "name": "f", "args": {}, "id": "1"}]),
    lambda m: m.AIMessage(content_blocks=[{"type": "tool_call", "name": "f", "args": {}, "id": "1"}], tool_calls=[]),
    lambda m: m.AIMessageChunk(content_blocks=[{"type": "tool_call", "name": "f", "args": {"a": 1}, "id": "1"}]),
    lambda m: m.HumanMessage("ignored", content_blocks=[{"type": "text", "text": "b"}]),
])
def test_content_blocks_argument_as_langchain(call):
    same(call)


@pytest.mark.filterwarnings("ignore:.*text")
def test_text_is_a_str_that_can_still_be_called_as_langchain():
    same(lambda m: [m.AIMessage("a").text(), m.HumanMessage(["b", {"type": "text", "text": "c"}]).text(),
                    isinstance(m.AIMessage("a").text, str), m.AIMessage("a").text == "a"])
    with pytest.warns(DeprecationWarning, match=r"message.text\(\) is deprecated"):
        hc.AIMessage("a").text()


@pytest.mark.parametrize("call", [
    lambda m: m.RemoveMessage(id="1"),
    lambda m: m.RemoveMessage("2", name="n"),
    lambda m: m.RemoveMessage(id="1", content="x"),
    lambda m: m.RemoveMessage(id="1", content=""),
    lambda m: m.messages_from_dict(m.messages_to_dict([m.RemoveMessage(id="1")])),
    lambda m: m.convert_to_messages([{"type": "remove", "id": "2", "content": ""}]),
    lambda m: m.convert_to_messages([{"lc": 1, "type": "constructor", "id": ["RemoveMessage"], "kwargs": {"id": "3", "content": ""}}]),
    lambda m: m.get_buffer_string([m.RemoveMessage(id="1")]),
])
def test_remove_message_as_langchain(call):
    same(call)


def test_a_subclass_keeps_its_own_init():
    class Note(hc.HumanMessage):
        def __init__(self, text: str, **kwargs) -> None:
            super().__init__(f"note: {text}", **kwargs)

    assert Note("x", id="1").content == "note: x"
    assert Note("x").type == "human"


def test_chunks_of_a_subclass_add_to_their_base_class():
    class Labelled(hc.AIMessageChunk):
        __slots__ = ()

    assert (hc.AIMessageChunk("a") + Labelled("b")).content == "ab"
    assert (Labelled("a") + hc.AIMessageChunk("b")).content == "ab"
