"""``ChatOpenAI``: a hookchain chat model for OpenAI and OpenAI-compatible servers.

Built on the official ``openai`` SDK (sync ``OpenAI`` and native async
``AsyncOpenAI`` clients, created on first use and kept by the model instance;
the async client is per event loop, because an ``httpx.AsyncClient`` cannot
outlive the loop it was used on). The SDK's own retries are off
(``max_retries=0``): the model retries itself with tenacity, so that every
retry reaches the run's handlers as ``on_retry(retry_state)``.

Nothing here fires ``on_llm_new_token``: ``_stream``/``_astream`` yield
``ChatGenerationChunk``s and hookchain's ``BaseChatModel`` fires the event for
each one.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import random
import re
import threading
import weakref
from typing import Any, AsyncIterator, Awaitable, Callable, Iterator, Optional, Sequence
from urllib.parse import unquote, urlsplit, urlunsplit

from pydantic import AliasChoices, Field, PrivateAttr, SecretStr, field_serializer, field_validator

from hookchain.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from hookchain.language_models import BaseChatModel
from hookchain.messages import BaseMessage
from hookchain.outputs import ChatGenerationChunk, ChatResult
from hookchain.plugins import lazy_import
from hookchain.runnables import Runnable
from hookchain.utils.function_calling import convert_to_openai_tool

from hookchain_openai import errors
from hookchain_openai.convert import StreamState, messages_to_openai, result_from_completion
from hookchain_openai.structured import structured_output_runnable, tool_choice_to_openai

__all__ = ["ChatOpenAI", "DEFAULT_BASE_URL"]

logger = logging.getLogger("hookchain_openai")

# The SDK, httpx and tenacity load when a model first talks to a server, not
# when hookchain discovers this plugin (they cost ~0.5 s to import).
httpx = lazy_import("httpx")
openai = lazy_import("openai")
tenacity = lazy_import("tenacity")

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_NO_KEY = "EMPTY"  # sent when no key is configured (what vLLM's docs use); local servers ignore it
_END = object()
_client_lock = threading.Lock()
_HIDDEN = "**********"  # what a hidden value looks like (as pydantic shows a SecretStr)
_MAX_SERVER_MESSAGE = 500  # characters of a server's error message kept in our errors
_MODEL_MISSING = re.compile(
    r"model_not_found|(invalid|unknown) model|model\b.*\b(not (found|exist|available|served)|does not exist|unknown)",
    re.IGNORECASE,
)


def _safe_url(url: str) -> str:
    """``url`` without user:password, without a trailing slash."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts).rstrip("/")


def _url_secrets(url: str) -> list[str]:
    """The password of ``url``'s user:password, as written, decoded, and as the
    ``Basic`` credentials httpx builds from it."""
    parts = urlsplit(url)
    if not parts.password:
        return []
    user, password = unquote(parts.username or ""), unquote(parts.password)
    return [parts.password, password, base64.b64encode(f"{user}:{password}".encode()).decode()]


