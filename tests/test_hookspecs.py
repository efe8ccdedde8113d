"""The hookspec module is the one source of truth for callback events."""

import inspect

import pluggy
import pytest

import hookchain
from hookchain import hookspecs
from hookchain.callbacks import AsyncCallbackHandler, BaseCallbackHandler

LANGCHAIN_EVENTS = [
    "on_llm_start", "on_chat_model_start", "on_llm_new_token", "on_llm_end", "on_llm_error",
    "on_chain_start", "on_chain_end", "on_chain_error", "on_tool_start", "on_tool_end", "on_tool_error",
    "on_retriever_start", "on_retriever_end", "on_retriever_error", "on_text", "on_retry",
    "on_agent_action", "on_agent_finish", "on_custom_event",
]


def test_every_langchain_event_is_a_hookspec():
    assert list(hookspecs.CALLBACK_EVENTS) == LANGCHAIN_EVENTS
    for name in LANGCHAIN_EVENTS:
        assert hasattr(getattr(hookspecs, name), "hookchain_spec")


@pytest.mark.parametrize("base", [BaseCallbackHandler, AsyncCallbackHandler])
@pytest.mark.parametrize("event", LANGCHAIN_EVENTS)
def test_handler_methods_agree_with_hookspecs(base, event):
    spec = inspect.signature(getattr(hookspecs, event))
    method = inspect.signature(getattr(base, event))
    assert list(method.parameters)[0] == "self"
    assert list(method.parameters.values())[1:] == list(spec.parameters.values())
    assert getattr(base, event).__doc__ == getattr(hookspecs, event).__doc__
    if base is AsyncCallbackHandler:
        assert inspect.iscoroutinefunction(getattr(base, event))


def test_handler_methods_agree_with_langchain():
    lc = pytest.importorskip("langchain_core.callbacks")
    for event in LANGCHAIN_EVENTS:
        ours = inspect.signature(getattr(BaseCallbackHandler, event))
        theirs = inspect.signature(getattr(lc.BaseCallbackHandler, event))
        assert list(ours.parameters) == list(theirs.parameters), event
        for name, p in ours.parameters.items():
            assert p.kind == theirs.parameters[name].kind, (event, name)
            assert p.default == theirs.parameters[name].default, (event, name)


def test_markers_and_entry_point_group():
    assert isinstance(hookchain.hookspec, pluggy.HookspecMarker)
    assert isinstance(hookchain.hookimpl, pluggy.HookimplMarker)
    assert hookspecs.ENTRY_POINT_GROUP == "hookchain"
    pm = pluggy.PluginManager("hookchain")
    pm.add_hookspecs(hookspecs)
    assert {"register_models", "register_handlers", *LANGCHAIN_EVENTS} <= set(vars(pm.hook))


def test_overridden_events_are_recorded_and_typos_warned():
    class H(BaseCallbackHandler):
        def on_llm_new_token(self, token, **kwargs):
            pass

        async def on_chain_end(self, outputs, **kwargs):
            pass

    assert H._hc_events == {"on_llm_new_token", "on_chain_end"}
    assert H._hc_async_events == {"on_chain_end"}
    with pytest.warns(UserWarning, match="on_llm_new_tokn is not a callback event"):
        class Typo(BaseCallbackHandler):
            def on_llm_new_tokn(self, token, **kwargs):
                pass
