"""The hookchain plugin contract: every hook a plugin may implement.

This module is the documentation of record. Three families of hooks live here:

* **Registration hooks** (``register_models``, ``register_handlers``): called once,
  when hookchain first needs its plugins, so that an installed distribution can
  add chat models and callback handlers by name. Implement them with
  ``@hookchain.hookimpl`` in the module your ``hookchain`` entry point names.
* **Callback events** (``on_llm_start`` ... ``on_custom_event``): the full event
  set of LangChain's ``BaseCallbackHandler``, with the same names and argument
  names. ``hookchain.callbacks.BaseCallbackHandler`` mirrors these specs method
  by method (a test holds them equal), so a handler subclass implements exactly
  the methods below. Events are delivered to handler *objects* (constructor,
  runtime and config-enabled handlers) by hookchain's dispatcher, which passes
  LangChain's keyword arguments (``run_id``, ``parent_run_id``, ``tags``,
  ``metadata``, ``name`` ...) through ``**kwargs`` as LangChain does. pluggy's own
  call loop cannot do that (it passes only the arguments an implementation
  names), which is why events do not go through ``pm.hook``.
* **Chat-model hooks** (``chat_model_start``, ``chat_model_cached``,
  ``chat_model_chunk``, ``chat_model_end``, ``chat_model_error``): called
  around every chat model call (invoke, batch, stream and their async forms)
  by *enabled* plugin objects: a handler whose methods are marked
  ``@hookchain.hookimpl`` joins them when it is enabled (config
  ``[handlers.NAME]`` or ``hookchain.callbacks.enable_handler``). Installed but
  not enabled, it does nothing; with none enabled a model call makes no hook
  call at all. The hooks are plain functions, the same for sync and async
  calls, and run on the calling thread: keep them quick (no network I/O).

Every event receives ``run_id`` (``uuid.UUID``) and ``parent_run_id``
(``uuid.UUID | None``, ``None`` for a root run); start events also receive
``tags`` (``list[str]``) and ``metadata`` (``dict[str, Any]``), inherited from
the parent run as in LangChain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, Union

import pluggy

if TYPE_CHECKING:
    from uuid import UUID

    from hookchain.messages import BaseMessage
    from hookchain.outputs import ChatGenerationChunk, GenerationChunk, LLMResult

PROJECT_NAME = "hookchain"
#: Entry-point group under which plugin distributions register their module.
ENTRY_POINT_GROUP = "hookchain"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

RegisterFn = Callable[[str, Callable[..., Any]], None]


def _event(ignore_flag: Optional[str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a callback-event hookspec; ``ignore_flag`` names the handler property
    (e.g. ``"ignore_llm"``) that mutes the event, or ``None``."""

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.hookchain_ignore_flag = ignore_flag  # type: ignore[attr-defined]
        return hookspec(fn)

    return mark


# --------------------------------------------------------------------------- #
# Registration hooks
# --------------------------------------------------------------------------- #


@hookspec
def register_models(register: RegisterFn) -> None:
    """Add chat models by name.

    Called once per process, the first time a model or plugin listing is needed.

    Args:
        register: ``register(name: str, factory)``. ``factory`` is a
            ``hookchain.language_models.BaseChatModel`` subclass, or a callable
            returning an instance of one. Options from config or the CLI's ``-o``
            reach it as keyword arguments; a pydantic model class validates them
            itself, a plain callable may declare ``options_model`` (a pydantic
            model) as an attribute to have them validated first.
    """


@hookspec
def register_handlers(register: RegisterFn) -> None:
    """Add callback handlers by name.

    Called once per process, like ``register_models``. Registered handlers stay
    inert until a config file enables them (``[handlers.NAME]``), the CLI names
    them (``--handler NAME``) or code builds one with ``hookchain.get_handler``.

    Args:
        register: ``register(name: str, factory)``. ``factory`` is a
            ``hookchain.callbacks.BaseCallbackHandler`` subclass or a callable
            returning one; options arrive as keyword arguments, validated against
            the factory's ``options_model`` (a pydantic model) when it has one.
    """


