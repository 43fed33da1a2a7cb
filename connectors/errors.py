"""The one error a connector's run raises: `ConnectorFailed`, with a stable code and words an agent may read.

`failure_from_botocore` sorts botocore's exceptions into it: what the service said, a request
botocore refused against the model, no credentials, the service unreachable.
"""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
)
from botocore.exceptions import ConnectionError as EndpointUnreachable


class ConnectorFailed(Exception):
    """A connector could not run, or its service refused the call.

    `code` is stable and machine-readable: `input_missing`, `mapping_failed`, `invalid_request`,
    `response_missing`, `unknown_operation`, `no_credentials`, `unreachable`, `aws_sdk_error`, or the
    service's own error code (`MessageRejected`, `UnsupportedLanguagePairException`). `message` says
    what is wrong in words and is safe to show to an agent: it names JSON paths and parameters, never
    a credential. `retryable` is true when the same call may work later (throttled, a 5xx answer,
    the service unreachable); boto3 has already retried those by the time this is raised.

        >>> try:
        ...     executor.execute(connector, context, region="us-east-1")
        ... except ConnectorFailed as failure:
        ...     tell_the_agent(f"/email failed: {failure.message}")
    """

    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable


# Error codes AWS services answer when the caller should slow down (a 400 for some, a 429 for others).
_THROTTLES = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown"}


def is_retryable(error: ClientError) -> bool:
    """Whether an AWS service's answer says the same call may work later: throttled, a 429 or a 5xx."""
    code = str(error.response.get("Error", {}).get("Code") or "")
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    return code in _THROTTLES or status == 429 or status >= 500


def failure_from_botocore(error: BotoCoreError | ClientError, operation: str) -> ConnectorFailed:
    """botocore's exception from calling `operation` (`SES SendEmail`), as a `ConnectorFailed`."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = str(details.get("Code") or "Unknown")
        return ConnectorFailed(code, f"{operation}: {details.get('Message') or code}", retryable=is_retryable(error))
    if isinstance(error, ParamValidationError):
        report = str(error.kwargs.get("report", error)).replace("\n", "; ")
        return ConnectorFailed("invalid_request", f"the request is not valid for {operation}: {report}")
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return ConnectorFailed("no_credentials", f"{operation}: boto3 found no complete AWS credentials")
    if isinstance(error, (EndpointUnreachable, HTTPClientError)):
        # Connection refused, reset, timeouts: the service may come back.
        return ConnectorFailed("unreachable", f"{operation}: {error}", retryable=True)
    return ConnectorFailed("aws_sdk_error", f"{operation}: {error}")
