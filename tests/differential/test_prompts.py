"""Prompt templates: the same scenario on langchain_core.prompts and
hookchain.prompts, outputs compared (``norm``), and errors compared by the
builtin class LangChain raises (hookchain's own errors derive from it)."""

from __future__ import annotations

import asyncio
import types

import langchain_core.messages as lc_messages
import langchain_core.prompts as lc_prompts
import pytest

import hookchain.messages as hc_messages
import hookchain.prompts as hc_prompts

from .harness import events, norm
from .harness import LC as LC_FW
from .harness import HC as HC_FW

def _namespace(name, prompts, messages, fw):
    names = {k: getattr(messages, k) for k in ("AIMessage", "HumanMessage", "SystemMessage", "ChatMessage", "ToolMessage")}
    return types.SimpleNamespace(name=name, fw=fw, **names, **{k: getattr(prompts, k) for k in prompts.__all__})


LC = _namespace("langchain", lc_prompts, lc_messages, LC_FW)
HC = _namespace("hookchain", hc_prompts, hc_messages, HC_FW)

_BUILTIN = (KeyError, TypeError, ValueError, NotImplementedError, ImportError)


def outcome(call):
    """``call()``'s normalised result, or ``("raised", builtin class name)``."""
    try:
        result = call()
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        return norm(result)
    except Exception as e:  # noqa: BLE001
        return ("raised", next((c.__name__ for c in type(e).__mro__ if c in _BUILTIN), type(e).__name__))


def both(scenario):
    return scenario(LC), scenario(HC)


def same(scenario):
    lc, hc = both(scenario)
    assert lc == hc
    return hc


# --------------------------------------------------------------------------- #
# template_format
# --------------------------------------------------------------------------- #

F_STRINGS = [
    ("{x}", {"x": "a"}), ("{x:>6}|{y:.2f}", {"x": "a", "y": 1 / 3}), ("{x!r} {x!s}", {"x": "q"}),
    ("{{x}} {y}", {"y": 1}), ("{my-var}", {"my-var": 2}), ("{a}{b}{a}", {"a": 1, "b": [1, 2]}),
    ("{x.attr}", {}), ("{x[0]}", {}), ("{0}", {}), ("{x:{w}}", {}), ("{", {}), ("{x}", {}),
]




MUSTACHE = [
    ("Hi {{name}}!", {"name": "Ann"}),
    ("{{#people}}<{{name}}:{{age}}>{{/people}}", {"people": [{"name": "a", "age": 1}, {"name": "b", "age": 2}]}),
    ("{{^empty}}none{{/empty}}{{#empty}}some{{/empty}}", {"empty": []}),
    ("{{user.name}} {{user.missing}}", {"user": {"name": "U"}}),
    ("{{x}} {{{x}}} {{&x}}", {"x": "<a href=\"x\">&'</a>"}),
    ("[{{missing}}]", {}),
    ("{{n}} {{f}} {{t}} {{z}}", {"n": None, "f": 1.5, "t": True, "z": 0}),
    ("{{#flag}}yes{{/flag}}{{^flag}}no{{/flag}}", {"flag": False}),
    ("{{#items}}{{.}},{{/items}}", {"items": ["a", "b"]}),
    ("{{#obj}}{{name}}{{/obj}}", {"obj": {"name": "inner"}}),
    ("{{! a comment }}text{{>partial}}", {}),
    ("{{=<% %>=}}<% x %>", {"x": "delims"}),
    ("{{#a}}{{b}}{{/a}} {{c}}", {"a": {"b": 1}, "c": 2}),
    ("{{items.0}}-{{items.1.name}}-{{items.9}}-{{items.append}}-{{items}}", {"items": ["a", {"name": "n"}]}),
    ("{{#rows}}{{0}}{{1}};{{/rows}}{{#t}}{{.}}{{/t}}", {"rows": [["x", "y"], ["z"]], "t": ("p", "q")}),
]




