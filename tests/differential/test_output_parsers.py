"""Output parsers (``hookchain.output_parsers``) against langchain-core 1.7.2:
the same chains on both, comparing outputs, stream chunks, callback events
(``run_type="parser"``, the deferred input of a streamed parser run) and
``astream_events`` (``on_parser_*``).

Differences asserted here (README's differences table): the exception text
has no "For troubleshooting, visit: <LangChain docs>" line, and the format
instructions are hookchain's own words around the same JSON schema.
"""

from __future__ import annotations

import json

import hypothesis.strategies as st
import langchain_core.exceptions as lc_exceptions
import langchain_core.output_parsers as lc_op
import langchain_core.utils.json as lc_json
import pydantic
import pytest
from hypothesis import given, settings

import hookchain.exceptions as hc_exceptions
import hookchain.output_parsers as hc_op
import hookchain.utils.json as hc_json

from .harness import HC, LC, both, collect, event_stream, events, norm, raised

_LINK = "\nFor troubleshooting, visit:"


def op(fw):
    return lc_op if fw is LC else hc_op


def _unlinked(value):
    """``value`` with LangChain's troubleshooting-link line cut from its strings."""
    if isinstance(value, str):
        return value.split(_LINK)[0]
    if isinstance(value, (list, tuple)):
        return type(value)(_unlinked(v) for v in value)
    if isinstance(value, dict):
        return {k: _unlinked(v) for k, v in value.items()}
    return value


def _without_final_empty(fw, evs):
    """``astream_events`` of a str-parsed stream without the ``""`` that
    LangChain's extra final model chunk (README: ``stream()`` end) turns into:
    its last ``on_parser_stream`` of ``""`` and the ``on_chain_stream`` after it."""
    if fw is HC:
        return evs
    last = max(i for i, e in enumerate(evs) if e[0] == "on_parser_stream" and e[6] == {"chunk": ""})
    drop = {last, last + 1} if evs[last + 1][0] == "on_chain_stream" and evs[last + 1][6] == {"chunk": ""} else {last}
    return [e for i, e in enumerate(evs) if i not in drop]


class Joke(pydantic.BaseModel):
    setup: str
    punchline: str = ""
    rating: int = 0


JOKE = '```json\n{"setup": "Why did the bear cross?", "punchline": "To get to the honey", "rating": 7}\n```'


def _dumped(value):
    return value.model_dump() if isinstance(value, pydantic.BaseModel) else norm(value)


# -- StrOutputParser ------------------------------------------------------ #


def _str_chain(fw, **model):
    return fw.ChatPromptTemplate.from_messages(["Tell me a joke about {animal}"]) | fw.EchoModel(n=7, **model) | op(fw).StrOutputParser()


