"""A planted key never shows up in reprs, errors, logs or callback payloads."""

from __future__ import annotations

import logging
import types
from typing import Any, Optional

import pytest
from pydantic import SecretStr

import hookchain
from hookchain import plugins
from hookchain.callbacks import BaseCallbackHandler
from hookchain.errors import OptionError
from hookchain.language_models import BaseChatModel
from hookchain.messages import AIMessage
from hookchain.outputs import ChatGeneration, ChatResult
from hookchain.prompts import ChatPromptTemplate

KEY = "sk-PLANTED-0123456789abcdef"


class KeyedModel(BaseChatModel):
    api_key: SecretStr
    model_name: str = "keyed"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs: Any) -> ChatResult:
        assert self.api_key.get_secret_value() == KEY  # the model itself can read it
        return ChatResult(generations=[ChatGeneration(message=AIMessage("ok"))])

    @property
    def _llm_type(self) -> str:
        return "keyed"

    @property
    def _identifying_params(self):
        return {"model_name": self.model_name}


@pytest.fixture
def keyed():
    plugins.reset()
    module = types.ModuleType("keyed_plugin")

    @hookchain.hookimpl
    def register_models(register):
        register("keyed", KeyedModel)

    module.register_models = register_models
    plugins.register_plugin(module, name="keyed")
    yield
    plugins.reset()


def test_key_absent_everywhere(keyed, recorder, caplog):
    seen: list[str] = []
    model = hookchain.get_model("keyed", api_key=KEY)
    seen += [repr(model), str(model), model.model_dump_json(), str(model.model_dump())]

    class Failing(BaseCallbackHandler):
        def on_chat_model_start(self, serialized, messages, **kwargs):
            raise RuntimeError(f"handler saw {serialized} {kwargs}")

    with caplog.at_level(logging.DEBUG):
        chain = ChatPromptTemplate.from_template("{x}") | model
        assert chain.invoke({"x": "hi"}, config={"callbacks": [recorder, Failing()]}).content == "ok"
        list(chain.stream({"x": "hi"}, config={"callbacks": [recorder]}))
    seen += [repr(e) for e in recorder.events]
    seen.append(caplog.text)
    for bad in ({"api_key": 12345, "model_name": 7}, {"api_key": [KEY]}, {"api_key": KEY, "nope": KEY}):
        with pytest.raises(OptionError) as info:
            hookchain.get_model("keyed", **bad)
        seen.append(str(info.value))
    assert "value hidden: secret" in seen[-2]
    seen.append(str([p.as_dict() for p in plugins.list_plugins()]))
    assert "on_chat_model_start" in str(seen) and len(seen) > 10
    assert [s for s in seen if "PLANTED" in s] == []