def test_mustache_in_chat_templates():
    def scenario(fw):
        p = fw.ChatPromptTemplate.from_messages(
            [("system", "You are {{role}}."), ("human", "{{#qs}}{{q}}? {{/qs}}")], template_format="mustache",
        )
        return p.input_variables, norm(p.invoke({"role": "terse", "qs": [{"q": "why"}, {"q": "how"}]}))

    assert same(scenario)[1] == ("ChatPromptValue", [("SystemMessage", "You are terse."), ("HumanMessage", "why? how? ")])


class Secretive:
    def __init__(self):
        self.calls = 0

    def reveal(self):
        self.calls += 1
        return "SECRET"

    def __str__(self):
        return "Secretive()"


def test_mustache_reads_no_attribute_and_calls_nothing():
    # LangChain refuses to traverse into objects too; hookchain hands the
    # renderer plain data only, so no attribute is read and nothing is called.
    obj = Secretive()
    template = "{{obj.reveal}}|{{obj}}|{{#obj}}{{reveal}}{{/obj}}|{{s.upper}}"
    lc, hc = both(lambda fw: fw.PromptTemplate.from_template(template, template_format="mustache").format(obj=obj, s="abc"))
    assert hc == "|Secretive()||" and obj.calls == 0
    assert lc.split("|")[0::3] == hc.split("|")[0::3]


def test_mustache_lambdas_are_not_called():
    # A difference (README table): LangChain calls a callable section value
    # (mustache "lambdas"); hookchain renders plain data only.
    seen = []

    def shout(text, render):
        seen.append(text)
        return render(text).upper()

    lc, hc = both(lambda fw: fw.PromptTemplate.from_template("{{#f}}hi {{x}}{{/f}}", template_format="mustache").format(f=shout, x="you"))
    assert lc == "HI YOU" and hc == "hi you"
    assert len(seen) == 1  # LangChain's call only


JINJA2 = [
    ("Hello {{ name }}!", {"name": "Ann"}),
    ("{% for i in items %}{{ i|upper }},{% endfor %}", {"items": ["a", "b"]}),
    ("{{ missing }}|{% if flag %}y{% else %}n{% endif %}", {"flag": False}),
    ("{% set x = 3 %}{{ x * y }}", {"y": 2}),
    ("{{ s.__class__ }}", {"s": "str"}),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", {}),
    ("{% for %}", {}),
]


@pytest.mark.parametrize("template_format,template,values", [
    *(("f-string", *case) for case in F_STRINGS), *(("mustache", *case) for case in MUSTACHE),
    *(("jinja2", *case) for case in JINJA2),  # jinja2 in a sandbox: private attributes refused
])
def test_template_formats(template_format, template, values):
    same(lambda fw: (
        outcome(lambda: fw.PromptTemplate.from_template(template, template_format=template_format).input_variables),
        outcome(lambda: fw.PromptTemplate.from_template(template, template_format=template_format).format(**values)),
    ))


def test_jinja2_sandbox_blocks_private_attributes():
    from jinja2.exceptions import SecurityError

    p = hc_prompts.PromptTemplate.from_template("{{ f.__globals__ }}", template_format="jinja2")
    assert p.format(f=test_jinja2_sandbox_blocks_private_attributes) == ""
    with pytest.raises(SecurityError):
        hc_prompts.PromptTemplate.from_template("{{ f.__call__() }}", template_format="jinja2").format(f=print)


def test_jinja2_missing_is_a_clear_import_error(monkeypatch):
    from hookchain.prompts import string as templates

    monkeypatch.setitem(__import__("sys").modules, "jinja2", None)
    templates.compile_template.cache_clear()
    templates._jinja2_env.cache_clear()
    try:
        with pytest.raises(ImportError, match=r"template_format='jinja2' needs jinja2, which is not installed: pip install 'hookchain\[jinja2\]'"):
            hc_prompts.PromptTemplate.from_template("{{ x }}", template_format="jinja2")
    finally:
        templates.compile_template.cache_clear()
        templates._jinja2_env.cache_clear()