def test_str_parser_invoke_and_stream():
    def scenario(fw):
        h = fw.Recorder()
        chain = _str_chain(fw)
        out = chain.invoke({"animal": "bears"}, {"callbacks": [h]})
        h2 = fw.Recorder()
        chunks = list(chain.stream({"animal": "bears"}, {"callbacks": [h2], "tags": ["t"], "metadata": {"k": 1}}))
        return out, [c for c in chunks if c], events(fw, h.log), events(fw, h2.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == "Tell me"
    assert hc[1] == list("Tell me")
    start = [e for e in hc[2] if e[5] == "StrOutputParser"][0]
    assert "run_type" in start[7]


def test_str_parser_run_type_is_parser():
    def scenario(fw):
        seen = []

        class Spy(fw.BaseCallbackHandler):
            def on_chain_start(self, serialized, inputs, **kwargs):
                seen.append((kwargs["name"], kwargs.get("run_type"), inputs, kwargs.get("defers_inputs")))

        chain = fw.EchoModel(n=2) | op(fw).StrOutputParser()
        chain.invoke("hi", {"callbacks": [Spy()]})
        list(chain.stream("hi", {"callbacks": [Spy()]}))
        return [s for s in seen if s[0] == "StrOutputParser"]

    lc, hc = both(scenario)
    assert norm(lc) == norm(hc)
    assert norm(hc) == [
        ["StrOutputParser", "parser", ("AIMessage", "hi"), None],
        ["StrOutputParser", "parser", {"input": ""}, False],
    ]


def test_str_parser_astream_and_events():
    async def scenario(fw):
        chain = _str_chain(fw)
        chunks = await collect(chain.astream({"animal": "cats"}))
        evs = await event_stream(fw, chain, {"animal": "cats"}, {"tags": ["x"]})
        return [c for c in chunks if c], _without_final_empty(fw, evs)

    lc, hc = both(scenario)
    assert lc == hc
    kinds = [e[0] for e in hc[1] if e[1] == "StrOutputParser"]
    assert kinds == ["on_parser_start", *["on_parser_stream"] * 8, "on_parser_end"]  # 7 characters, then ""


def test_str_parser_async_model_callbacks():
    async def scenario(fw):
        h = fw.AsyncRecorder()
        chain = fw.AsyncEchoModel(n=3) | op(fw).StrOutputParser()
        out = [c async for c in chain.astream("hello", {"callbacks": [h]})]
        return out, events(fw, h.log)

    lc, hc = both(scenario)
    assert (lc[0][:3], lc[1]) == (hc[0][:3], hc[1])


def test_str_parser_direct_inputs():
    def scenario(fw):
        p = op(fw).StrOutputParser()
        return (
            p.invoke("plain"), p.invoke(fw.AIMessage(content=[{"type": "text", "text": "a"}, {"type": "text", "text": "b"}])),
            list(p.stream("x")), list(p.transform(iter(["a", "b"]))), p.parse("z"), p._type,
        )

    lc, hc = both(scenario)
    assert lc == hc


def test_str_parser_model_error_mid_stream():
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.EchoModel(n=5, fail_after=2) | op(fw).StrOutputParser()
        got = []
        try:
            for chunk in chain.stream("hello", {"callbacks": [h]}):
                got.append(chunk)
        except Exception as e:  # noqa: BLE001
            got.append(("raised", type(e).__name__))
        return got, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == ["h", "e", ("raised", "EchoFailure")]


def test_str_parser_stream_closed_early():
    # Kept, reported: closing a stream early ends hookchain's runs with
    # on_chain_error(GeneratorExit) (its sequences and models already did);
    # LangChain 1.7.2 ends them normally. Compared up to the parser's start.
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.EchoModel(n=5) | op(fw).StrOutputParser()
        it = chain.stream("hello", {"callbacks": [h]})
        first = next(it)
        it.close()
        return first, [(e[0], e[5], e[6]) for e in events(fw, h.log) if e[0] != "on_llm_new_token"]

    lc, hc = both(scenario)
    assert lc[0] == hc[0] == "h"
    assert lc[1][:2] == hc[1][:2]
    assert not any(e[0].endswith("_error") for e in lc[1])
    # The model's run ends first (the parser closes the stream it reads), then
    # the parser's, then the sequence's (the parser's start is normalised to
    # just before its own first event).
    assert [(e[0], e[1]) for e in hc[1][2:]] == [
        ("on_llm_error", None), ("on_chain_start", "StrOutputParser"), ("on_chain_error", None), ("on_chain_error", None),
    ]
    assert all(e[2][0] == ("error", "GeneratorExit", "") for e in hc[1][2:] if e[0].endswith("_error"))


# -- JSON ------------------------------------------------------------------- #


def test_json_parser_streams_partial_objects():
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.EchoModel(n=200) | op(fw).JsonOutputParser()
        chunks = list(chain.stream(JOKE, {"callbacks": [h]}))
        return chunks, chain.invoke(JOKE), events(fw, h.log)[:-1]  # root's end: see test_streamed_sequence_total_of_dicts

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0][0] == {} and hc[0][-1] == hc[1] == json.loads(JOKE.strip("`json\n"))


def test_streamed_sequence_total_of_dicts():
    def scenario(fw):
        h = fw.Recorder()
        list((fw.EchoModel(n=200) | op(fw).JsonOutputParser()).stream('{"a": [1, 2], "b": "xy"}', {"callbacks": [h]}))
        return events(fw, h.log)[-1]

    lc, hc = both(scenario)
    assert lc == hc


