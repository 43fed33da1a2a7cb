"""The AWS side of HTTP: routes built from botocore's models, the region each
call belongs to, faults and rate limits applied before each operation, and
errors written the way botocore reads them (`x-amzn-ErrorType` header plus
`__type` and `message` in the JSON body).
"""

from __future__ import annotations

import asyncio
import inspect
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.model import OperationModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connect_local.errors import AccessDenied, ChatError, Conflict, ContactNotActive, InvalidInput, LimitExceeded, NotFound
from connect_local.faults import Faults
from connect_local.shapes import read_rest_json, service_model, validate
from connect_local.throttle import RateLimiter

# How often a call held by added latency looks whether the latency was taken away.
LATENCY_CHECK_SECONDS = 0.05
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]*/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")


class ServiceError(Exception):
    """An error answer: the exception name botocore maps, and its status."""

    def __init__(self, code: str, status: int, message: str, **fields: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.fields = fields


@dataclass(frozen=True)
class ErrorNames:
    """How one service names each kind of failure: (exception name, status)."""

    by_kind: Mapping[type[ChatError], tuple[str, int]]
    throttling: tuple[str, int]
    internal: tuple[str, int]

    def for_chat_error(self, error: ChatError) -> ServiceError:
        for kind, (code, status) in self.by_kind.items():
            if isinstance(error, kind):
                return ServiceError(code, status, str(error))
        code, status = self.internal
        return ServiceError(code, status, str(error))


CONNECT_ERRORS = ErrorNames(
    by_kind={
        AccessDenied: ("AccessDeniedException", 403),
        NotFound: ("ResourceNotFoundException", 404),
        InvalidInput: ("InvalidParameterException", 400),
        Conflict: ("InvalidRequestException", 400),
        ContactNotActive: ("ContactNotFoundException", 410),
        LimitExceeded: ("LimitExceededException", 429),
    },
    throttling=("ThrottlingException", 429),
    internal=("InternalServiceException", 500),
)
PARTICIPANT_ERRORS = ErrorNames(
    by_kind={
        AccessDenied: ("AccessDeniedException", 403),
        NotFound: ("ResourceNotFoundException", 404),
        InvalidInput: ("ValidationException", 400),
        Conflict: ("ConflictException", 409),
        ContactNotActive: ("AccessDeniedException", 403),
        LimitExceeded: ("ServiceQuotaExceededException", 402),
    },
    throttling=("ThrottlingException", 429),
    internal=("InternalServerException", 500),
)


def signed_region(request: Request) -> str | None:
    """The region of a SigV4 signature's credential scope, if signed."""
    match = _CREDENTIAL_SCOPE.search(request.headers.get("authorization", ""))
    return match.group(1) if match else None


def signing_name(authorization: str) -> str | None:
    """The service a SigV4 `Authorization` header's credential scope names (`sts`, `ses`), if signed."""
    match = _CREDENTIAL_SCOPE.search(authorization)
    return match.group(2) if match else None


def error_response(error: ServiceError, *, headers: Mapping[str, str] | None = None) -> Response:
    body = {"__type": error.code, "message": error.message, "Message": error.message, **error.fields}
    return JSONResponse(
        body,
        status_code=error.status,
        headers={"x-amzn-ErrorType": error.code, "x-amzn-RequestId": str(uuid.uuid4()), **(headers or {})},
    )


class Guard:
    """What stands before every operation: outages, latency, throttling, 5xx."""

    def __init__(self, faults: Faults, limiter: RateLimiter) -> None:
        self.faults = faults
        self.limiter = limiter

    async def _held_for_latency(self, region: str | None) -> None:
        """Wait the region's added latency, or less if it is taken away meanwhile: a region that hung
        and is well again answers the calls it held, as one whose network recovers would."""
        delay = self.faults.latency(region)
        if delay <= 0:
            return
        loop = asyncio.get_running_loop()
        until = loop.time() + delay
        with self.faults.holding():
            while (left := until - loop.time()) > 0 and self.faults.latency(region) > 0:
                await asyncio.sleep(min(left, LATENCY_CHECK_SECONDS))

    async def check(self, operation: str, region: str | None, errors: ErrorNames) -> None:
        if region is not None and self.faults.region_down(region):
            code, _ = errors.internal
            raise ServiceError(code, 503, f"The service is unavailable in {region}")
        await self._held_for_latency(region)
        if self.faults.take_throttle(operation, region) or (region is not None and not self.limiter.allow(region, operation)):
            code, status = errors.throttling
            raise ServiceError(code, status, "Rate exceeded")
        refusal = self.faults.take_refusal(operation)
        if refusal is not None:
            raise ServiceError(refusal.code, refusal.status, refusal.message)
        if self.faults.take_failure(region):
            code, status = errors.internal
            raise ServiceError(code, status, "An internal error occurred (injected)")


@dataclass(frozen=True)
class ApiCall:
    """One decoded, validated call: its input members and the region it is in."""

    operation: str
    params: dict[str, Any]
    region: str | None
    request: Request


Handler = Callable[[ApiCall], dict[str, Any] | Awaitable[dict[str, Any]]]
RegionOf = Callable[[Request, dict[str, Any]], str | None]


def rest_json_routes(
    service: str, handlers: Mapping[str, Handler], errors: ErrorNames, guard: Guard, region_of: RegionOf
) -> list[Route]:
    """One route per operation, with the method and path of botocore's model."""
    model = service_model(service)
    routes = []
    for operation_name, handler in handlers.items():
        operation = model.operation_model(operation_name)
        endpoint = _endpoint(operation_name, operation, handler, errors, guard, region_of)
        routes.append(Route(operation.http["requestUri"], endpoint, methods=[operation.http["method"]]))
    return routes


def _endpoint(
    name: str, operation: OperationModel, handler: Handler, errors: ErrorNames, guard: Guard, region_of: RegionOf
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            try:
                params = read_rest_json(operation, await request.body(), request.headers, request.path_params)
                region = region_of(request, params)
                validate(operation.input_shape, params)
                await guard.check(name, region, errors)
                answer = handler(ApiCall(name, params, region, request))
                if inspect.isawaitable(answer):
                    answer = await answer
            except ChatError as error:
                raise errors.for_chat_error(error) from None
        except ServiceError as error:
            return error_response(error)
        return JSONResponse(answer, headers={"x-amzn-RequestId": str(uuid.uuid4())})

    return endpoint