def test_unknown_template_format():
    same(lambda fw: outcome(lambda: fw.PromptTemplate.from_template("{x}", template_format="fstring")))


def test_huge_format_width_is_a_difference():
    # README table: LangChain builds it (and formatting allocates the width); hookchain refuses.
    lc, hc = both(lambda fw: outcome(lambda: fw.PromptTemplate.from_template("{x:>20000}").input_variables))
    assert lc == ["x"] and hc == ("raised", "ValueError")


# --------------------------------------------------------------------------- #
# ChatPromptTemplate.from_messages: every entry form
# --------------------------------------------------------------------------- #

def _entries(fw):
    return [
        ("system", "You are {role}."),
        ("user", "u {a}"), ("assistant", "a {a}"), ("human", "h"), ("ai", "ai"),
        (fw.SystemMessage, "sys class {b}"), (fw.HumanMessage, "human class"), (fw.AIMessage, "ai class {b}"),
        (fw.HumanMessagePromptTemplate, "template class {c}"),
        {"role": "user", "content": "dict {c}"}, {"role": "system", "content": "dict system"},
        fw.HumanMessage(content="a literal {message}"),
        fw.AIMessage(content="literal ai"),
        fw.SystemMessagePromptTemplate.from_template("msg template {d}"),
        fw.ChatMessagePromptTemplate.from_template("custom {d}", role="critic"),
        fw.MessagesPlaceholder("history"),
        fw.MessagesPlaceholder("extra", optional=True),
        ("placeholder", "{more}"),
        ("placeholder", ["{required}", False]),
        "bare string {e}",
    ]


def test_from_messages_takes_every_form():
    def scenario(fw):
        p = fw.ChatPromptTemplate.from_messages(_entries(fw))
        values = {"role": "R", "a": "A", "b": "B", "c": "C", "d": "D", "e": "E",
                  "history": [("human", "old q"), fw.AIMessage(content="old a")], "required": [{"role": "user", "content": "req"}]}
        return (p.input_variables, p.optional_variables, norm(p.partial_variables), len(p),
                norm(p.invoke(values)), norm(p.invoke({**values, "more": ["m1"], "extra": [("system", "x")]}).to_messages()))

    hc = same(scenario)
    assert hc[0] == ["a", "b", "c", "d", "e", "history", "required", "role"] and hc[1] == ["extra", "more"]


def test_nested_chat_template_is_an_entry():
    def scenario(fw):
        inner = fw.ChatPromptTemplate.from_messages([("system", "inner {x}")])
        p = fw.ChatPromptTemplate.from_messages([inner, ("human", "{y}")])
        return p.input_variables, norm(p.format_messages(x=1, y=2))

    same(scenario)


@pytest.mark.parametrize("entry", [
    ("robot", "x"), ("human",), ("human", "a", "b"), {"role": "user"}, {"role": "user", "content": "x", "name": "n"},
    ("placeholder", "history"), ("placeholder", ["{h}", "yes"]), 42,
])
def test_from_messages_rejects(entry):
    lc, hc = both(lambda fw: outcome(lambda: fw.ChatPromptTemplate.from_messages([entry])))
    assert lc[0] == "raised" and hc[0] == "raised"
    assert lc == hc or (lc[1], hc[1]) in {("NotImplementedError", "ValueError")}


def _multipart(fw):
    return fw.ChatPromptTemplate.from_messages([
        ("system", "Describe images."),
        ("human", [
            {"type": "text", "text": "What is in {place}?"},
            {"type": "image_url", "image_url": "{image}"},
            {"type": "image_url", "image_url": {"url": "https://x/{name}.png", "detail": "{level}"}},
            "plain {place}",
            {"type": "text", "text": "{empty}"},
            {"type": "file", "source_type": "url", "url": "https://f/{name}.pdf", "meta": {"tags": ["{place}", 3]}},
        ]),
    ])