@hookspec
def register_executors(register: RegisterFn) -> None:
    """Add ``hookchain batch`` executors by name (``--executor NAME``).

    Called when a batch runs with an executor other than the built-in
    ``local`` (``hookchain.batch.executors.get_executor``).

    Args:
        register: ``register(name: str, factory)``. ``factory(**options)``
            returns an executor: an object with ``run(spec, rows, on_record)``
            (see ``hookchain.batch.executors.Executor``). Options come from the
            command line (e.g. ``--ray-address``) as keyword arguments.
    """


@hookspec(firstresult=True)
def adapt_callback_handler(handler: Any) -> Any:
    """Stand in for a callback handler of another library.

    Called when ``callbacks=`` (or ``enable_handler``) is given an object that
    is not a hookchain handler, e.g. a ``langchain_core`` ``BaseCallbackHandler``;
    the first implementation returning non-None wins. Only the plugins whose
    index lists this hook are imported for it.

    Args:
        handler: the foreign object, as given.

    Returns:
        a ``hookchain.callbacks.BaseCallbackHandler`` (or ``AsyncCallbackHandler``)
        delivering hookchain's events to ``handler``, equal (``==``) to it so a
        handler given twice runs once; or ``None`` if the plugin does not know it.
    """


@hookspec
def register_commands(cli: Any) -> None:
    """Add subcommands to the ``hookchain`` command line.

    Args:
        cli: the ``click.Group`` of ``hookchain``; add commands with
            ``@cli.command()`` or ``cli.add_command(...)``. Called only when a
            command that is not built in is looked up (or ``--help`` lists
            them), so plugins cost nothing for ``hookchain run``.
    """


# --------------------------------------------------------------------------- #
# Chat-model hooks: change, answer or observe every model call
# --------------------------------------------------------------------------- #
# Which form to use for what:
# * change the request (messages, stop, options): ``chat_model_start``;
# * answer without calling the model (a cache hit): ``chat_model_cached``, a
#   ``firstresult`` hook: the first implementation returning non-None wins;
# * change each streamed chunk: ``chat_model_chunk``; change the final result:
#   ``chat_model_end``;
# * see a failure: ``chat_model_error``.
# Several plugins are ordered by pluggy's ``tryfirst``/``trylast`` (else: last
# enabled runs first). To run *around* the other plugins (e.g. see the result
# after every other plugin changed it), use ``@hookimpl(wrapper=True)`` on the
# same hook: code before ``yield`` runs first, after it runs last. An
# implementation that raises is logged with its plugin's name and skipped,
# unless it is a handler with ``raise_error = True``.


@hookspec
def chat_model_start(call: Any) -> None:
    """A chat model call is about to run (after ``on_chat_model_start``).

    Args:
        call: a ``hookchain.model_hooks.ModelCall``: change ``call.messages``
            (``list[BaseMessage]``), ``call.stop`` (``list[str] | None``) or
            ``call.kwargs`` (extra model options) in place; read ``call.model``,
            ``call.run_id``, ``call.streaming``, ``call.is_async``; report with
            ``call.dispatch_custom_event(name, data)``.
    """


@hookspec(firstresult=True)
def chat_model_cached(call: Any) -> Any:
    """Answer the call without running the model, or return ``None``.

    Return a ``ChatResult`` or a list of ``ChatGenerationChunk`` (the chunks
    are replayed to a stream, with ``on_llm_new_token`` firing for each; for a
    non-streaming call they are merged). ``chat_model_end`` still runs.
    """


@hookspec
def chat_model_chunk(call: Any, chunk: Any) -> None:
    """A streamed ``ChatGenerationChunk`` is about to reach ``on_llm_new_token``
    and the caller; change ``chunk.message`` in place."""


@hookspec
def chat_model_end(call: Any, result: Any) -> None:
    """The call produced ``result`` (a ``ChatResult``; for streams, the merged
    chunks); change ``result.generations[i].message`` in place before it
    reaches ``on_llm_end`` and the caller. ``call.from_cache`` tells whether
    ``chat_model_cached`` answered it."""


