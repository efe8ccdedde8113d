"""Prompt templates: variables, errors, safety."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookchain.errors import PromptInputError, TemplateError
from hookchain.messages import AIMessage, HumanMessage, SystemMessage
from hookchain.prompts import ChatPromptTemplate, MessagesPlaceholder, PromptTemplate


def test_from_messages_and_variables():
    p = ChatPromptTemplate.from_messages([("system", "You are {role}."), MessagesPlaceholder("history"), ("human", "{q}")])
    assert p.input_variables == ["history", "q", "role"]
    value = p.invoke({"role": "terse", "history": [("ai", "hi")], "q": "why?"})
    assert value.to_messages() == [SystemMessage("You are terse."), AIMessage("hi"), HumanMessage("why?")]
    assert value.to_string() == "System: You are terse.\nAI: hi\nHuman: why?"


def test_missing_variables_are_all_named():
    p = ChatPromptTemplate.from_messages([("system", "{a}"), ("human", "{b} {c}")])
    with pytest.raises(PromptInputError) as info:
        p.invoke({"b": 1})
    assert info.value.missing == ["a", "c"]
    assert "'a', 'c'" in str(info.value) and isinstance(info.value, KeyError)


def test_single_variable_accepts_a_bare_value_and_partial():
    assert ChatPromptTemplate.from_template("hi {x}").invoke("bob").to_string() == "Human: hi bob"
    p = ChatPromptTemplate.from_template("{a}-{b}").partial(a="A")
    assert p.input_variables == ["b"] and p.invoke({"b": "B"}).to_string() == "Human: A-B"


@given(st.text(max_size=50))
def test_user_text_is_inserted_verbatim(value):
    assert PromptTemplate.from_template("<{x}>").format(x=value) == f"<{value}>"


@given(st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=40))
def test_templates_without_braces_are_literal(template):
    assert PromptTemplate.from_template(template).format() == template


@pytest.mark.parametrize("bad", ["{x.__class__}", "{x[0]}", "{0}", "{}", "{x!z}", "{", "}"])
def test_code_in_templates_is_rejected(bad):
    with pytest.raises(TemplateError):
        PromptTemplate.from_template(bad)


def test_escaped_braces():
    assert PromptTemplate.from_template("{{x}} {y}").format(y=1) == "{x} 1"
    assert PromptTemplate.from_template("{{x}} {y}").input_variables == ["y"]


def test_placeholder_errors():
    p = ChatPromptTemplate.from_messages([MessagesPlaceholder("h")])
    with pytest.raises(ValueError, match="must be a list of messages"):
        p.invoke({"h": "not a list"})
    assert ChatPromptTemplate.from_messages([("placeholder", "{h}")]).invoke({}).to_messages() == []
    with pytest.raises(TemplateError, match="unknown message role"):
        ChatPromptTemplate.from_messages([("robot", "x")])


def test_format_specs_work_within_the_width_limit():
    assert PromptTemplate.from_template("{x:>5}|{y:.2f}|{z:%Y}").format(x="a", y=1 / 3, z=__import__("datetime").date(2024, 1, 1)) == "    a|0.33|2024"
    assert len(PromptTemplate.from_template("{x:>10000}").format(x="a")) == 10_000


@pytest.mark.parametrize("bad", ["{x:>500000000}", "{x:0500000000}", "{x:.100000f}", "{x:_>10001}"])
def test_huge_format_widths_are_rejected_when_built(bad):
    # 17 characters must not allocate half a gigabyte.
    with pytest.raises(TemplateError, match=r"\{x:.*width or precision \d+ is over the limit of 10,000"):
        PromptTemplate.from_template(bad)
    with pytest.raises(TemplateError, match="over the limit"):
        ChatPromptTemplate.from_messages([("human", bad)])


def test_nested_fields_in_format_specs_are_rejected():
    with pytest.raises(TemplateError, match=r"\{x:\{w\}\}.*nested fields"):
        PromptTemplate.from_template("{x:{w}}")
