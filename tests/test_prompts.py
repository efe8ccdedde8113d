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


# -- clear errors for bad templates and arguments ------------------------------ #

@pytest.mark.parametrize("entry,message", [
    (("robot", "x"), "unknown message role 'robot'; use one of: human, user, ai, assistant, system, placeholder"),
    ({"role": "user"}, "a message dict must have exactly the keys 'role' and 'content', got ['role']"),
    (("placeholder", "history"), "a placeholder must be a variable name in braces, like '{history}', got 'history'"),
    (("placeholder", ["{h}", "yes"]), "a placeholder's optional flag must be a bool, got 'yes'"),
    (42, "cannot use 42 in a ChatPromptTemplate; pass a str, a (role, template) tuple"),
    (("human", [{"type": "image_url", "image_url": "{a}{b}"}]), "an image url template may use one variable, got ['a', 'b']"),
])
def test_bad_entries_are_named(entry, message):
    with pytest.raises(TemplateError) as info:
        ChatPromptTemplate.from_messages([entry])
    assert message in str(info.value)


def test_unknown_arguments_are_named():
    with pytest.raises(TypeError, match=r"PromptTemplate got unknown argument\(s\) \['partial_variable'\]; allowed: .*partial_variables"):
        PromptTemplate("{a}", partial_variable={"a": 1})
    with pytest.raises(TypeError, match=r"ChatPromptTemplate got unknown argument\(s\) \['partials'\]"):
        ChatPromptTemplate([("human", "{a}")], partials={})


def test_validation_errors_name_the_variables():
    with pytest.raises(TemplateError, match=r"uses variable\(s\) \['c'\] that are not in input_variables \['a'\]"):
        PromptTemplate("{a} {c}", input_variables=["a"], validate_template=True)
    with pytest.raises(TemplateError, match=r"input_variables \['a'\] do not match the variables the messages use \['a', 'b'\]"):
        ChatPromptTemplate([("system", "{a}"), ("human", "{b}")], input_variables=["a"], validate_template=True)
    with pytest.raises(TemplateError, match="needs input_variables"):
        PromptTemplate("{a}", validate_template=True)
    with pytest.raises(TemplateError, match="a variable cannot be named 'stop'"):
        PromptTemplate("{stop}")
    with pytest.raises(TemplateError, match="unknown template_format 'fstring'; use one of: f-string, mustache, jinja2"):
        PromptTemplate("{a}", template_format="fstring")


def test_missing_variables_are_named_in_every_part():
    with pytest.raises(PromptInputError, match=r"missing variable\(s\) 'a', 'b'"):
        PromptTemplate("{a} {b}").format()
    multipart = ChatPromptTemplate.from_messages([("human", [{"type": "text", "text": "{a}"}, {"type": "image_url", "image_url": "{img}"}])])
    with pytest.raises(PromptInputError, match=r"missing variable\(s\) 'a', 'img'"):
        multipart.invoke({})
    with pytest.raises(PromptInputError, match=r"missing variable\(s\) 'img'"):
        multipart.messages[0].format(a=1)


def test_mustache_values_are_plain_data():
    class Item:
        def __init__(self):
            self.touched = False

        def __getattr__(self, name):
            self.touched = True
            raise AttributeError(name)

        def __str__(self):
            return "item"

    item = Item()
    p = PromptTemplate("{{x}} {{x.anything}} {{#x}}[{{anything}}]{{/x}}", template_format="mustache")
    assert p.format(x=item) == "item  []" and not item.touched
    assert p.input_variables == ["x"]


def test_jinja2_and_mustache_templates_compile_once():
    from hookchain.prompts.string import compile_template

    assert compile_template("{{ a }}", "jinja2") is compile_template("{{ a }}", "jinja2")
    assert PromptTemplate("{{a}}", template_format="mustache")._compiled is PromptTemplate("{{a}}", template_format="mustache")._compiled


def test_partial_callables_are_called_at_each_format():
    counter = iter(range(100))
    p = PromptTemplate("{n} {x}").partial(n=lambda: next(counter))
    assert [p.format(x="a"), p.format(x="b")] == ["0 a", "1 b"]
    assert p.input_variables == ["x"]


def test_optional_placeholder_may_be_left_out():
    p = ChatPromptTemplate.from_messages([MessagesPlaceholder("h", optional=True), ("human", "{q}")])
    assert p.invoke("bare value").to_messages() == [HumanMessage("bare value")]
    assert p.invoke({"q": "x", "h": [AIMessage("a")]}).to_messages() == [AIMessage("a"), HumanMessage("x")]
