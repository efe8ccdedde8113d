"""Bad or extreme input gives one clear error or works; never a deep traceback."""

from __future__ import annotations

import pytest

import hookchain
from hookchain.errors import TemplateError
from hookchain.messages import HumanMessage
from hookchain.prompts import ChatPromptTemplate


def test_ten_megabyte_message_works():
    big = "x" * 10_000_000
    chain = ChatPromptTemplate.from_template("{text}") | hookchain.get_model("echo", n=5)
    assert chain.invoke({"text": big}).content == "xxxxx"
    assert "".join(c.content for c in chain.stream({"text": big})) == "xxxxx"


def test_braces_in_user_text_are_kept_verbatim():
    chain = ChatPromptTemplate.from_template("say {text}") | hookchain.get_model("echo")
    assert chain.invoke({"text": "{not_a_var} {{x}}"}).content == "say {not_a_var} {{x}}"


def test_content_blocks_are_read_as_text():
    message = HumanMessage(content=[{"type": "text", "text": "hi "}, {"type": "image_url", "image_url": {"url": "x"}}, "there"])
    assert hookchain.get_model("echo").invoke([message]).content == "hi there"


@pytest.mark.parametrize("bad", [42, None, b"bytes"])
def test_non_string_template_is_a_clear_error(bad):
    with pytest.raises(TemplateError, match="must be a str"):
        ChatPromptTemplate.from_template(bad)


def test_wrong_input_types_are_clear_errors():
    model = hookchain.get_model("echo")
    with pytest.raises(TypeError, match="chat model takes a str, a list of messages or a PromptValue"):
        model.invoke(42)
    with pytest.raises(TypeError, match="expects a dict with keys"):
        ChatPromptTemplate.from_template("{a}{b}").invoke("just a string")


def test_keyboard_interrupt_ends_every_open_run(recorder, monkeypatch):
    model = hookchain.get_model("echo")

    def stream(self, messages, stop=None, run_manager=None, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(type(model), "_stream", stream)
    chain = ChatPromptTemplate.from_template("{x}") | model
    with pytest.raises(KeyboardInterrupt):
        list(chain.stream({"x": "y"}, config={"callbacks": [recorder]}))
    assert [e[0] for e in recorder.events][-2:] == ["on_llm_error", "on_chain_error"]