def test_json_parser_astream_events():
    async def scenario(fw):
        chain = fw.AsyncEchoModel(n=200) | op(fw).SimpleJsonOutputParser()
        return (await event_stream(fw, chain, '{"a": [1, 2], "b": "xy"}'))[:-1]  # root's end: see above

    lc, hc = both(scenario)
    assert lc == hc


@pytest.mark.parametrize("text", [
    '{"a": 1}', '```json\n{"a": 1}\n```', '```\n[1, 2]\n```', 'Here it is: ```json\n{"a": "b"}```',
    '  {"a": "line\nbreak"}  ', '{"a": 1', '"just a string"', "42", "not json", "", '{"a": 1]}', "```json\n",
])
def test_json_parser_parse(text):
    def scenario(fw):
        p = op(fw).JsonOutputParser()
        try:
            out = ("ok", p.parse(text))
        except Exception as e:  # noqa: BLE001
            out = ("raised", type(e).__name__, str(e).split(_LINK)[0], getattr(e, "llm_output", None))
        return out, p.parse_result([fw.ChatGeneration(message=fw.AIMessage(content=text))], partial=True)

    lc, hc = both(scenario)
    assert lc == hc


def test_json_parser_error_is_output_parser_exception():
    def scenario(fw):
        h = fw.Recorder()
        exc_type = lc_exceptions.OutputParserException if fw is LC else hc_exceptions.OutputParserException
        chain = fw.EchoModel() | op(fw).JsonOutputParser()
        try:
            chain.invoke("nope", {"callbacks": [h]})
        except exc_type as e:
            caught = (isinstance(e, ValueError), e.llm_output, e.observation, e.send_to_llm, str(e).split(_LINK)[0])
        return caught, _unlinked(events(fw, h.log))

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0] == (True, "nope", None, False, "Invalid json output: nope")


def test_json_parser_diff_mode():
    def scenario(fw):
        chain = fw.EchoModel(n=200) | op(fw).JsonOutputParser(diff=True)
        return list(chain.stream('{"a": "hi", "b": [1]}'))

    lc, hc = both(scenario)
    assert lc == hc


def test_json_format_instructions_embed_the_same_schema():
    def scenario(fw):
        plain = op(fw).JsonOutputParser().get_format_instructions()
        with_schema = op(fw).JsonOutputParser(pydantic_object=Joke).get_format_instructions()
        return plain, with_schema.split("```")[-2].strip()

    lc, hc = both(scenario)
    assert lc == hc
    # Deliberate difference: hookchain's own wording around the schema.
    assert op(HC).JsonOutputParser(pydantic_object=Joke).get_format_instructions() != \
        op(LC).JsonOutputParser(pydantic_object=Joke).get_format_instructions()


@settings(max_examples=150, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=8,
), st.data())
def test_parse_partial_json_matches_on_every_prefix(value, data):
    text = json.dumps(value, ensure_ascii=data.draw(st.booleans()))
    cut = data.draw(st.integers(0, len(text)))
    prefix = text[:cut]

    def result(parse):
        try:
            return ("ok", parse(prefix))
        except json.JSONDecodeError:
            return ("JSONDecodeError",)

    assert result(lc_json.parse_partial_json) == result(hc_json.parse_partial_json)
    assert result(lc_json.parse_json_markdown) == result(hc_json.parse_json_markdown)


@pytest.mark.parametrize("text, keys", [('{"a": 1, "b": 2}', ["a"]), ("[1]", []), ('{"a": 1}', ["b"]), ("{x", ["a"])])
def test_parse_and_check_json_markdown(text, keys):
    def run(module):
        try:
            return ("ok", module.parse_and_check_json_markdown(text, keys))
        except Exception as e:  # noqa: BLE001
            return ("raised", type(e).__name__, str(e).split(_LINK)[0], getattr(e, "llm_output", None))

    assert run(lc_json) == run(hc_json)


# -- Pydantic ------------------------------------------------------------------ #