def test_multipart_templates_fill_every_part():
    def scenario(fw):
        p = _multipart(fw)
        values = {"place": "Paris", "image": "data:image/png;base64,AAA", "name": "eiffel", "level": "high", "empty": ""}
        msgs = p.format_messages(**values)
        return sorted(p.input_variables), norm(msgs), outcome(lambda: p.format_messages(place="x"))

    hc = same(scenario)
    assert hc[1][1][1][1] == {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAA"}}


def test_multipart_message_templates_directly():
    def scenario(fw):
        t = fw.HumanMessagePromptTemplate.from_template([{"type": "text", "text": "hi {x}"}, {"type": "image_url", "image_url": "{u}"}])
        return (t.input_variables, norm(t.format(x=1, u="http://i")), norm(t.format_messages(x=2, u="http://j")),
                outcome(lambda: fw.HumanMessagePromptTemplate.from_template(["{x}"], partial_variables={"x": 1})),
                outcome(lambda: fw.HumanMessagePromptTemplate.from_template([{"type": "image_url", "image_url": "{a}{b}"}])))

    same(scenario)


# --------------------------------------------------------------------------- #
# Arguments, partials, files, examples, async, placeholders, message templates
# --------------------------------------------------------------------------- #

def test_prompt_template_constructor_arguments():
    def scenario(fw):
        p = fw.PromptTemplate(template="{a} and {b}", input_variables=["ignored"])
        v = fw.PromptTemplate(template="{a} and {b}", input_variables=["a", "b"], validate_template=True)
        return (p.input_variables, v.input_variables, v.format(a=1, b=2),
                outcome(lambda: fw.PromptTemplate(template="{a} {c}", input_variables=["a"], validate_template=True)),
                outcome(lambda: fw.PromptTemplate(template="{a}", validate_template=True)),
                outcome(lambda: fw.PromptTemplate(template="{{a}}", template_format="mustache", input_variables=["a"], validate_template=True)),
                outcome(lambda: fw.PromptTemplate(template="{stop}")),
                fw.PromptTemplate(template="{a}", partial_variables={"a": 1}).input_variables)

    same(scenario)


def test_partial_variables_values_and_callables():
    def scenario(fw):
        calls = []

        def today():
            calls.append(1)
            return "Monday"

        p = fw.PromptTemplate.from_template("{greeting}, it is {day}; {x}", partial_variables={"greeting": "Hi"})
        q = p.partial(day=today)
        c = fw.ChatPromptTemplate([("system", "{greeting} {day}"), ("human", "{x}")],
                                  partial_variables={"greeting": "Yo"}).partial(day=today)
        c2 = fw.ChatPromptTemplate.from_messages([("system", "{a}"), ("human", "{x}")]).partial(a="A")
        return (p.input_variables, q.input_variables, q.format(x=1), q.invoke({"x": 2}).to_string(), len(calls),
                c.input_variables, norm(c.invoke("only x")), norm(c2.format_messages(x=3)), sorted(c2.input_variables),
                sorted(c.partial_variables), len(calls))

    same(scenario)


def test_validate_template_on_chat_templates():
    def scenario(fw):
        msgs = [("system", "{a}"), ("human", "{b}"), ("placeholder", "{h}")]
        ok = fw.ChatPromptTemplate(msgs, input_variables=["a", "b"], validate_template=True)
        return (ok.input_variables, ok.optional_variables,
                outcome(lambda: fw.ChatPromptTemplate(msgs, input_variables=["a"], validate_template=True)),
                fw.ChatPromptTemplate(msgs, input_variables=["zzz"]).input_variables)

    same(scenario)


def test_from_file_from_template_file_from_examples(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("Tell me about {topic}, ünïcode", encoding="utf-8")

    def scenario(fw):
        p = fw.PromptTemplate.from_file(path, encoding="utf-8")
        m = fw.SystemMessagePromptTemplate.from_template_file(path, input_variables=["topic"])
        h = fw.ChatMessagePromptTemplate.from_template_file(path, role="narrator")
        e = fw.PromptTemplate.from_examples(["Q: 1+1 A: 2", "Q: 2+2 A: 4"], "Q: {q} A:", ["q"], prefix="Add.")
        e2 = fw.PromptTemplate.from_examples(["x"], "{q}", ["q"], example_separator=" | ")
        return (p.input_variables, p.format(topic="owls"), norm(m.format(topic="bats")), norm(h.format(topic="cats")),
                h.role, e.input_variables, e.format(q="3+3"), e2.format(q="y"))

    same(scenario)


def test_async_formatting():
    async def scenario(fw):
        c = fw.ChatPromptTemplate.from_messages([("system", "{a}"), fw.MessagesPlaceholder("h"), ("human", "{b}")])
        s = fw.PromptTemplate.from_template("{a}!")
        m = fw.HumanMessagePromptTemplate.from_template("m {a}")
        return (norm(await c.aformat_messages(a=1, b=2, h=[("ai", "x")])), norm(await c.aformat_prompt(a=1, b=2, h=[])),
                await c.aformat(a=1, b=2, h=[]), norm(await c.ainvoke({"a": 1, "b": 2, "h": []})),
                await s.aformat(a=3), norm(await s.aformat_prompt(a=4)), norm(await s.ainvoke({"a": 5})),
                norm(await m.aformat(a=6)), norm(await m.aformat_messages(a=7)))

    lc, hc = both(lambda fw: asyncio.run(scenario(fw)))
    assert lc == hc


def test_messages_placeholder_options():
    def scenario(fw):
        history = [("human", f"q{i}") for i in range(5)]
        p = fw.ChatPromptTemplate.from_messages([fw.MessagesPlaceholder("h", n_messages=2), ("human", "{x}")])
        o = fw.ChatPromptTemplate.from_messages([fw.MessagesPlaceholder("h", optional=True), ("human", "{x}")])
        ph = fw.MessagesPlaceholder("h", optional=True)
        return (norm(p.format_messages(h=history, x=1)), p.input_variables,
                o.input_variables, o.optional_variables, norm(o.partial_variables), norm(o.format_messages(x=2)),
                ph.input_variables, fw.MessagesPlaceholder("h").input_variables, norm(ph.format_messages()),
                outcome(lambda: p.format_messages(h="not a list", x=1)),
                outcome(lambda: p.format_messages(h=("human", "tuple"), x=1)),
                outcome(lambda: p.format_messages(x=1)),
                outcome(lambda: fw.MessagesPlaceholder("h", n_messages=0)),
                norm(fw.MessagesPlaceholder(variable_name="v").format_messages(v=[{"role": "user", "content": "d"}])))

    same(scenario)


def test_message_templates_format():
    def scenario(fw):
        s = fw.SystemMessagePromptTemplate.from_template("Be {style}", additional_kwargs={"k": 1})
        h = fw.HumanMessagePromptTemplate.from_template("{q}", partial_variables={"q": "default"})
        a = fw.AIMessagePromptTemplate.from_template("{{x}}", template_format="mustache")
        c = fw.ChatMessagePromptTemplate.from_template("{t}", role="critic")
        p = fw.HumanMessagePromptTemplate(prompt=fw.PromptTemplate.from_template("{z}"))
        msg = s.format(style="brief")
        return (norm(msg), msg.additional_kwargs, s.input_variables, norm(s.format_messages(style="x")),
                h.input_variables, norm(h.format()), norm(h.format(q="given")), norm(a.format(x="mu")),
                norm(c.format(t="bad")), c.format(t="bad").role, norm(p.format(z=1)),
                outcome(lambda: s.format()))

    same(scenario)


def test_prompt_template_operations():
    def scenario(fw):
        a = fw.PromptTemplate.from_template("{x} ")
        b = fw.PromptTemplate.from_template("and {y}", partial_variables={"y": "Y"})
        m = fw.PromptTemplate.from_template("{{z}}", template_format="mustache")
        return ((a + b).template, (a + b).input_variables, (a + b).format(x=1), (a + "tail {t}").input_variables,
                outcome(lambda: a + m), outcome(lambda: b + b), outcome(lambda: a + 3),
                a.format_prompt(x=2).to_string(), norm(a.format_prompt(x=2).to_messages()),
                norm(a.invoke("bare")), outcome(lambda: (a + b + "{t}").invoke("bare")),
                outcome(lambda: a.invoke({})), a.get_name(), a == fw.PromptTemplate.from_template("{x} "), a == b)

    same(scenario)


def test_unknown_constructor_argument_is_a_difference():
    # README table: LangChain ignores it silently; hookchain names it.
    lc, hc = both(lambda fw: outcome(lambda: fw.PromptTemplate(template="{a}", partial_variable={"a": 1}).input_variables))
    assert lc == ["a"] and hc == ("raised", "TypeError")


def test_prompt_runs_fire_the_same_events():
    def scenario(fw):
        h = fw.fw.Recorder()
        fw.PromptTemplate.from_template("{x}", metadata={"m": 1}, tags=["t"]).invoke({"x": 1}, config={"callbacks": [h], "tags": ["c"]})
        fw.ChatPromptTemplate.from_messages([("human", "{x}")]).invoke({"x": 1}, config={"callbacks": [h], "run_name": "named"})
        try:
            fw.ChatPromptTemplate.from_messages([("human", "{x}")]).invoke({}, config={"callbacks": [h]})
        except KeyError:
            pass
        asyncio.run(fw.ChatPromptTemplate.from_messages([("human", "{x}")]).ainvoke({"x": 2}, config={"callbacks": [h]}))
        return [e[:6] for e in events(fw.fw, h.log)]

    same(scenario)


# --------------------------------------------------------------------------- #
# Composition, containers, equality
# --------------------------------------------------------------------------- #

def test_chat_template_addition():
    def scenario(fw):
        base = fw.ChatPromptTemplate.from_messages([("system", "{a}")]).partial(a="A")
        other = fw.ChatPromptTemplate.from_messages([("human", "{b}")]).partial(b="B")
        results = []
        for right in (other, fw.AIMessage(content="ai"), fw.HumanMessagePromptTemplate.from_template("{c}"),
                      [("human", "{d}"), ("ai", "x")], ("human", "{d}"), "str {e}", fw.MessagesPlaceholder("h")):
            total = base + right
            results.append((type(total).__name__, len(total), total.input_variables, sorted(total.partial_variables)))
        msg_plus = fw.SystemMessage(content="s") + "then {q}"
        tmpl_plus = fw.SystemMessagePromptTemplate.from_template("{s}") + fw.HumanMessage(content="h")
        return (results, norm((base + other).format_messages()), outcome(lambda: base + 3),
                type(msg_plus).__name__, msg_plus.input_variables, norm(msg_plus.format_messages(q=1)),
                type(tmpl_plus).__name__, norm(tmpl_plus.format_messages(s=2)))

    same(scenario)


def test_chat_template_as_a_container():
    def scenario(fw):
        p = fw.ChatPromptTemplate.from_messages([("system", "{a}"), ("human", "{b}"), fw.AIMessage(content="c")]).partial(a="A")
        first, last = p[0], p[-1]
        sliced = p[1:]
        stepped = p[::2]
        p.append(("human", "{d}"))
        p.extend([fw.HumanMessage(content="e"), ("placeholder", "{h}")])
        return (type(first).__name__, norm(first.format_messages(a=1)), norm(last), type(sliced).__name__, len(sliced),
                sliced.input_variables, sorted(sliced.partial_variables), len(stepped), stepped.input_variables, len(p),
                norm(p.format_messages(b=1, d=2)), outcome(lambda: p[10]))

    same(scenario)


def test_appended_variables_are_input_variables():
    # README table: LangChain leaves input_variables stale after append/extend
    # (and invoke then fails inside formatting); hookchain updates them.
    def scenario(fw):
        p = fw.ChatPromptTemplate.from_messages([("human", "{a}")])
        p.append(("human", "{new}"))
        return p.input_variables, outcome(lambda: p.invoke({"a": 1}))

    lc, hc = both(scenario)
    assert lc == (["a"], ("raised", "KeyError")) and hc == (["a", "new"], ("raised", "KeyError"))


def test_value_equality():
    def scenario(fw):
        def make():
            return fw.ChatPromptTemplate.from_messages([("system", "{a}"), fw.MessagesPlaceholder("h"), ("human", "{b}")])

        return (make() == make(), make() == make().partial(a=1), make()[0] == make()[0], make()[0] == make()[2],
                fw.MessagesPlaceholder("h") == fw.MessagesPlaceholder("h"), fw.MessagesPlaceholder("h") == fw.MessagesPlaceholder("h", optional=True),
                fw.PromptTemplate.from_template("{x}") == fw.PromptTemplate.from_template("{x}"),
                fw.PromptTemplate.from_template("{x}") == fw.PromptTemplate.from_template("{x}", template_format="jinja2"),
                fw.ChatPromptTemplate.from_template("{x}") == fw.ChatPromptTemplate.from_messages([("human", "{x}")]),
                make() == "not a template")

    assert same(scenario) == (True, False, True, False, True, False, True, False, True, False)


def test_pretty_repr_and_print(capsys):
    def scenario(fw):
        p = fw.ChatPromptTemplate.from_messages([
            ("system", "Be {style}."), fw.MessagesPlaceholder("h"), ("human", [{"type": "text", "text": "{q}"}, "and {r}"]),
            fw.AIMessage(content="ok"), fw.ChatMessagePromptTemplate.from_template("{x}", role="critic"),
            ("human", "{{literal}} {y}"),
        ])
        p.pretty_print()
        s = fw.PromptTemplate.from_template("a {b} {c}", partial_variables={"c": "C"})
        return p.pretty_repr(), s.pretty_repr(), capsys.readouterr().out

    same(scenario)


def test_jinja2_chat_templates_and_module_functions():
    def scenario(fw):
        p = fw.ChatPromptTemplate.from_messages([("system", "{% if terse %}Be brief.{% endif %}"), ("human", "{{ q|title }}")],
                                                template_format="jinja2")
        d = fw.DictPromptTemplate(template={"type": "text", "text": "{a}", "meta": ["{b}", 1]}, template_format="f-string")
        return (p.input_variables, norm(p.format_messages(terse=True, q="why now")),
                fw.get_template_variables("{b} {a} {b}", "f-string"), fw.get_template_variables("{{b}} {{#s}}{{x}}{{/s}}", "mustache"),
                outcome(lambda: fw.get_template_variables("{a}", "other")),
                outcome(lambda: fw.check_valid_template("{a} {b}", "f-string", ["a"])),
                outcome(lambda: fw.check_valid_template("{a}", "f-string", ["a", "extra"])),
                fw.jinja2_formatter("{{ x }}!", x=1), sorted(d.input_variables), d.format(a="A", b="B"))

    same(scenario)


def test_image_templates_take_urls_only():
    # LangChain fails here with an AttributeError from inside pydantic; hookchain says what is wrong.
    with pytest.raises(ValueError, match="images are given by 'url' only"):
        hc_prompts.ImagePromptTemplate(template={"path": "/etc/passwd"}).format()
    with pytest.raises(ValueError, match="formatted to no url"):
        hc_prompts.ImagePromptTemplate(template={"url": "{u}"}).format(u="")
