"""Fake chat models: what is hookchain's own (clear errors, lazy loading);
LangChain parity is in tests/differential/test_fake_chat_models.py."""

from __future__ import annotations

import subprocess
import sys

import pydantic
import pytest

from hookchain.language_models import FakeListChatModel, GenericFakeChatModel


def test_generic_fake_refuses_a_list_with_a_fix():
    with pytest.raises(pydantic.ValidationError, match=r"must be an iterator, got list; wrap a list in iter"):
        GenericFakeChatModel(messages=["a"])


def test_unknown_option_is_an_error():
    with pytest.raises(pydantic.ValidationError, match="respones"):
        FakeListChatModel(respones=["a"])


def test_fakes_load_on_first_use():
    code = (
        "import sys, hookchain.language_models as lm\n"
        "assert 'hookchain.language_models.fake_chat_models' not in sys.modules\n"
        "assert lm.ParrotFakeChatModel.__name__ == 'ParrotFakeChatModel'\n"
        "try:\n    lm.NoSuchModel\nexcept AttributeError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "has no attribute 'NoSuchModel'" in out