def test_pydantic_parser_invoke_stream_and_events():
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.EchoModel(n=200) | op(fw).PydanticOutputParser(pydantic_object=Joke)
        chunks = [c.model_dump() for c in chain.stream(JOKE, {"callbacks": [h]})]
        evs = [tuple(_dumped(x) if i == 6 else x for i, x in enumerate(e)) for e in events(fw, h.log)]
        return chain.invoke(JOKE).model_dump(), chunks, len(evs)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[1][-1] == hc[0]


@pytest.mark.parametrize("text", ['{"punchline": "no setup"}', '{"setup": "x", "rating": "high"}', "oops"])
def test_pydantic_parser_errors(text):
    def scenario(fw):
        p = op(fw).PydanticOutputParser(pydantic_object=Joke)
        try:
            p.invoke(text)
        except Exception as e:  # noqa: BLE001
            return type(e).__name__, str(e).split(_LINK)[0].split("\n")[0], e.llm_output
        raise AssertionError("no error")

    lc, hc = both(scenario)
    assert lc == hc


def test_pydantic_format_instructions_embed_the_same_schema():
    def scenario(fw):
        return op(fw).PydanticOutputParser(pydantic_object=Joke).get_format_instructions().split("```")[-2].strip()

    lc, hc = both(scenario)
    assert lc == hc


def test_pydantic_parser_astream():
    async def scenario(fw):
        chain = fw.AsyncEchoModel(n=200) | op(fw).PydanticOutputParser(pydantic_object=Joke)
        return [c.model_dump() async for c in chain.astream(JOKE)], (await chain.ainvoke(JOKE)).model_dump()

    lc, hc = both(scenario)
    assert lc == hc


# -- Lists ---------------------------------------------------------------------- #


@pytest.mark.parametrize("cls, text", [
    ("CommaSeparatedListOutputParser", 'red, green,blue, "a, b", last'),
    ("NumberedListOutputParser", "Here:\n1. red\n2. green\n3. blue"),
    ("MarkdownListOutputParser", "- red\n* green\n  - blue\nnot an item"),
    ("CommaSeparatedListOutputParser", ""),
])
def test_list_parsers(cls, text):
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.EchoModel(n=200) | getattr(op(fw), cls)()
        chunks = list(chain.stream(text, {"callbacks": [h]})) if text else []
        return chain.invoke(text) if text else getattr(op(fw), cls)().parse(text), chunks, events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc


def test_list_parser_astream_events():
    async def scenario(fw):
        chain = fw.AsyncEchoModel(n=200) | op(fw).CommaSeparatedListOutputParser()
        return await event_stream(fw, chain, "a, b, c")

    lc, hc = both(scenario)
    assert lc == hc


def test_list_parser_async_transform():
    async def scenario(fw):
        async def source():
            for piece in ["1. a\n", "2. b", "\n3", ". c"]:
                yield piece

        return [c async for c in op(fw).NumberedListOutputParser().atransform(source())]

    lc, hc = both(scenario)
    assert lc == hc == [["a"], ["b"], ["c"]]


# -- Custom parsers, subclassing --------------------------------------------------- #


def test_user_parser_subclass():
    def scenario(fw):
        class Upper(op(fw).BaseOutputParser[str]):
            exclaim: bool = False

            def parse(self, text: str) -> str:
                return text.upper() + ("!" if self.exclaim else "")

        h = fw.Recorder()
        chain = fw.EchoModel(n=3) | Upper(exclaim=True)
        return chain.invoke("hello", {"callbacks": [h]}), list(chain.stream("hey")), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[:2] == ("HEL!", ["HEY!"])


def test_parser_batch_and_ainvoke():
    async def scenario(fw):
        p = op(fw).CommaSeparatedListOutputParser()
        return p.batch(["a,b", "c"]), await p.ainvoke("x, y"), await p.abatch(["q"])

    lc, hc = both(scenario)
    assert lc == hc


def test_parser_exception_send_to_llm_needs_observation():
    assert raised(lambda: lc_exceptions.OutputParserException("x", send_to_llm=True))[:2] == \
        raised(lambda: hc_exceptions.OutputParserException("x", send_to_llm=True))[:2] == ("raised", "ValueError")


