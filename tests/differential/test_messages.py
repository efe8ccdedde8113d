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

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BUILTIN_ERRORS = (NotImplementedError, KeyError, TypeError, ValueError)


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
scalars = st.none() | st.booleans() | st.integers(-2, 3) | st.sampled_from([0.5, 1.5]) | st.text("xy", max_size=2) | st.sampled_from(["lc_1", "lc_2"])
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
        chunks = [
            getattr(m, cls_name)(content=copy.deepcopy(c), additional_kwargs=copy.deepcopy(ak),
                                 response_metadata=copy.deepcopy(rm), id=i, **chunk_args(cls_name))
            for c, ak, rm, i in parts
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
        chunks = [getattr(m, cls_name)(content=copy.deepcopy(c), response_metadata=copy.deepcopy(rm), id=i)
                  for c, rm, i in parts]
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


def test_difference_chunk_sums_keep_the_name():
    # LangChain's sums drop ``name`` (it is not passed to the merged chunk).
    assert (lc.AIMessageChunk("a", name="bot") + lc.AIMessageChunk("b")).name is None
    assert (hc.AIMessageChunk("a", name="bot") + hc.AIMessageChunk("b")).name == "bot"
    assert (hc.HumanMessageChunk("a") + hc.HumanMessageChunk("b", name="ann")).name == "ann"


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
        "tool_calls": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["f", "g"]), "args": st.dictionaries(st.sampled_from("ab"), st.integers(0, 3), max_size=2), "id": st.sampled_from([None, "c1"])}), max_size=2),
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
    lambda m: m.HumanMessage([{"type": "text", "text": "a"}, "b", {"type": "image_url", "image_url": {"url": "u"}}, {"type": "text", "text": 3}]).text,
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
        chunks = [m.AIMessageChunk("", tool_call_chunks=[{"name": "f" if i == 0 else None, "args": p, "id": "c" if i == 0 else None, "index": 0}])
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
    {"tool_calls": [{"name": "f", "args": {"a": 1}, "id": "1"}], "invalid_tool_calls": [{"name": "g", "args": "{", "id": "2", "error": "e"}]},
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
