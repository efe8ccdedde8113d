"""``ChatModelConformance``: the standard checks for a chat model plugin.

Subclass it in a test module (the class name must start with ``Test``) and set
the class attributes below; every ``test_*`` method then runs against the model
your plugin registers. A check that does not apply to your model can be turned
off by setting it to ``None`` in the subclass (``test_secrets_stay_out_of_reprs_and_callbacks = None``),
with a comment saying why.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar, Optional, Sequence

import pytest

from hookchain.testing._util import (
    OptionChecks,
    NOT_SET, alist, check, check_discovered, describe_leaks, fail, is_secret_annotation, payload_places, run, secret_value_of,
    short, text_of,
)
from hookchain.testing.recording import Event, RecordingHandler, isolated
from hookchain.testing.tool_checks import ToolCallingChecks

__all__ = ["ChatModelConformance"]

#: The public entry points whose base implementations fire the callbacks.
RUN_METHODS = ("invoke", "ainvoke", "stream", "astream", "batch", "abatch", "astream_events")
_USAGE_KEYS = {"input_tokens", "output_tokens", "total_tokens"}
_USAGE_DETAILS = {"input_token_details", "output_token_details"}
_LLM_EVENTS = ("on_llm_new_token", "on_llm_end", "on_llm_error")


def _overrides(model: Any, name: str) -> bool:
    from hookchain.language_models import BaseChatModel

    return getattr(type(model), name) is not getattr(BaseChatModel, name)


def _pick_stop(text: str) -> Optional[str]:
    """A stop sequence taken from ``text``: a word near the middle that has text
    before it and after its first occurrence (else a middle character)."""
    text = text.rstrip()
    words = [(m.start(), m.group()) for m in re.finditer(r"\S+", text)]
    middle = len(words) // 2
    for i in sorted(range(1, len(words)), key=lambda i: abs(i - middle)):
        word = words[i][1]
        first = text.find(word)
        if first > 0 and first + len(word) < len(text):
            return word
    for i in sorted(range(1, len(text) - 1), key=lambda i: abs(i - len(text) // 2)):
        char = text[i]
        if not char.isspace() and text.find(char) == i:
            return char
    return None


class ChatModelConformance(OptionChecks, ToolCallingChecks):
    """Standard checks for a chat model plugin. Set in your subclass:

    Attributes:
        model_name: the name your plugin registers (required), or ``"PLUGIN:NAME"``.
        model_options: options to build it with (as ``hookchain.get_model(model_name, **model_options)``).
        bad_option: ``(option, value)`` that must be rejected, e.g. ``("n", "not-an-int")``.
        secret_options: options holding secrets that are not ``SecretStr`` fields
            (``SecretStr`` fields are found by themselves). The suite plants a
            value (``secret_value``, or the one in ``model_options`` if 8+
            characters long) and looks for it everywhere.
        secret_value: the planted secret (change it if your model checks its format).
        prompt: the text most checks send.
        stop_prompt: the text the stop-sequence check sends; a stop sequence is
            then chosen from the model's own answer to it.
        deterministic: the same input always gives the same answer (stronger checks:
            batch equals invoke, stream adds up to invoke, stop cuts exactly there).
        streams: whether ``stream()`` yields several chunks; ``None`` means the
            model streams if it implements ``_stream`` or ``_astream``.
        error_input: an input that makes the model raise (e.g. ``[]`` for "no messages").
        failing_model_options: options with which every call raises (e.g. an
            unreachable ``base_url``). Without either, the suite makes the
            model's ``_generate``/``_stream``/``_agenerate``/``_astream`` raise.

    Opt-in checks (skipped unless set; names as langchain-tests'
    ``ChatModelIntegrationTests``; see ``hookchain.testing.tool_checks``):
        has_tool_calling: ``True`` runs the ``bind_tools`` checks (a
            ``my_adder_tool`` call of the right shape from invoke/ainvoke/
            stream/astream, a ``ToolMessage`` round trip, ``tool_choice``).
        tool_choice_value: ``tool_choice`` for those checks (e.g. ``"any"``).
        has_tool_choice: ``False`` skips the ``tool_choice`` check (default:
            whether ``bind_tools`` takes ``tool_choice``).
        has_structured_output: ``True`` runs the ``with_structured_output``
            checks (pydantic / TypedDict / JSON schema, streamed, ``include_raw``).
        structured_output_kwargs: extra ``with_structured_output`` arguments.
    """

    model_name: ClassVar[str] = ""
    model_options: ClassVar[dict[str, Any]] = {}
    bad_option: ClassVar[Optional[tuple[str, Any]]] = None
    secret_options: ClassVar[Sequence[str]] = ()
    secret_value: ClassVar[str] = "sk-hookchain-conformance-5f3c9a1e7b2d4086"
    prompt: ClassVar[str] = "Tell me a joke about bears"
    stop_prompt: ClassVar[str] = "alpha bravo charlie delta echo foxtrot golf hotel india juliet"
    deterministic: ClassVar[bool] = False
    streams: ClassVar[Optional[bool]] = None
    error_input: ClassVar[Any] = NOT_SET
    failing_model_options: ClassVar[Optional[dict[str, Any]]] = None

    # -- fixtures and hooks an author may override -------------------------- #
    @pytest.fixture(autouse=True)
    def _hookchain_isolated(self) -> Any:
        with isolated():
            yield

    def make_model(self, **options: Any) -> Any:
        """Build the model as a user would: ``hookchain.get_model(model_name, **model_options, **options)``."""
        import hookchain

        if not self.model_name:
            fail(f"{type(self).__name__}: set model_name to the name your plugin registers (class attribute)")
        return hookchain.get_model(self.model_name, **{**self.model_options, **options})

    @pytest.fixture
    def model(self) -> Any:
        return self.make_model()

    # -- helpers ----------------------------------------------------------- #
    def _streams(self, model: Any) -> bool:
        if self.streams is not None:
            return self.streams
        return _overrides(model, "_stream") or _overrides(model, "_astream")

    @staticmethod
    def _config(recorder: Any, **extra: Any) -> dict[str, Any]:
        return {"callbacks": [recorder], **extra}

    def _one_run(self, recorder: Any, api: str) -> Event:
        starts = recorder.of("on_chat_model_start")
        check(len(starts) == 1, f"{api} fired on_chat_model_start {len(starts)} times for one call (expected once): "
                                f"the run's callbacks must come from BaseChatModel ({self._recorded(recorder)})")
        return starts[0]

    @staticmethod
    def _recorded(recorder: Any) -> str:
        return "events fired: " + (", ".join(recorder.names) or "none")

    def _check_ended(self, recorder: Any, start: Event, api: str) -> Event:
        run_id = start.run_id
        errors = recorder.of("on_llm_error", run_id=run_id)
        check(not errors, f"{api} fired on_llm_error({short(errors[0].args[0] if errors else None)}) for a call that should succeed")
        ends = recorder.of("on_llm_end", run_id=run_id)
        check(len(ends) == 1, f"{api} fired on_llm_end {len(ends)} times for its run (expected once; {self._recorded(recorder)})")
        foreign = [e for e in recorder.of(*_LLM_EVENTS) if e.run_id != run_id]
        check(not foreign, f"{api}: {foreign[0].name if foreign else ''} fired with run_id {foreign[0].run_id if foreign else ''}, "
                           f"not the run id of on_chat_model_start ({run_id}): every event of a run carries its one run id")
        return ends[0]

    def _check_message(self, message: Any, api: str) -> str:
        from hookchain.messages import AIMessage

        check(isinstance(message, AIMessage), f"{api} returned {type(message).__name__} ({short(message)}), not an AIMessage")
        check(isinstance(message.content, (str, list)), f"{api} returned content of type {type(message.content).__name__}; content is a str or a list of content blocks")
        text = text_of(message)
        check(text, f"{api} returned an empty message for {self.prompt!r}: set `prompt` to an input your model answers")
        return text

    # -- discovery and options ---------------------------------------------- #
    def test_discovered_through_entry_point(self) -> None:
        """The name resolves through hookchain.plugins, registered by a plugin
        that an installed distribution declares in the ``hookchain`` entry-point group."""
        from hookchain.language_models import BaseChatModel

        check_discovered(type(self).__name__, self.model_name, BaseChatModel, self.make_model)

    def test_identity(self, model: Any) -> None:
        """``_llm_type`` names the model kind; ``_identifying_params`` is a dict."""
        llm_type = model._llm_type
        check(isinstance(llm_type, str) and llm_type, f"{type(model).__name__}._llm_type is {llm_type!r}; return a short non-empty string")
        params = model._identifying_params
        check(isinstance(params, dict), f"{type(model).__name__}._identifying_params is {type(params).__name__}, not a dict")
        check(all(isinstance(k, str) for k in params), f"_identifying_params has non-string keys: {list(params)!r}")

    def test_options_reach_the_model(self, model: Any) -> None:
        """Each of ``model_options`` is set on the model."""
        for option, value in self.model_options.items():
            if not hasattr(model, option):
                continue  # a factory may map options onto other attributes
            actual = getattr(model, option)
            check(secret_value_of(actual) == secret_value_of(value),
                  f"option {option!r} was given as {short(value)} but the model's {option} is {short(actual)}")

    _wrong_error_advice = 'hookchain.get_model reports bad options as hookchain.errors.OptionError (pydantic fields validate them; a factory function can declare options_model)'
    _accepted_advice = 'options must be validated (model options are pydantic fields; BaseChatModel forbids unknown ones, a factory function can declare options_model)'

    def _build_with(self, **options: Any) -> Any:
        return self.make_model(**options)

    def test_does_not_override_run_methods(self, model: Any) -> None:
        """The public entry points stay BaseChatModel's: they fire the callbacks."""
        overridden = [name for name in RUN_METHODS if _overrides(model, name)]
        check(not overridden, f"{type(model).__name__} overrides {', '.join(f'{n}()' for n in overridden)}: BaseChatModel's "
                              f"versions fire on_chat_model_start, on_llm_new_token and on_llm_end/on_llm_error; implement "
                              f"_generate/_stream (and _agenerate/_astream) instead")

    # -- invoke / batch ---------------------------------------------------- #
    def _inputs(self) -> dict[str, Any]:
        from hookchain.messages import HumanMessage, SystemMessage
        from hookchain.prompts import ChatPromptTemplate

        return {
            "str": self.prompt,
            "messages": [SystemMessage("You are a helpful assistant."), HumanMessage(self.prompt)],
            "prompt_value": ChatPromptTemplate.from_messages([("human", "{text}")]).invoke({"text": self.prompt}),
        }

    @pytest.mark.parametrize("kind", ["str", "messages", "prompt_value"])
    def test_invoke(self, model: Any, kind: str) -> None:
        """invoke with a str, a message list and a prompt value gives an AIMessage,
        through one run: on_chat_model_start then on_llm_end."""
        recorder = RecordingHandler()
        value = self._inputs()[kind]
        message = model.invoke(value, config=self._config(recorder))
        text = self._check_message(message, f"invoke({kind})")
        start = self._one_run(recorder, f"invoke({kind})")
        end = self._check_ended(recorder, start, f"invoke({kind})")
        generated = end.args[0].generations[0][0]
        check(text_of(generated.message) == text, f"invoke({kind}) returned {short(text)} but on_llm_end reported {short(text_of(generated.message))}")
        if self.deterministic and kind != "str":
            again = text_of(model.invoke(self.prompt))
            check(again == text or kind == "messages", f"invoke({kind}) answered {short(text)} but invoke(str) answered {short(again)} for the same prompt")

    def test_ainvoke(self, model: Any) -> None:
        recorder = RecordingHandler()
        message = run(model.ainvoke(self.prompt, config=self._config(recorder)))
        text = self._check_message(message, "ainvoke")
        self._check_ended(recorder, self._one_run(recorder, "ainvoke"), "ainvoke")
        if self.deterministic:
            expected = text_of(model.invoke(self.prompt))
            check(text == expected, f"ainvoke answered {short(text)} but invoke answered {short(expected)}")

    @pytest.mark.parametrize("api", ["batch", "abatch"])
    def test_batch(self, model: Any, api: str) -> None:
        """batch/abatch answer every input, in order, one run (one run id) each."""
        recorder = RecordingHandler()
        inputs = [self.prompt, "Another one: " + self.prompt]
        if api == "batch":
            out = model.batch(inputs, config=self._config(recorder))
        else:
            out = run(model.abatch(inputs, config=self._config(recorder)))
        check(isinstance(out, list) and len(out) == 2, f"{api} of 2 inputs returned {short(out)}")
        for i, message in enumerate(out):
            self._check_message(message, f"{api} item {i}")
        starts = recorder.of("on_chat_model_start")
        run_ids = [e.run_id for e in starts]
        check(len(starts) == 2 and len(set(run_ids)) == 2, f"{api} of 2 inputs fired on_chat_model_start {len(starts)} times with run ids "
                                                           f"{run_ids} (expected 2 runs with distinct run ids)")
        for start in starts:
            ends = recorder.of("on_llm_end", run_id=start.run_id)
            check(len(ends) == 1, f"{api}: run {start.run_id} fired on_llm_end {len(ends)} times (expected once)")
        if self.deterministic:
            expected = [text_of(model.invoke(i)) for i in inputs]
            got = [text_of(m) for m in out]
            check(got == expected, f"{api} answered {short(got)} but invoke answers {short(expected)} (order or content differs)")

    # -- streaming --------------------------------------------------------- #
    def _stream(self, model: Any, api: str, value: Any, **kwargs: Any) -> list[Any]:
        if api == "stream":
            return list(model.stream(value, **kwargs))
        return run(alist(model.astream(value, **kwargs)))

    @pytest.mark.parametrize("api", ["stream", "astream"])
    def test_stream_fires_one_new_token_per_chunk(self, model: Any, api: str) -> None:
        """stream/astream yield AIMessageChunks; on_llm_new_token fires once per
        chunk, with the chunk's text, inside the run."""
        from hookchain.messages import AIMessage, AIMessageChunk

        recorder = RecordingHandler()
        chunks = self._stream(model, api, self.prompt, config=self._config(recorder))
        check(chunks, f"{api}() yielded no chunks")
        streams = self._streams(model)
        # Without _stream/_astream, BaseChatModel yields invoke's AIMessage whole (as LangChain).
        kind = AIMessageChunk if streams else AIMessage
        for chunk in chunks:
            check(isinstance(chunk, kind), f"{api}() yielded {type(chunk).__name__} ({short(chunk)}), not an {kind.__name__}")
        tokens = recorder.of("on_llm_new_token")
        if streams:
            check(len(tokens) == len(chunks),
                  f"{api}() yielded {len(chunks)} chunks but on_llm_new_token fired {len(tokens)} times: it must fire once per "
                  f"streamed chunk (BaseChatModel fires it for every chunk _stream/_astream yields; a model that overrides "
                  f"stream()/astream() or yields chunks some other way bypasses it)")
        else:
            check(len(chunks) == 1 and not tokens,
                  f"{api}() yielded {len(chunks)} chunks but on_llm_new_token fired {len(tokens)} times, and the model "
                  f"implements neither _stream nor _astream (so it should yield its whole answer as one chunk, "
                  f"without tokens): stream through _stream/_astream, or set streams = True if it does")
        start = self._one_run(recorder, api)
        end = self._check_ended(recorder, start, api)
        order = recorder.events
        first, last = order.index(start), order.index(end)
        for i, (token, chunk) in enumerate(zip(tokens, chunks)):
            check(first < order.index(token) < last, f"{api}: on_llm_new_token #{i} fired outside its run (after on_llm_end or before on_chat_model_start)")
            expected = chunk.content if isinstance(chunk.content, str) else text_of(chunk)
            check(token.args[0] == expected, f"{api}: on_llm_new_token #{i} got token {token.args[0]!r} but chunk #{i} is {expected!r}")
            sent = token.kwargs.get("chunk")
            check(sent is not None and text_of(sent.message) == text_of(chunk),
                  f"{api}: on_llm_new_token #{i} got chunk={short(sent)}, expected the ChatGenerationChunk of {short(chunk)}")
        if streams and self.deterministic:
            total = "".join(text_of(c) for c in chunks)
            expected = text_of(model.invoke(self.prompt))
            check(total == expected, f"{api}() chunks add up to {short(total)} but invoke answered {short(expected)}")

    def test_astream_events_v2(self, model: Any) -> None:
        """astream_events(version="v2") of prompt | model: the model's start,
        stream and end events share one run id whose parent is the sequence."""
        from hookchain.prompts import ChatPromptTemplate

        chain = ChatPromptTemplate.from_messages([("human", "{text}")]) | model
        events = run(alist(chain.astream_events({"text": self.prompt}, version="v2")))
        check(events and events[0]["event"] == "on_chain_start", f"astream_events did not start with the sequence's on_chain_start: {short([e['event'] for e in events], 200)}")
        root = events[0]["run_id"]
        mine = [e for e in events if e["event"].startswith("on_chat_model_")]
        kinds = [e["event"] for e in mine]
        check(kinds and kinds[0] == "on_chat_model_start" and kinds.count("on_chat_model_start") == 1,
              f"astream_events: expected one on_chat_model_start first among the model's events, got {short(kinds, 200)}")
        check(kinds[-1] == "on_chat_model_end" and kinds.count("on_chat_model_end") == 1,
              f"astream_events: expected one on_chat_model_end last among the model's events, got {short(kinds, 200)}")
        run_ids = {e["run_id"] for e in mine}
        check(len(run_ids) == 1, f"astream_events: the model's events carry {len(run_ids)} run ids (expected one per run)")
        for e in mine:
            check(e["parent_ids"] == [root], f"astream_events: {e['event']} has parent_ids {e['parent_ids']}, expected [{root!r}] (the sequence)")
        streamed = [e["data"].get("chunk") for e in mine if e["event"] == "on_chat_model_stream"]
        output = mine[-1]["data"].get("output")
        check(output is not None, "astream_events: on_chat_model_end has no data['output']")
        if self._streams(model):
            check(streamed, "astream_events: no on_chat_model_stream events, but the model streams")
            total = "".join(text_of(c) for c in streamed)
            check(total == text_of(output), f"astream_events: the streamed chunks add up to {short(total)} but on_chat_model_end's output is {short(text_of(output))}")
        check(text_of(output), f"astream_events: on_chat_model_end's output is empty for {self.prompt!r}")
        check(events[-1]["event"] == "on_chain_end" and events[-1]["run_id"] == root, "astream_events did not end with the sequence's on_chain_end")

    # -- stop sequences ---------------------------------------------------- #
    @pytest.mark.parametrize("api", ["invoke", "stream", "astream", "bind"])
    def test_stop_sequence_honoured(self, model: Any, api: str) -> None:
        """With ``stop=[s]`` (s taken from the model's own answer) the output ends
        at or with the first occurrence of s, never continuing past it."""
        full = text_of(model.invoke(self.stop_prompt))
        stop = _pick_stop(full)
        if stop is None:
            fail(f"the model's answer to stop_prompt is too short to choose a stop sequence from ({full!r}): set stop_prompt "
                 f"to an input your model answers with several words")
        if api == "invoke":
            out = text_of(model.invoke(self.stop_prompt, stop=[stop]))
        elif api == "bind":
            out = text_of(model.bind(stop=[stop]).invoke(self.stop_prompt))
        else:
            out = "".join(text_of(c) for c in self._stream(model, api, self.stop_prompt, stop=[stop]))
        where = out.find(stop)
        if where >= 0 and out[where + len(stop):].strip():
            cut = out[: where + len(stop) + 20]
            fail(f"stop sequence {stop!r} not honoured by {api}: output {cut + ('...' if len(out) > len(cut) else '')!r} continues past it")
        if self.deterministic:
            at = full.find(stop)
            allowed = {full[:at].rstrip(), full[: at + len(stop)].rstrip()}
            check(out.rstrip() in allowed,
                  f"stop sequence {stop!r} not honoured by {api}: without stop the output is {short(full)}, with stop=[{stop!r}] "
                  f"it is {short(out)}; expected it to end at or with the stop sequence ({short(full[: at + len(stop)])})")

    # -- callbacks in a chain ---------------------------------------------- #
    @pytest.mark.parametrize("api", ["invoke", "stream", "ainvoke", "astream"])
    def test_callbacks_in_chain(self, model: Any, api: str) -> None:
        """In ``prompt | model``: chain start, prompt start/end, then one model
        run (start, tokens, end) whose parent is the sequence, then chain end;
        tags and metadata from the config reach the model run."""
        from hookchain.prompts import ChatPromptTemplate

        chain = ChatPromptTemplate.from_messages([("human", "{text}")]) | model
        recorder = RecordingHandler()
        config = self._config(recorder, tags=["conformance"], metadata={"conformance_suite": "chat-model"})
        value = {"text": self.prompt}
        if api == "invoke":
            text = text_of(chain.invoke(value, config=config))
        elif api == "ainvoke":
            text = text_of(run(chain.ainvoke(value, config=config)))
        elif api == "stream":
            text = "".join(text_of(c) for c in chain.stream(value, config=config))
        else:
            text = "".join(text_of(c) for c in run(alist(chain.astream(value, config=config))))
        events = recorder.events
        roots = [e for e in events if e.name == "on_chain_start" and e.parent_run_id is None]
        check(len(roots) == 1, f"{api}: expected one root on_chain_start (the sequence), got {len(roots)} ({self._recorded(recorder)})")
        root = roots[0]
        chain_ids = {e.run_id for e in events if e.name == "on_chain_start"}
        start = self._one_run(recorder, f"{api} of prompt | model")
        check(start.parent_run_id == root.run_id,
              f"{api}: on_chat_model_start has parent_run_id {start.parent_run_id}, expected the run id of the enclosing "
              f"prompt | model sequence ({root.run_id}): the model must start its run from the config it is given")
        check(start.run_id not in chain_ids, f"{api}: the model run reuses run id {start.run_id} of a chain run (one run id per run)")
        end = self._check_ended(recorder, start, f"{api} of prompt | model")
        for event in recorder.of(*_LLM_EVENTS):
            check(event.parent_run_id == root.run_id, f"{api}: {event.name} has parent_run_id {event.parent_run_id}, expected the sequence's {root.run_id}")
        chain_end = [e for e in events if e.name == "on_chain_end" and e.run_id == root.run_id]
        check(len(chain_end) == 1, f"{api}: the sequence fired on_chain_end {len(chain_end)} times")
        i_start, i_end, i_chain_end = events.index(start), events.index(end), events.index(chain_end[0])
        prompt_end = [i for i, e in enumerate(events) if e.name == "on_chain_end" and e.run_id != root.run_id]
        check(prompt_end and prompt_end[0] < i_start, f"{api}: the model run started before the prompt's run ended ({self._recorded(recorder)})")
        check(i_start < i_end < i_chain_end, f"{api}: events out of order, expected on_chat_model_start < on_llm_end < the sequence's "
                                             f"on_chain_end ({self._recorded(recorder)})")
        for token in recorder.of("on_llm_new_token"):
            check(i_start < events.index(token) < i_end, f"{api}: on_llm_new_token fired outside the model run")
        tags = start.kwargs.get("tags") or []
        check("conformance" in tags, f"{api}: the config's tags did not reach on_chat_model_start (tags={tags!r})")
        metadata = start.kwargs.get("metadata") or {}
        check(metadata.get("conformance_suite") == "chat-model", f"{api}: the config's metadata did not reach on_chat_model_start (metadata={metadata!r})")
        reported = text_of(end.args[0].generations[0][0].message) if end.args[0].generations and end.args[0].generations[0] else None
        check(reported == text, f"{api}: the chain returned {short(text)} but on_llm_end reported {short(reported)}")

    # -- metadata ---------------------------------------------------------- #
    @staticmethod
    def _check_usage(where: str, usage: Any) -> None:
        if usage is None:
            return
        check(isinstance(usage, dict), f"{where}: usage_metadata is {type(usage).__name__}, not a dict")
        missing = _USAGE_KEYS - set(usage)
        check(not missing, f"{where}: usage_metadata lacks {', '.join(sorted(missing))} (it has {sorted(usage)})")
        unknown = set(usage) - _USAGE_KEYS - _USAGE_DETAILS
        check(not unknown, f"{where}: usage_metadata has unknown keys {sorted(unknown)}; allowed: {sorted(_USAGE_KEYS | _USAGE_DETAILS)}")
        for key in _USAGE_KEYS:
            value = usage[key]
            check(isinstance(value, int) and not isinstance(value, bool) and value >= 0,
                  f"{where}: usage_metadata[{key!r}] is {value!r}, not an int >= 0")
        check(usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"],
              f"{where}: usage_metadata total_tokens={usage['total_tokens']} is not input_tokens + output_tokens "
              f"({usage['input_tokens']} + {usage['output_tokens']}); when streaming, report usage on one chunk only "
              f"(chunks are added up)")
        for key in _USAGE_DETAILS & set(usage):
            details = usage[key]
            check(isinstance(details, dict) and all(isinstance(k, str) and isinstance(v, int) and v >= 0 for k, v in details.items()),
                  f"{where}: usage_metadata[{key!r}] must map strings to ints >= 0, got {details!r}")

    @staticmethod
    def _check_response_metadata(where: str, metadata: Any) -> None:
        check(isinstance(metadata, dict), f"{where}: response_metadata is {type(metadata).__name__}, not a dict")
        check(all(isinstance(k, str) for k in metadata), f"{where}: response_metadata has non-string keys {list(metadata)!r}")
        try:
            json.dumps(metadata)
        except (TypeError, ValueError) as e:
            fail(f"{where}: response_metadata is not JSON-serialisable ({e}): keep it to strings, numbers, lists and dicts")
        if "model_name" in metadata:
            check(isinstance(metadata["model_name"], str) and metadata["model_name"], f"{where}: response_metadata['model_name'] is {metadata['model_name']!r}")
        if "finish_reason" in metadata:
            check(metadata["finish_reason"] is None or isinstance(metadata["finish_reason"], str),
                  f"{where}: response_metadata['finish_reason'] is {metadata['finish_reason']!r}, not a string")

    def test_usage_and_response_metadata(self, model: Any) -> None:
        """usage_metadata (when given) has int input/output/total tokens that add
        up; response_metadata is a JSON-serialisable dict; also for the stream."""
        message = model.invoke(self.prompt)
        self._check_usage("invoke", message.usage_metadata)
        self._check_response_metadata("invoke", message.response_metadata)
        for api in ("stream", "astream"):
            chunks = self._stream(model, api, self.prompt)
            for i, chunk in enumerate(chunks):
                self._check_usage(f"{api} chunk #{i}", chunk.usage_metadata)
            total = chunks[0] + chunks[1:] if len(chunks) > 1 else chunks[0]
            self._check_usage(f"{api} (chunks added up)", total.usage_metadata)
            self._check_response_metadata(f"{api} (chunks added up)", total.response_metadata)
            if message.usage_metadata is not None and self._streams(model):
                check(total.usage_metadata is not None, f"invoke reports usage_metadata but {api}() does not: report it on one chunk (usually the last)")
                if self.deterministic:
                    check(total.usage_metadata == message.usage_metadata,
                          f"{api}() reports usage {total.usage_metadata} (its chunks added up) but invoke reports "
                          f"{message.usage_metadata} for the same prompt: chunks are added up, so report usage once "
                          f"(on one chunk), not cumulatively on every chunk")

    # -- secrets ----------------------------------------------------------- #
    def _secret_names(self, model: Any) -> list[str]:
        fields = getattr(type(model), "model_fields", {})
        found = [name for name, field in fields.items() if is_secret_annotation(field.annotation)]
        return list(dict.fromkeys([*self.secret_options, *found]))

    def test_secrets_stay_out_of_reprs_and_callbacks(self, model: Any) -> None:
        """A secret option's value is absent from repr(model), str(model), every
        callback event's arguments, astream_events and outputs."""
        from hookchain.prompts import ChatPromptTemplate

        names = self._secret_names(model)
        if not names:
            pytest.skip("the model has no SecretStr option and secret_options is empty")
        options, needles = {}, {}
        for name in names:
            given = secret_value_of(self.model_options.get(name))
            if isinstance(given, str) and len(given) >= 8:
                needles[name] = given
            else:
                options[name] = needles[name] = self.secret_value
        model = self.make_model(**options)
        recorder = RecordingHandler()
        config = self._config(recorder)
        places = {"repr(model)": repr(model), "str(model)": str(model)}
        outputs = [model.invoke(self.prompt, config=config), *model.stream(self.prompt, config=config)]
        outputs.append((ChatPromptTemplate.from_messages([("human", "{text}")]) | model).invoke({"text": self.prompt}, config=config))
        outputs.append(run(model.ainvoke(self.prompt, config=config)))
        events = run(alist(model.astream_events(self.prompt, version="v2")))
        places.update({f"astream_events {e['event']}": repr(e) for e in events})
        places.update({"the outputs": repr(outputs)})
        failing = self._failing_setup(options)
        if failing is not None:
            failing_model, value = failing
            try:
                failing_model.invoke(value, config=config)
            except Exception as e:  # noqa: BLE001 - expected
                places["the raised error"] = repr(e) + " " + str(e)
        places.update(payload_places(recorder.events))
        leaks = describe_leaks(places, needles)
        check(leaks is None, f"{leaks}. Keep secrets in pydantic.SecretStr fields (or Field(repr=False)) and out of "
                             f"_identifying_params, response_metadata and error messages")

    # -- errors ------------------------------------------------------------ #
    def _failing_setup(self, extra: Optional[dict[str, Any]] = None) -> Optional[tuple[Any, Any]]:
        """(model, input) that make the model raise, from the author's settings, or None."""
        if self.failing_model_options is not None:
            value = self.prompt if self.error_input is NOT_SET else self.error_input
            return self.make_model(**{**self.failing_model_options, **(extra or {})}), value
        if self.error_input is not NOT_SET:
            return self.make_model(**(extra or {})), self.error_input
        return None

    def _planted_failure(self, model: Any, monkeypatch: Any) -> None:
        from hookchain.testing.models import ConformanceFailure

        def _generate(self: Any, *args: Any, **kwargs: Any) -> Any:
            raise ConformanceFailure("planted failure in _generate")

        async def _agenerate(self: Any, *args: Any, **kwargs: Any) -> Any:
            raise ConformanceFailure("planted failure in _agenerate")

        def _stream(self: Any, *args: Any, **kwargs: Any) -> Any:
            raise ConformanceFailure("planted failure in _stream")
            yield  # a generator, like a real _stream

        async def _astream(self: Any, *args: Any, **kwargs: Any) -> Any:
            raise ConformanceFailure("planted failure in _astream")
            yield  # an async generator, like a real _astream

        cls = type(model)
        monkeypatch.setattr(cls, "_generate", _generate)
        for name, fn in (("_agenerate", _agenerate), ("_stream", _stream), ("_astream", _astream)):
            if _overrides(model, name):
                monkeypatch.setattr(cls, name, fn)

    @pytest.mark.parametrize("api", ["invoke", "ainvoke", "stream", "astream"])
    def test_errors_surface_as_on_llm_error(self, monkeypatch: Any, api: str) -> None:
        """A failing call fires on_llm_error (same run id as its start, no
        on_llm_end), then raises the very same exception."""
        setup = self._failing_setup()
        if setup is None:
            model, value = self.make_model(), self.prompt
            self._planted_failure(model, monkeypatch)
            how = "with _generate/_stream patched to raise"
        else:
            model, value = setup
            how = "with error_input" if self.failing_model_options is None else "with failing_model_options"
        recorder = RecordingHandler()
        config = self._config(recorder)
        try:
            if api == "invoke":
                model.invoke(value, config=config)
            elif api == "ainvoke":
                run(model.ainvoke(value, config=config))
            else:
                self._stream(model, api, value, config=config)
        except Exception as e:  # noqa: BLE001 - the point
            raised: BaseException = e
        else:
            fail(f"{api} {how} did not raise ({self._recorded(recorder)}): set error_input or failing_model_options "
                 f"to something that makes your model fail, and let the error propagate")
        start = self._one_run(recorder, f"failing {api}")
        errors = recorder.of("on_llm_error")
        check(len(errors) == 1, f"{api} raised {type(raised).__name__}: {short(str(raised), quote=False)} but on_llm_error fired {len(errors)} times "
                                f"(expected once, before the exception propagates)")
        check(errors[0].run_id == start.run_id, f"{api}: on_llm_error has run_id {errors[0].run_id}, not the run's {start.run_id}")
        check(errors[0].args[0] is raised, f"{api}: on_llm_error got {short(errors[0].args[0])} but {api} raised {short(raised)}: "
                                           f"the original exception must propagate unchanged after on_llm_error")
        check(not recorder.of("on_llm_end"), f"{api} fired on_llm_end for a run that failed")
        check(recorder.events.index(start) < recorder.events.index(errors[0]), f"{api}: on_llm_error fired before on_chat_model_start")