class ChatOpenAI(BaseChatModel):
    """Chat model for any server speaking OpenAI's ``/v1/chat/completions``:
    OpenAI itself, vLLM, Ollama, llama.cpp's ``llama-server``, LiteLLM, LM Studio...

    Options are the pydantic fields below: keyword arguments, a config file's
    ``[models.openai]`` table, or ``-o KEY=VALUE`` on the command line.

    Example:
        model = ChatOpenAI(base_url="http://localhost:11434/v1", model="llama3.2")
        model.invoke("hello").content
    """

    base_url: str = Field(default_factory=lambda: os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL,
                          validation_alias=AliasChoices("base_url", "openai_api_base"))
    """API root, usually ending in ``/v1`` (default: ``$OPENAI_BASE_URL``, else OpenAI's).
    A ``user:password@`` in it is used but never shown (reprs, dumps, errors, handlers)."""
    model: str = Field(default="gpt-4o-mini", validation_alias=AliasChoices("model", "model_name"))
    """The model name the server knows. LangChain's ``ChatOpenAI`` spellings are accepted
    too: ``model_name``, ``openai_api_key``, ``openai_api_base``, ``openai_organization``,
    ``request_timeout``, ``stop_sequences``."""
    api_key: Optional[SecretStr] = Field(default=None, validation_alias=AliasChoices("api_key", "openai_api_key"))
    """API key (default: ``$OPENAI_API_KEY``; local servers usually need none). Never shown."""
    organization: Optional[str] = Field(default=None, validation_alias=AliasChoices("organization", "openai_organization"))
    """OpenAI organization id (default: ``$OPENAI_ORG_ID``)."""
    temperature: Optional[float] = Field(default=None, ge=0)
    max_tokens: Optional[int] = Field(default=None, ge=1)
    """Upper bound on generated tokens."""
    top_p: Optional[float] = Field(default=None, ge=0, le=1)
    frequency_penalty: Optional[float] = None
    presence_penalty: Optional[float] = None
    seed: Optional[int] = None
    stop: Optional[list[str]] = Field(default=None, validation_alias=AliasChoices("stop", "stop_sequences"))
    """Default stop sequences (a call's ``stop`` replaces them). The server cuts
    the answer before the sequence, which is therefore not in the output."""
    timeout: Optional[float] = Field(default=None, gt=0, validation_alias=AliasChoices("timeout", "request_timeout"))
    """Seconds to wait for the server (default: the SDK's 600 s)."""
    max_retries: int = Field(default=2, ge=0)
    """Retries after a connection error, timeout, 408/409/429 or 5xx (a stream: only before its first chunk)."""
    retry_backoff: float = Field(default=1.0, ge=0)
    """Seconds before the first retry; doubled for each next one (at most 30 s, plus
    up to 25% jitter). A longer ``Retry-After`` from the server wins (at most 60 s)."""
    stream_usage: bool = True
    """Ask for token usage at the end of a stream (``stream_options.include_usage``)."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Other request parameters, sent as they are (e.g. ``{"response_format": {...}}``)."""
    extra_body: Optional[dict[str, Any]] = None
    """Server-specific JSON fields (e.g. vLLM's ``{"top_k": 20}``)."""
    default_headers: Optional[dict[str, str]] = Field(default=None, repr=False)
    """Extra HTTP headers on every request. Their values are secrets like the key:
    not in reprs or handlers' payloads, ``***`` in errors, ``**********`` in ``model_dump``."""
    http_client: Optional[Any] = Field(default=None, repr=False, exclude=True)
    """An ``httpx.Client`` for the sync client (proxies, custom TLS, tests)."""
    http_async_client: Optional[Any] = Field(default=None, repr=False, exclude=True)
    """An ``httpx.AsyncClient`` for the async client."""

    _key_source: str = PrivateAttr(default="the api_key option (given in code, with -o api_key=... or in a config file)")
    _client: Any = PrivateAttr(default=None)
    _async_clients: Any = PrivateAttr(default=None)

    # -- validation ----------------------------------------------------------- #
    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, e.g. http://localhost:8000/v1; got {_safe_url(value)!r}")
        return value.rstrip("/")

    @field_validator("stop", mode="before")
    @classmethod
    def _one_stop(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_serializer("base_url")
    def _dump_base_url(self, value: str) -> str:
        return _safe_url(value)

    @field_serializer("default_headers")
    def _dump_headers(self, value: Optional[dict[str, str]]) -> Optional[dict[str, str]]:
        return {name: _HIDDEN for name in value} if value is not None else None

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            yield name, _safe_url(value) if name == "base_url" else value

    def model_post_init(self, context: Any) -> None:
        super().model_post_init(context)
        if self.api_key is not None and not self.api_key.get_secret_value():
            self.api_key = None  # `-o api_key=` means no key
        if self.api_key is None:
            env = os.environ.get("OPENAI_API_KEY")
            if env:
                self.api_key = SecretStr(env)
                self._key_source = "the OPENAI_API_KEY environment variable"
            else:
                self._key_source = "nowhere: no api_key option was given and OPENAI_API_KEY is not set"

    # -- what hookchain asks of a model --------------------------------------- #
    @property
    def _llm_type(self) -> str:
        return "openai-chat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        # Reported to handlers as invocation_params (and part of a response
        # cache's key): never the key, the headers or the clients.
        params: dict[str, Any] = {"model_name": self.model, "base_url": _safe_url(self.base_url)}
        for name in ("temperature", "max_tokens", "top_p", "frequency_penalty", "presence_penalty", "seed", "stop", "timeout"):
            value = getattr(self, name)
            if value is not None:
                params[name] = value
        params["max_retries"] = self.max_retries
        params.update(self.model_kwargs)  # as LangChain's ChatOpenAI reports them
        if self.extra_body:
            params["extra_body"] = self.extra_body
        return params

    # -- tools and structured output ------------------------------------------ #
    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Any = None, strict: Optional[bool] = None,
                   parallel_tool_calls: Optional[bool] = None, **kwargs: Any) -> Runnable:
        """This model with ``tools`` sent on every request, as langchain-openai's
        ``ChatOpenAI.bind_tools``.

        Args:
            tools: anything ``hookchain.utils.function_calling.convert_to_openai_tool``
                takes: ``@tool``s and ``BaseTool``s, functions, pydantic models,
                ``TypedDict`` classes, JSON schemas with a ``title``, OpenAI tool dicts.
            tool_choice: a bound tool's name (the model must call it), ``"auto"``,
                ``"none"``, ``"required"`` or ``"any"``/``True`` (some tool), or
                an OpenAI ``tool_choice`` dict; ``None``/``False``: the server decides.
            strict: ``True``/``False`` sets each tool's ``strict`` (OpenAI then
                holds the arguments to the schema); ``None`` leaves it out.
            parallel_tool_calls: ``False`` asks for one tool call per answer.
            **kwargs: other request parameters to bind.

        Returns:
            ``self.bind(tools=[...], tool_choice=...)``: its answers carry
            ``tool_calls`` (``invalid_tool_calls`` for arguments that are not a
            JSON object) and, streamed, ``tool_call_chunks``.

        Raises:
            ValueError: a tool cannot be converted, or ``tool_choice`` is a
                string that is neither a bound tool's name nor one of the four
                keywords (langchain-openai would send it to the server).
        """
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        formatted = [convert_to_openai_tool(tool, strict=strict) for tool in tools]
        if tool_choice:
            kwargs["tool_choice"] = tool_choice_to_openai(tool_choice, formatted)
        return self.bind(tools=formatted, **kwargs)

    def with_structured_output(self, schema: Any = None, *, method: str = "json_schema", include_raw: bool = False,
                               strict: Optional[bool] = None, tools: Optional[list] = None, **kwargs: Any) -> Runnable:
        """A runnable answering with ``schema``-shaped objects, as langchain-openai's
        ``ChatOpenAI.with_structured_output``.

        Args:
            schema: a pydantic model class (answers are validated instances), or a
                ``TypedDict`` class, a JSON schema with a ``title``, an OpenAI
                function/tool dict or a ``response_format`` dict (answers are
                plain dicts). May be ``None`` with ``method="json_mode"``.
            method: ``"json_schema"`` (default): OpenAI's structured outputs,
                ``response_format={"type": "json_schema", ...}``;
                ``"function_calling"``: the schema bound as the one tool the model
                must call (``parallel_tool_calls=False``); ``"json_mode"``:
                ``response_format={"type": "json_object"}`` (say in the prompt what
                JSON you want). A pydantic v1 model, or a ``gpt-3*``/``gpt-4``
                model, switches ``json_schema`` to ``function_calling`` with a warning.
            include_raw: answer ``{"raw": AIMessage, "parsed": object or None,
                "parsing_error": exception or None}`` instead of raising.
            strict: ``json_schema``/``function_calling``: the schema's ``strict``
                flag (``None``: left out; ``json_schema`` then sends ``False``).
            tools: with ``json_schema`` only: tools the model may call instead of
                answering (``parsed`` is then ``None``).
            **kwargs: other request parameters to bind.

        Raises:
            ValueError: an unknown ``method``, ``strict`` with ``json_mode``, no
                ``schema`` for the other methods, ``tools`` without ``json_schema``.

        Answers that do not parse raise ``OutputParserException`` (a pydantic
        ``ValidationError`` for tool arguments, as LangChain's tool parsers);
        a refusal raises ``hookchain_openai.errors.OpenAIRefusalError``. Streamed,
        dict answers grow as partial objects; pydantic ones arrive whole (as
        langchain-openai), except with ``json_mode``.
        """
        return structured_output_runnable(self, schema, method=method, include_raw=include_raw, strict=strict,
                                          tools=tools, **kwargs)

    # -- clients -------------------------------------------------------------- #
    def _client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "api_key": self.api_key.get_secret_value() if self.api_key is not None else _NO_KEY,
            "base_url": self.base_url,
            "max_retries": 0,  # retried here, with on_retry events
        }
        if self.organization is not None:
            kwargs["organization"] = self.organization
        if self.timeout is not None:
            kwargs["timeout"] = self.timeout
        if self.default_headers:
            kwargs["default_headers"] = dict(self.default_headers)
        return kwargs

    def _client_key(self) -> tuple:
        # What the clients are built from: a copy of the model with another
        # base_url, key... (model_copy(update=...)) must not reuse them.
        headers = tuple(sorted(self.default_headers.items())) if self.default_headers else ()
        key = self.api_key.get_secret_value() if self.api_key is not None else None
        return (self.base_url, key, self.organization, self.timeout, headers)

    def _sync_client(self) -> openai.OpenAI:
        key = (self._client_key(), id(self.http_client))
        cached = self._client
        if cached is None or cached[0] != key:
            with _client_lock:
                cached = self._client
                if cached is None or cached[0] != key:
                    cached = self._client = (key, openai.OpenAI(**self._client_kwargs(), http_client=self.http_client))
        return cached[1]

    def _async_client(self) -> openai.AsyncOpenAI:
        key = (self._client_key(), id(self.http_async_client))
        loop = asyncio.get_running_loop()
        with _client_lock:
            if self._async_clients is None:
                self._async_clients = weakref.WeakKeyDictionary()
            cached = self._async_clients.get(loop)
            if cached is None or cached[0] != key:
                cached = (key, openai.AsyncOpenAI(**self._client_kwargs(), http_client=self.http_async_client))
                self._async_clients[loop] = cached
        return cached[1]

    # -- request -------------------------------------------------------------- #
    def _params(self, messages: list[BaseMessage], stop: Optional[list[str]], kwargs: dict[str, Any], stream: bool) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.model, "messages": messages_to_openai(messages)}
        for name in ("temperature", "max_tokens", "top_p", "frequency_penalty", "presence_penalty", "seed"):
            value = getattr(self, name)
            if value is not None:
                params[name] = value
        stop = [stop] if isinstance(stop, str) else stop
        stop = stop if stop is not None else self.stop
        if stop:
            params["stop"] = list(stop)
        params.update(self.model_kwargs)
        if self.extra_body:
            params["extra_body"] = dict(self.extra_body)
        params.update(kwargs)
        if stream:
            params["stream"] = True
            if self.stream_usage:
                params.setdefault("stream_options", {"include_usage": True})
        else:
            params.pop("stream", None)
            params.pop("stream_options", None)
        return params

    # -- errors --------------------------------------------------------------- #
    def _secrets(self) -> list[str]:
        """Every secret the model holds (the API key, each ``default_headers``
        value and its last word, e.g. the token after ``Bearer``, the
        ``base_url`` password), longest first; values under 4 characters are
        left (replacing them would garble the message, not hide anything)."""
        values = [self.api_key.get_secret_value()] if self.api_key is not None else []
        for value in (self.default_headers or {}).values():
            values += [value, *value.split()[-1:]]
        values += _url_secrets(self.base_url)
        return sorted({v for v in values if len(v) >= 4}, key=len, reverse=True)

    def _scrub(self, text: str) -> str:
        """``text`` with every secret of ``_secrets`` replaced by ``***``."""
        for secret in self._secrets():
            text = text.replace(secret, "***")
        return text

    def _scrub_value(self, value: Any) -> Any:
        """``_scrub`` on every string inside a JSON value (an error body)."""
        if isinstance(value, str):
            return self._scrub(value)
        if isinstance(value, dict):
            return {k: self._scrub_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._scrub_value(v) for v in value]
        return value

    def _server_message(self, e: openai.APIError) -> str:
        """The server's error message on one line, scrubbed, then cut to
        ``_MAX_SERVER_MESSAGE`` characters (in this order: a cut first could
        leave part of a secret that no longer matches in full)."""
        body = e.body
        message: Any = None
        if isinstance(body, dict):
            inner = body.get("error", body)
            message = inner.get("message") or inner.get("detail") if isinstance(inner, dict) else inner
            message = message or body.get("detail") or body.get("message")
        elif isinstance(body, str) and body.strip():
            message = body.strip()
        text = self._scrub(" ".join((str(message) if message else e.message).split()))  # one line, for the CLI
        return text if len(text) <= _MAX_SERVER_MESSAGE else text[:_MAX_SERVER_MESSAGE] + "..."

    @staticmethod
    def _retry_after(response: Optional[httpx.Response]) -> Optional[float]:
        if response is None:
            return None
        for header, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
            value = response.headers.get(header)
            if value:
                try:
                    return max(0.0, float(value) / scale)
                except ValueError:
                    continue  # an HTTP date: ignored, the backoff applies
        return None

    def _translate(self, e: BaseException, chunks: Optional[int] = None) -> Optional[errors.OpenAICompatError]:
        """The plugin error for an SDK/httpx error, or ``None`` for anything else.
        ``chunks``: how many stream chunks arrived before ``e`` (streams only)."""
        url = _safe_url(self.base_url)
        if isinstance(e, errors.OpenAICompatError):
            return e
        if chunks is not None and isinstance(e, (httpx.TransportError, openai.APIConnectionError)):
            return errors.StreamInterruptedError(
                self._scrub(f"the connection to {url} broke after {chunks} chunk(s) of the answer from model "
                            f"{self.model!r}: {type(e).__name__}: {e}"),
                retryable=chunks == 0)
        if isinstance(e, (openai.APITimeoutError, httpx.TimeoutException)):
            limit = f"{self.timeout:g} s" if self.timeout is not None else "the SDK's default of 600 s"
            return errors.RequestTimeoutError(f"the server at {url} did not answer within {limit} (the timeout option)")
        if isinstance(e, (openai.APIConnectionError, httpx.TransportError)):
            cause = e.__cause__ or e.__context__ or e
            return errors.ServerUnreachableError(self._scrub(
                f"cannot reach the OpenAI-compatible server at {url} ({type(cause).__name__}: {cause}); "
                f"is it running, and is base_url right (the API root, usually ending in /v1)?"))
        if isinstance(e, openai.APIStatusError):
            return self._status_error(e, url)
        if isinstance(e, openai.APIError):  # an error event inside a stream
            return errors.ServerError(
                self._scrub(f"the server at {url} reported an error during the stream for model {self.model!r}: {self._server_message(e)}"),
                body=None, retryable=not chunks)
        if isinstance(e, (json.JSONDecodeError, UnicodeDecodeError)):
            where = f"after {chunks} chunk(s)" if chunks is not None else "as its response"
            return errors.MalformedResponseError(
                self._scrub(f"the server at {url} sent something that is not JSON {where} ({e}); "
                            f"is base_url an OpenAI-compatible API?"))
        if isinstance(e, openai.OpenAIError):
            return errors.OpenAICompatError(self._scrub(f"OpenAI SDK error for {url}: {e}"))
        return None

    def _status_error(self, e: openai.APIStatusError, url: str) -> errors.OpenAICompatError:
        status = e.status_code
        detail = self._server_message(e)
        body = self._scrub_value(e.body) if isinstance(e.body, (dict, str)) else None
        kw: dict[str, Any] = {"status_code": status, "body": body, "retry_after": self._retry_after(e.response)}
        if status == 401:
            if self.api_key is None:
                hint = ("No API key was given: set OPENAI_API_KEY, or pass api_key "
                        "(-o api_key=..., [models.openai] api_key in the config file)")
            else:
                hint = f"The key came from {self._key_source}; check it there (it is not shown)"
            return errors.AuthenticationError(f"the server at {url} rejected the API key (401 Unauthorized): {detail}. {hint}", **kw)
        if status == 403:
            return errors.PermissionDeniedError(
                f"the server at {url} refused the request for model {self.model!r} (403 Forbidden): {detail}. "
                f"The API key (from {self._key_source}) is valid but not allowed to do this", **kw)
        if status == 404 or (status in (400, 422) and _MODEL_MISSING.search(detail)):
            return errors.ModelNotFoundError(
                f"model {self.model!r} was not found at {url} ({status}): {detail}. Check the model name "
                f"(GET {url}/models lists what the server serves) and that base_url is the API root", **kw)
        if status == 408:
            return errors.RequestTimeoutError(f"the server at {url} timed out the request (408): {detail}", **kw)
        if status == 429:
            return errors.RateLimitError(f"the server at {url} is rate limiting model {self.model!r} (429): {detail}", **kw)
        if status >= 500 or status == 409:
            return errors.ServerError(f"the server at {url} failed on model {self.model!r} ({status}): {detail}", **kw)
        return errors.BadRequestError(f"the server at {url} rejected the request for model {self.model!r} ({status}): {detail}", **kw)

    def _malformed(self, e: errors.MalformedResponseError, what: str) -> errors.MalformedResponseError:
        return errors.MalformedResponseError(
            self._scrub(f"the server at {_safe_url(self.base_url)} sent a malformed {what} for model {self.model!r}: {e}"))

    def _as_dict(self, obj: Any, what: str) -> Any:
        if isinstance(obj, dict):
            return obj
        to_dict = getattr(obj, "to_dict", None)
        if to_dict is not None:
            return to_dict()
        shown = obj if not isinstance(obj, str) or len(obj) <= 200 else obj[:200] + "..."
        raise self._malformed(errors.MalformedResponseError(f"expected a JSON object, got {shown!r}"), what)

    def _result(self, response: Any) -> ChatResult:
        data = self._as_dict(response, "response")
        try:
            return result_from_completion(data)
        except errors.MalformedResponseError as e:
            raise self._malformed(e, "response") from None

    def _convert(self, state: StreamState, item: Any) -> Optional[ChatGenerationChunk]:
        data = self._as_dict(item, "stream chunk")
        try:
            return state.convert(data)
        except errors.MalformedResponseError as e:
            raise self._malformed(e, "stream chunk") from None

    def _call(self, fn: Callable[[], Any], chunks: Optional[int] = None) -> Any:
        """``fn()``, with SDK errors replaced by plugin errors. The SDK error is
        not chained (its request carries the key in a header)."""
        try:
            return fn()
        except Exception as e:  # noqa: BLE001 - translated or re-raised below
            error = self._translate(e, chunks)
            if error is None:
                raise
        raise error

    async def _acall(self, fn: Callable[[], Any], chunks: Optional[int] = None) -> Any:
        try:
            return await fn()
        except Exception as e:  # noqa: BLE001
            error = self._translate(e, chunks)
            if error is None:
                raise
        raise error

    def _incomplete(self, state: StreamState) -> errors.StreamInterruptedError:
        return errors.StreamInterruptedError(
            f"the stream from {_safe_url(self.base_url)} ended before model {self.model!r} finished "
            f"(no finish_reason after {state.chunks} chunk(s)): the server closed the connection early",
            retryable=state.chunks == 0)

    # -- retries -------------------------------------------------------------- #
    def _wait(self, state: tenacity.RetryCallState) -> float:
        base = min(self.retry_backoff * 2 ** (state.attempt_number - 1), 30.0)
        wait = base + random.uniform(0, base * 0.25)
        error = state.outcome.exception() if state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            wait = max(wait, min(retry_after, 60.0))
        return wait

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        logger.info("%s; retry %d of %d in %.2f s", error, state.attempt_number, self.max_retries,
                    state.upcoming_sleep)

    def _retry_kwargs(self) -> dict[str, Any]:
        return {
            "stop": tenacity.stop_after_attempt(self.max_retries + 1),
            "wait": self._wait,
            "retry": tenacity.retry_if_exception(lambda e: isinstance(e, errors.OpenAICompatError) and e.retryable),
            "reraise": True,
        }

    def _gave_up(self, error: errors.OpenAICompatError, attempts: int) -> None:
        if attempts > 1 and error.retryable:
            error.args = (f"{error} (gave up after {attempts} attempts)", *error.args[1:])

    def _with_retries(self, fn: Callable[[], Any], run_manager: Optional[CallbackManagerForLLMRun]) -> Any:
        def before_sleep(state: tenacity.RetryCallState) -> None:
            self._log_retry(state)
            if run_manager is not None:
                run_manager.on_retry(state)

        retrying = tenacity.Retrying(before_sleep=before_sleep, **self._retry_kwargs())
        try:
            return retrying(fn)
        except errors.OpenAICompatError as e:
            self._gave_up(e, retrying.statistics.get("attempt_number", 1))
            raise

    async def _awith_retries(self, fn: Callable[[], Awaitable[Any]], run_manager: Optional[AsyncCallbackManagerForLLMRun]) -> Any:
        async def before_sleep(state: tenacity.RetryCallState) -> None:
            self._log_retry(state)
            if run_manager is not None:
                await run_manager.on_retry(state)

        retrying = tenacity.AsyncRetrying(before_sleep=before_sleep, **self._retry_kwargs())
        try:
            return await retrying(fn)
        except errors.OpenAICompatError as e:
            self._gave_up(e, retrying.statistics.get("attempt_number", 1))
            raise

    # -- sync ----------------------------------------------------------------- #
    def _generate(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
                  run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any) -> ChatResult:
        params = self._params(messages, stop, kwargs, stream=False)
        client = self._sync_client()
        response = self._with_retries(lambda: self._call(lambda: client.chat.completions.create(**params)), run_manager)
        return self._result(response)

    def _open_stream(self, client: openai.OpenAI, params: dict[str, Any]) -> tuple[Any, Iterator[Any], Any]:
        stream = self._call(lambda: client.chat.completions.create(**params))
        it = iter(stream)
        try:
            first = self._call(lambda: next(it, _END), chunks=0)
        except BaseException:
            stream.close()
            raise
        if first is _END:
            stream.close()
            raise self._incomplete(StreamState())
        return stream, it, first

    def _stream(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
                run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        params = self._params(messages, stop, kwargs, stream=True)
        client = self._sync_client()
        # Retried only until the first chunk arrives: after that, part of the
        # answer has reached the caller and handlers.
        stream, it, item = self._with_retries(lambda: self._open_stream(client, params), run_manager)
        state = StreamState()
        try:
            while item is not _END:
                chunk = self._convert(state, item)
                if chunk is not None:
                    yield chunk
                item = self._call(lambda: next(it, _END), chunks=state.chunks)
            if state.finish_reason is None:
                raise self._incomplete(state)
        finally:
            stream.close()

    # -- async ---------------------------------------------------------------- #
    async def _agenerate(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
                         run_manager: Optional[AsyncCallbackManagerForLLMRun] = None, **kwargs: Any) -> ChatResult:
        params = self._params(messages, stop, kwargs, stream=False)
        client = self._async_client()
        async def attempt() -> Any:
            return await self._acall(lambda: client.chat.completions.create(**params))

        response = await self._awith_retries(attempt, run_manager)
        return self._result(response)

    async def _aopen_stream(self, client: openai.AsyncOpenAI, params: dict[str, Any]) -> tuple[Any, Any, Any]:
        stream = await self._acall(lambda: client.chat.completions.create(**params))
        it = stream.__aiter__()
        try:
            first = await self._acall(lambda: _anext(it), chunks=0)
        except BaseException:
            await stream.close()
            raise
        if first is _END:
            await stream.close()
            raise self._incomplete(StreamState())
        return stream, it, first

    async def _astream(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
                       run_manager: Optional[AsyncCallbackManagerForLLMRun] = None, **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        params = self._params(messages, stop, kwargs, stream=True)
        client = self._async_client()
        async def attempt() -> Any:
            return await self._aopen_stream(client, params)

        stream, it, item = await self._awith_retries(attempt, run_manager)
        state = StreamState()
        try:
            while item is not _END:
                chunk = self._convert(state, item)
                if chunk is not None:
                    yield chunk
                item = await self._acall(lambda: _anext(it), chunks=state.chunks)
            if state.finish_reason is None:
                raise self._incomplete(state)
        finally:
            await stream.close()


async def _anext(it: Any) -> Any:
    try:
        return await it.__anext__()
    except StopAsyncIteration:
        return _END