@hookspec
def chat_model_error(call: Any, error: BaseException) -> None:
    """The call failed with ``error`` (re-raised after this hook and
    ``on_llm_error``)."""


#: The chat-model hook names, in call order.
CHAT_MODEL_HOOKS = ("chat_model_start", "chat_model_cached", "chat_model_chunk", "chat_model_end", "chat_model_error")


# --------------------------------------------------------------------------- #
# Callback events (as LangChain's BaseCallbackHandler)
# --------------------------------------------------------------------------- #


@_event('ignore_llm')
def on_llm_start(
    serialized: dict[str, Any],
    prompts: list[str],
    *,
    run_id: UUID,
    parent_run_id: Optional[UUID] = None,
    tags: Optional[list[str]] = None,
    metadata: Optional[dict[str, Any]] = None,
    **kwargs: Any,
) -> Any:
    """A text-completion LLM run starts with ``prompts`` (one string per prompt).

    Also called for a chat model run when a handler's ``on_chat_model_start``
    raises ``NotImplementedError``: the messages are then rendered to strings
    ("Human: ...") as LangChain does.
    """


@_event('ignore_chat_model')
def on_chat_model_start(
    serialized: dict[str, Any],
    messages: list[list[BaseMessage]],
    *,
    run_id: UUID,
    parent_run_id: Optional[UUID] = None,
    tags: Optional[list[str]] = None,
    metadata: Optional[dict[str, Any]] = None,
    **kwargs: Any,
) -> Any:
    """A chat model run starts.

    Args:
        serialized: ``{"id": [module path..., class name], "name": str}``.
        messages: one list of messages per prompt (one prompt per run).
        kwargs: ``invocation_params`` (the model's identifying parameters with
            ``_type`` and ``stop``), ``options`` (``{"stop": ...}``), ``name``
            (the run name or ``None``), ``batch_size`` (``int``).
    """


@_event('ignore_llm')
def on_llm_new_token(
    token: str,
    *,
    chunk: Optional[Union[GenerationChunk, ChatGenerationChunk]] = None,
    run_id: UUID,
    parent_run_id: Optional[UUID] = None,
    tags: Optional[list[str]] = None,
    **kwargs: Any,
) -> Any:
    """A model streamed one chunk; ``token`` is its text (``str``, may be empty).

    Fired once per chunk the model's ``_stream``/``_astream`` yields, by the
    framework itself (a model does not call it; as LangChain 1.x).
    """


@_event('ignore_llm')
def on_llm_end(
    response: LLMResult,
    *,
    run_id: UUID,
    parent_run_id: Optional[UUID] = None,
    tags: Optional[list[str]] = None,
    **kwargs: Any,
) -> Any:
    """An LLM or chat model run ended with ``response`` (``generations[0]`` holds
    this run's generations)."""


@_event('ignore_llm')
def on_llm_error(
    error: BaseException,
    *,
    run_id: UUID,
    parent_run_id: Optional[UUID] = None,
    tags: Optional[list[str]] = None,
    **kwargs: Any,
) -> Any:
    """An LLM or chat model run failed with ``error`` (re-raised after the event).
    ``kwargs["response"]`` holds the ``LLMResult`` of what was produced so far."""


@_event('ignore_chain')
def on_chain_start(
    serialized: dict[str, Any],
    inputs: Any,
    *,
    run_id: UUID,
    parent_run_id: Optional[UUID] = None,
    tags: Optional[list[str]] = None,
    metadata: Optional[dict[str, Any]] = None,
    **kwargs: Any,
) -> Any:
    """A chain run (a sequence, a prompt, a lambda, a parallel map) starts.

    ``serialized`` is ``{"id": [...], "name": str}``, never ``None`` (LangChain 1.x
    passes ``None`` for sequences). ``kwargs["name"]`` is the run name and
    ``kwargs["run_type"]`` is ``"prompt"`` for prompt templates.
    """


@_event('ignore_chain')
def on_chain_end(
    outputs: Any,
    *,
    run_id: UUID,
    parent_run_id: Optional[UUID] = None,
    **kwargs: Any,
) -> Any:
    """A chain run ended with ``outputs`` (the runnable's output object)."""


