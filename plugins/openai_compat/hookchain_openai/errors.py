"""The errors the OpenAI-compatible chat model raises.

Every one is a ``hookchain.errors.HookchainError`` (so ``hookchain run`` prints
it as one line) whose message names what went wrong and where: the server's
``base_url``, the model, where the API key came from. They never carry the
key itself, nor the SDK's request object (whose headers hold it): the SDK
error is translated, not chained.

Attributes common to all of them:
    status_code: the HTTP status, or ``None`` (connection problems, bad streams).
    retryable: whether the plugin retries it (connection errors, timeouts,
        408/409/429/5xx; a stream only before its first chunk).
    retry_after: seconds the server asked to wait (``Retry-After``), or ``None``.
"""

from __future__ import annotations

from typing import Any, Optional

from hookchain.errors import HookchainError

__all__ = [
    "OpenAICompatError", "ServerUnreachableError", "RequestTimeoutError", "AuthenticationError",
    "PermissionDeniedError", "ModelNotFoundError", "RateLimitError", "ServerError",
    "BadRequestError", "MalformedResponseError", "StreamInterruptedError", "OpenAIRefusalError",
]


class OpenAICompatError(HookchainError):
    """Base class of the plugin's errors."""

    retryable = False

    def __init__(self, message: str, *, status_code: Optional[int] = None, retry_after: Optional[float] = None,
                 body: Any = None, retryable: Optional[bool] = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retry_after = retry_after
        self.body = body
        if retryable is not None:
            self.retryable = retryable

    def __reduce__(self) -> Any:  # picklable across processes, keeping the attributes
        return (_rebuild, (type(self), str(self), self.status_code, self.retry_after, self.body, self.retryable))


def _rebuild(cls: type, message: str, status_code: Any, retry_after: Any, body: Any, retryable: bool) -> OpenAICompatError:
    return cls(message, status_code=status_code, retry_after=retry_after, body=body, retryable=retryable)


class ServerUnreachableError(OpenAICompatError, ConnectionError):
    """No connection to ``base_url`` (refused, DNS, TLS, dropped before answering)."""

    retryable = True


class RequestTimeoutError(OpenAICompatError, TimeoutError):
    """The server did not answer within ``timeout`` seconds (or answered 408)."""

    retryable = True


class AuthenticationError(OpenAICompatError, PermissionError):
    """401: the server rejected the API key."""


class PermissionDeniedError(OpenAICompatError, PermissionError):
    """403: the key is valid but may not do this."""


class ModelNotFoundError(OpenAICompatError, LookupError):
    """404 (or a 400 saying so): the server does not serve this model."""


class RateLimitError(OpenAICompatError):
    """429: too many requests or tokens; retried with backoff."""

    retryable = True


class ServerError(OpenAICompatError):
    """5xx, 409, or an error event inside a stream; retried with backoff."""

    retryable = True


class BadRequestError(OpenAICompatError, ValueError):
    """Another 4xx: the server rejected the request (bad option, bad message...)."""


class MalformedResponseError(OpenAICompatError, ValueError):
    """The server answered something that is not an OpenAI chat completion."""


class StreamInterruptedError(OpenAICompatError, ConnectionError):
    """The stream broke or ended before the model finished (no ``finish_reason``).
    Retried only when it happens before the first chunk."""


class OpenAIRefusalError(OpenAICompatError):
    """The model refused to answer in the requested structured-output format
    (the answer's ``refusal`` field), as langchain-openai's ``OpenAIRefusalError``."""
