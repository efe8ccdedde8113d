"""``Runnable[Input, Output]`` is generic, ``RunnableSerializable`` is a pydantic
runnable, and ``InputType``/``OutputType`` answer as LangChain's (issue 12)."""

from __future__ import annotations

import langchain_core.runnables as lc_runnables

import hookchain.runnables as hc_runnables

from .harness import LC, both


def _serializable(fw):
    return (lc_runnables if fw is LC else hc_runnables).RunnableSerializable


def test_generic_subclass_and_annotations():
    def scenario(fw):
        class Length(fw.Runnable[str, int]):
            def invoke(self, input, config=None, **kwargs):
                return len(input)

        def shout(text: str) -> str:
            return text.upper()

        annotated: fw.Runnable[dict, fw.AIMessage] = fw.RunnableLambda(lambda d: fw.AIMessage(d["x"]))
        chain = fw.RunnableLambda(shout) | Length()
        return [
            Length().invoke("abc"), Length().InputType, Length().OutputType,
            fw.RunnableLambda(shout).InputType, fw.RunnableLambda(shout).OutputType,
            fw.RunnableLambda(lambda x: x).InputType, chain.InputType, chain.OutputType, chain.invoke("hey"),
            annotated.invoke({"x": "hi"}).content, fw.RunnablePassthrough().InputType,
            Length().with_config(run_name="n").InputType,
        ]

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[:3] == [3, str, int]


def test_runnable_serializable_is_a_pydantic_runnable():
    def scenario(fw):
        class Prefix(_serializable(fw)[str, str]):
            prefix: str = ">"

            def invoke(self, input, config=None, **kwargs):
                return self.prefix + input

        p = Prefix(prefix="#")
        return [p.invoke("a"), (p | fw.RunnableLambda(str.upper)).invoke("b"), p.with_config(run_name="x").invoke("c"),
                p.prefix, p.name, Prefix(name="named").get_name(), p.InputType, p.OutputType,
                sorted(Prefix.model_fields)]

    lc, hc = both(scenario)
    assert lc == hc


def test_a_runnable_without_types_says_so():
    class Untyped(hc_runnables.Runnable):
        def invoke(self, input, config=None, **kwargs):
            return input

    class Lc(lc_runnables.Runnable):
        def invoke(self, input, config=None, **kwargs):
            return input

    # As LangChain: the unbound type variable of Runnable itself.
    assert str(Untyped().InputType) == str(Lc().InputType) == "-Input"
    assert str(Untyped().OutputType) == str(Lc().OutputType) == "+Output"