@_event('ignore_chain')
def on_chain_error(
    error: BaseException,
    *,
    run_id: UUID,
    parent_run_id: Optional[UUID] = None,
    **kwargs: Any,
) -> Any:
    """A chain run failed with ``error``; the error then propagates unchanged."""


@_event('ignore_agent')
def on_tool_start(
    serialized: dict[str, Any],
    input_str: str,
    *,
    run_id: UUID,
    parent_run_id: Optional[UUID] = None,
    tags: Optional[list[str]] = None,
    metadata: Optional[dict[str, Any]] = None,
    inputs: Optional[dict[str, Any]] = None,
    **kwargs: Any,
) -> Any:
    """A tool run starts with ``input_str`` (and structured ``inputs`` if any)."""


@_event('ignore_agent')
def on_tool_end(
    output: Any,
    *,
    run_id: UUID,
    parent_run_id: Optional[UUID] = None,
    **kwargs: Any,
) -> Any:
    """A tool run ended with ``output``."""


@_event('ignore_agent')
def on_tool_error(
    error: BaseException,
    *,
    run_id: UUID,
    parent_run_id: Optional[UUID] = None,
    **kwargs: Any,
) -> Any:
    """A tool run failed with ``error``."""


@_event('ignore_retriever')
def on_retriever_start(
    serialized: dict[str, Any],
    query: str,
    *,
    run_id: UUID,
    parent_run_id: Optional[UUID] = None,
    tags: Optional[list[str]] = None,
    metadata: Optional[dict[str, Any]] = None,
    **kwargs: Any,
) -> Any:
    """A retriever run starts with ``query``."""


@_event('ignore_retriever')
def on_retriever_end(
    documents: Sequence[Any],
    *,
    run_id: UUID,
    parent_run_id: Optional[UUID] = None,
    **kwargs: Any,
) -> Any:
    """A retriever run ended with ``documents``."""


@_event('ignore_retriever')
def on_retriever_error(
    error: BaseException,
    *,
    run_id: UUID,
    parent_run_id: Optional[UUID] = None,
    **kwargs: Any,
) -> Any:
    """A retriever run failed with ``error``."""


@_event(None)
def on_text(
    text: str,
    *,
    run_id: UUID,
    parent_run_id: Optional[UUID] = None,
    **kwargs: Any,
) -> Any:
    """A run emitted free ``text`` (as LangChain's ``on_text``)."""


@_event('ignore_retry')
def on_retry(
    retry_state: Any,
    *,
    run_id: UUID,
    parent_run_id: Optional[UUID] = None,
    **kwargs: Any,
) -> Any:
    """A run is retrying; ``retry_state`` describes the attempt (e.g. tenacity's
    ``RetryCallState``)."""


@_event('ignore_agent')
def on_agent_action(
    action: Any,
    *,
    run_id: UUID,
    parent_run_id: Optional[UUID] = None,
    **kwargs: Any,
) -> Any:
    """An agent chose ``action``."""


@_event('ignore_agent')
def on_agent_finish(
    finish: Any,
    *,
    run_id: UUID,
    parent_run_id: Optional[UUID] = None,
    **kwargs: Any,
) -> Any:
    """An agent finished with ``finish``."""


@_event('ignore_custom_event')
def on_custom_event(
    name: str,
    data: Any,
    *,
    run_id: UUID,
    tags: Optional[list[str]] = None,
    metadata: Optional[dict[str, Any]] = None,
    **kwargs: Any,
) -> Any:
    """User code inside a run called ``dispatch_custom_event(name, data)``;
    ``run_id`` is the run the event was dispatched from."""


#: Callback events in declaration order, each mapped to the handler flag that
#: mutes it (LangChain's ``ignore_*`` properties) or ``None``. Derived from the
#: specs above: adding a spec adds the event everywhere.
CALLBACK_EVENTS: dict[str, Optional[str]] = {
    name: fn.hookchain_ignore_flag
    for name, fn in list(globals().items())
    if hasattr(fn, "hookchain_ignore_flag")
}
