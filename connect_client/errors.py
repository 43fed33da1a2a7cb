"""The errors of a call to Amazon Connect, sorted by what the caller can do
about them: retry later (`RetryableError`) or not (`PermanentError`).

boto3 (or, for the participant calls, connect_client/participant_http.py) has
already retried throttles, 5xx answers and connection errors by the time one of
these is raised, so a `RetryableError` means "back off for longer and try
again", not "try again at once".

    >>> try:
    ...     participant.connect(participant_token)
    ... except ChatEnded:
    ...     hand_back_to_bot()
    ... except RetryableError:
    ...     retry_later()
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, ParamValidationError
from botocore.exceptions import ConnectionError as EndpointUnreachable

_THROTTLES = {"ThrottlingException", "TooManyRequestsException", "LimitExceededException"}
_NOT_FOUND = {"ResourceNotFoundException", "ContactNotFoundException"}
# How Connect words a refusal of content that is too big ("Member must have length less than
# or equal to 16384", "Content is 20000 bytes long", "message size exceeds ...").
_ABOUT_SIZE = re.compile(r"(?i)\b(length|too long|too large|size|bytes)\b")


class ConnectError(Exception):
    """A call to Amazon Connect failed. `operation` is the API name (SendMessage),
    `code` the error name Connect gave (ThrottlingException) or what went
    wrong on our side (EndpointConnectionError); the message never carries a
    token."""

    retryable = False

    def __init__(self, operation: str, code: str, message: str) -> None:
        super().__init__(f"{operation} failed: {code}: {message}")
        self.operation = operation
        self.code = code
        self.detail = message


class RetryableError(ConnectError):
    """Throttled, a 5xx answer, or Connect could not be reached: a later retry can help."""

    retryable = True


class Throttled(RetryableError):
    """ThrottlingException (or a quota answered with 429): slow down."""


class PermanentError(ConnectError):
    """The same call will fail again: fix the request, the token or the configuration."""


class AccessDenied(PermanentError):
    """403: the token or the credentials do not allow this call (any more)."""


class ChatEnded(AccessDenied):
    """CreateParticipantConnection answered 403: the chat is over and no new
    connection will be given for it."""


class CredentialsRefused(PermanentError):
    """The credentials to sign the call with could not be had: the cross-account role the worker's
    `Secret` names was not assumed (STS refused it, the vault holds no such secret, the reference
    is not a role's). `operation` is the step that failed (AssumeRole), `detail` says which
    permission or trust is missing; it never holds a credential. The call never left."""


class NotFound(PermanentError):
    """The instance, flow, queue or contact does not exist (or no longer)."""


class InvalidRequest(PermanentError):
    """Connect (or botocore's own check of the model) refused the request's fields."""


class ContentTooLong(InvalidRequest):
    """SendMessage refused the content as too long (a ValidationException about
    its length, from a Connect or channel whose limit is lower than ours): send
    it again in smaller pieces."""


class MessageTooLong(ContentTooLong):
    """A message is longer than the configured limit in UTF-8 bytes; it was not
    sent. Split it with `split_message` or refuse it upstream."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__("SendMessage", "MessageTooLong", f"content is {size} bytes in UTF-8, the limit is {limit}")
        self.size = size
        self.limit = limit


@contextlib.contextmanager
def translated_errors(operation: str, access_denied: type[AccessDenied] = AccessDenied) -> Iterator[None]:
    """Turn botocore's exceptions raised inside the block into ConnectErrors.
    `access_denied` is the class a 403 becomes (ChatEnded for CreateParticipantConnection)."""
    try:
        yield
    except ClientError as error:
        raise _from_client_error(operation, error, access_denied) from error
    except ParamValidationError as error:
        raise InvalidRequest(operation, "ParamValidationError", str(error)) from error
    except (EndpointUnreachable, HTTPClientError) as error:
        # Connection refused, reset, timeouts: the endpoint may come back.
        raise RetryableError(operation, type(error).__name__, str(error)) from error
    except BotoCoreError as error:
        raise PermanentError(operation, type(error).__name__, str(error)) from error


def _from_client_error(operation: str, error: ClientError, access_denied: type[AccessDenied]) -> ConnectError:
    details = error.response.get("Error", {})
    code = str(details.get("Code", "Unknown"))
    message = str(details.get("Message", ""))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    return error_of_answer(operation, status, code, message, access_denied)


def error_of_answer(
    operation: str, status: int, code: str, message: str, access_denied: type[AccessDenied] = AccessDenied
) -> ConnectError:
    """The error an answer with `status` and Connect's error `code` and `message` is, whoever read it
    (botocore, or the participant calls' own transport)."""
    if code in _THROTTLES or status == 429:
        return Throttled(operation, code, message)
    if status >= 500:
        return RetryableError(operation, code, message)
    if code == "AccessDeniedException" or status == 403:
        return access_denied(operation, code, message)
    if code in _NOT_FOUND or status in (404, 410):
        return NotFound(operation, code, message)
    if operation == "SendMessage" and code == "ValidationException" and _ABOUT_SIZE.search(message):
        return ContentTooLong(operation, code, message)
    if 400 <= status < 500:
        return InvalidRequest(operation, code, message)
    return PermanentError(operation, code, message)
