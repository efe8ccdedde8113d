"""``Runnable.get_graph()`` against langchain-core 1.7.2: nodes, edges and
``draw_mermaid()`` text of single runnables and compositions, and
``draw_ascii()`` (laid out by grandalf; skipped when it is not installed)."""

from __future__ import annotations

import importlib.util

import langchain_core.language_models.fake_chat_models as lc_fakes
import langchain_core.output_parsers as lc_parsers
import langchain_core.runnables as lc_runnables
import langchain_core.tools as lc_tools
import pytest

import hookchain.language_models.fake_chat_models as hc_fakes
import hookchain.output_parsers as hc_parsers
import hookchain.runnables as hc_runnables
import hookchain.tools as hc_tools

from .harness import HC, LC, both

HAS_GRANDALF = importlib.util.find_spec("grandalf") is not None


def named(x):
    return x


def _mods(fw):
    if fw is LC:
        return lc_runnables, lc_fakes, lc_parsers, lc_tools
    return hc_runnables, hc_fakes, hc_parsers, hc_tools


def _chains(fw):
    r, fakes, parsers, tools = _mods(fw)
    model = fakes.FakeListChatModel(responses=["a"])

    @tools.tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    return {
        "prompt_model_parser": fw.PromptTemplate.from_template("Hi {x}") | model | parsers.StrOutputParser(),
        "parallel_then_lambda": fw.RunnableParallel(a=fw.RunnableLambda(lambda x: x), b=fw.RunnablePassthrough())
        | fw.RunnableLambda(lambda x: x),
        "named_lambda": fw.RunnableLambda(named),
        "chat_prompt_dict_assign": fw.ChatPromptTemplate.from_messages([("human", "{q}")])
        | {"x": model, "y": model | parsers.StrOutputParser()} | fw.RunnablePassthrough.assign(z=named),
        "binding": model.bind(stop=["x"]).with_config(metadata={"k": 1, "l": [1, 2]}),
        "tool": add,
        "alternatives": model.configurable_alternatives(
            r.ConfigurableField(id="llm"), other=fw.PromptTemplate.from_template("{x}") | model),
        "dict_passthrough_parser": {"a": named, "b": fw.RunnablePassthrough()} | parsers.StrOutputParser(),
        "configured_fields": fw.PromptTemplate.from_template("{x}") | model.configurable_fields(
            responses=r.ConfigurableField(id="r")),
    }


def _shape(graph):
    """Node names and edges as (source name, target name), ids left out."""
    names = {k: n.name for k, n in graph.nodes.items()}
    return [n.name for n in graph.nodes.values()], [(names[e.source], names[e.target], e.conditional) for e in graph.edges]


@pytest.mark.parametrize("key", list(_chains(HC)))
def test_graph_and_mermaid_as_langchain(key):
    def scenario(fw):
        chain = _chains(fw)[key]
        return (
            _shape(chain.get_graph()),
            chain.get_graph().draw_mermaid(),
            chain.get_graph({"configurable": {"llm": "other"}}).draw_mermaid(with_styles=False),
            chain.get_graph({"metadata": {"a": "b", "skip": {"x": 1}}}).draw_mermaid(curve_style=_curve(fw)),
        )

    lc, hc = both(scenario)
    assert lc == hc


def _graph_module(fw):
    if fw is LC:
        import langchain_core.runnables.graph as module
    else:
        import hookchain.runnables.graph as module
    return module


def _curve(fw):
    return _graph_module(fw).CurveStyle.BASIS


def test_simple_sequence_mermaid_text():
    text = _chains(HC)["prompt_model_parser"].get_graph().draw_mermaid()
    assert text.splitlines()[5:11] == [
        "graph TD;",
        "\tPromptInput([PromptInput]):::first",
        "\tPromptTemplate(PromptTemplate)",
        "\tFakeListChatModel(FakeListChatModel)",
        "\tStrOutputParser(StrOutputParser)",
        "\tStrOutputParserOutput([StrOutputParserOutput]):::last",
    ]


def test_graph_api():
    def scenario(fw):
        graph_mod = _graph_module(fw)
        g = graph_mod.Graph()
        a = g.add_node(fw.RunnableLambda(named))
        b = g.add_node(None, id="b")
        g.add_edge(a, b, data="a label with more than three words in it", conditional=True)
        errors = []
        for call in (lambda: g.add_node(None, id="b"), lambda: g.add_edge(a, graph_mod.Node("zz", "zz", None, None))):
            try:
                call()
            except ValueError as e:
                errors.append(str(e))
        first, last = g.first_node(), g.last_node()
        return (first.name, last.name, errors, g.draw_mermaid(wrap_label_n_words=3), bool(graph_mod.Graph()),
                sorted(g.reid().nodes))

    lc, hc = both(scenario)
    assert lc == hc


@pytest.mark.skipif(not HAS_GRANDALF, reason="grandalf not installed (pip install 'hookchain[graph]')")
@pytest.mark.parametrize("key", list(_chains(HC)))
def test_draw_ascii_as_langchain(key):
    lc, hc = both(lambda fw: _chains(fw)[key].get_graph().draw_ascii())
    assert lc == hc


def test_draw_ascii_without_grandalf_names_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_grandalf(name, *args, **kwargs):
        if name.startswith("grandalf"):
            raise ImportError("No module named 'grandalf'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_grandalf)
    with pytest.raises(ImportError, match=r"pip install 'hookchain\[graph\]'"):
        _chains(HC)["named_lambda"].get_graph().draw_ascii()