def test_format_instructions_of_lists_and_str():
    def scenario(fw):
        out = []
        for name in ("CommaSeparatedListOutputParser", "NumberedListOutputParser", "MarkdownListOutputParser",
                     "XMLOutputParser", "StrOutputParser"):
            try:
                out.append(type(getattr(op(fw), name)().get_format_instructions()).__name__)
            except NotImplementedError:
                out.append("NotImplementedError")
        return out

    lc, hc = both(scenario)
    assert lc == hc == ["str", "str", "str", "str", "NotImplementedError"]


# -- XML ------------------------------------------------------------------------ #

MOVIES = (
    'Sure:\n```xml\n<?xml version="1.0" encoding="UTF-8"?>\n<movies><movie><title>A</title><year>1999</year>'
    "</movie><movie><title>B</title></movie><note>hi</note></movies>\n``` bye"
)


@pytest.mark.parametrize("text", [MOVIES, "<a>text</a>", "<a>\n  <b/>\n</a>", "<a><b></a>", "no xml", "<a>1</a> trailing"])
def test_xml_parse(text):
    def scenario(fw):
        try:
            return ("ok", op(fw).XMLOutputParser(parser="xml").parse(text))
        except Exception as e:  # noqa: BLE001
            return ("raised", type(e).__name__, str(e).split(_LINK)[0], getattr(e, "llm_output", None))

    lc, hc = both(scenario)
    assert lc == hc


def test_xml_stream_and_events():
    def scenario(fw):
        h = fw.Recorder()
        chain = fw.EchoModel(n=400) | op(fw).XMLOutputParser(parser="xml")
        chunks = list(chain.stream(MOVIES, {"callbacks": [h]}))
        return chunks, chain.invoke(MOVIES), events(fw, h.log)

    lc, hc = both(scenario)
    assert lc == hc
    assert hc[0][0] == {"movies": [{"movie": [{"title": "A"}]}]}


def test_xml_astream_events():
    async def scenario(fw):
        chain = fw.AsyncEchoModel(n=400) | op(fw).XMLOutputParser(parser="xml")
        return await event_stream(fw, chain, "<a><b>1</b><c>2</c></a>")

    lc, hc = both(scenario)
    assert lc == hc


def test_xml_default_parser_needs_defusedxml():
    try:
        import defusedxml  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("defusedxml is installed")

    def scenario(fw):
        return raised(lambda: op(fw).XMLOutputParser().parse("<a>1</a>"))[:2], \
            raised(lambda: list(op(fw).XMLOutputParser().transform(iter(["<a>1</a>"]))))[:2]

    lc, hc = both(scenario)
    assert lc == hc == (("raised", "ImportError"), ("raised", "ImportError"))
    assert "pip install defusedxml" in raised(lambda: op(HC).XMLOutputParser().parse("<a/>"))[2]


def test_pydantic_parser_with_a_pydantic_v1_model():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pydantic import v1

        class OldJoke(v1.BaseModel):
            setup: str
            rating: int = 0

    def scenario(fw):
        p = op(fw).PydanticOutputParser(pydantic_object=OldJoke)
        bad = raised(lambda: p.parse('{"rating": 2}'))
        return p.parse('{"setup": "x", "rating": 3}').dict(), bad[:2], bad[2].split(_LINK)[0].split("\n")[0], \
            p.get_format_instructions().split("```")[-2].strip()

    lc, hc = both(scenario)
    assert lc == hc


def test_sync_parsed_stream_nested_in_an_async_run():
    # A sync stream() inside an async function of the chain: the parser's
    # stream events reach astream_events (through tap_output_iter).
    async def scenario(fw):
        chain = fw.EchoModel(n=3) | op(fw).StrOutputParser()

        async def outer(x, config):
            return "".join(chain.stream(x, config))

        return _without_final_empty(fw, await event_stream(fw, fw.RunnableLambda(outer), "abc"))

    lc, hc = both(scenario)
    assert lc == hc
    assert [e[0] for e in hc if e[1] == "StrOutputParser"].count("on_parser_stream") == 4  # "a", "b", "c", ""
