"""Amazon SES v1's SendEmail over the AWS Query protocol, as botocore speaks
it: a form-encoded `POST /` (`Action=SendEmail&Version=2010-12-01&Source=...
&Destination.ToAddresses.member.1=...&Message.Subject.Data=...`) answered with
XML. Translate's JSON 1.1 calls share the path `/`; the Content-Type tells
them apart (see `QueryRoute`). Also the admin view of the outbox:
`GET /admin/emails`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from botocore.model import Shape
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope

from connect_local.errors import InvalidInput
from connect_local.rest import ErrorNames, Guard, ServiceError, signed_region, signing_name
from connect_local.ses import InvalidParameterValue, Outbox
from connect_local.shapes import service_model, validate

FORM = "application/x-www-form-urlencoded"
NAMESPACE = "http://ses.amazonaws.com/doc/2010-12-01/"
SES_ERRORS = ErrorNames(
    by_kind={InvalidInput: ("ValidationError", 400)},
    # SES answers a sending rate over its quota with Throttling and status 400, not 429.
    throttling=("Throttling", 400),
    internal=("InternalFailure", 500),
)


class QueryRoute(Route):
    """A route that takes only form-encoded requests, the AWS Query protocol's;
    others (Translate's `application/x-amz-json-1.1` on `POST /`) fall through
    to the routes after it. With `signing_name`, only requests signed for that
    service (`.../REGION/sts/aws4_request`): STS and SES share the form-encoded
    `POST /`, so STS's route goes first and SES's takes every other form."""

    def __init__(self, *args: Any, signing_name: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signing_name = signing_name

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        headers = Headers(scope=scope)
        if headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
            return Match.NONE, {}
        if self._signing_name is not None and signing_name(headers.get("authorization", "")) != self._signing_name:
            return Match.NONE, {}
        return super().matches(scope)


class SesApi:
    def __init__(self, outbox: Outbox, guard: Guard) -> None:
        self._outbox = outbox
        self._guard = guard
        self._operation = service_model("ses").operation_model("SendEmail")

    def routes(self) -> list[Route]:
        """Put these before any other `POST /` route."""
        return [QueryRoute("/", self._endpoint, methods=["POST"])]

    def admin_routes(self) -> list[Route]:
        return [Route("/admin/emails", self._emails, methods=["GET"])]

    async def _emails(self, request: Request) -> Response:
        return JSONResponse({"Emails": [email.to_wire() for email in self._outbox.sent()]})

    async def _endpoint(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        try:
            form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
            message_id = await self._send_email(request, form)
        except ServiceError as error:
            return xml_response(error_document(error, request_id, NAMESPACE), error.status, request_id)
        return xml_response(_answer_document(message_id, request_id), 200, request_id)

    async def _send_email(self, request: Request, form: dict[str, str]) -> str:
        region = signed_region(request)
        if region is None:
            raise ServiceError("MissingAuthenticationToken", 403, "Request must be signed (AWS Signature Version 4)")
        if form.get("Action") != "SendEmail":
            raise ServiceError(
                "InvalidAction", 400, f"Action {form.get('Action')!r} is not served here: this local SES serves only SendEmail"
            )
        if self._guard.faults.region_down(region):
            raise ServiceError("ServiceUnavailable", 503, f"The service is unavailable in {region}")
        params = read_query(self._operation.input_shape, form)
        try:
            validate(self._operation.input_shape, params)
        except InvalidInput as error:
            raise ServiceError("ValidationError", 400, f"1 validation error detected: {error}") from None
        await self._guard.check("SendEmail", region, SES_ERRORS)
        try:
            return self._outbox.send(params, region).message_id
        except InvalidParameterValue as error:
            raise ServiceError("InvalidParameterValue", 400, str(error)) from None


def read_query(shape: Shape, form: Mapping[str, str], prefix: str = "") -> dict[str, Any]:
    """A structure's members from AWS Query form keys, the inverse of botocore's
    QuerySerializer for what SendEmail has: structures (`Message.Subject.Data`),
    lists (`Destination.ToAddresses.member.1`; an empty one is sent as
    `Destination.ToAddresses=`) and strings. Not yet validated."""
    params = {}
    for name, member in shape.members.items():
        value = _read_member(member, form, prefix + member.serialization.get("name", name))
        if value is not None:
            params[name] = value
    return params


def _read_member(shape: Shape, form: Mapping[str, str], key: str) -> Any:
    if shape.type_name == "structure":
        return read_query(shape, form, key + ".") or None
    if shape.type_name == "list":
        items = []
        while (item := _read_member(shape.member, form, f"{key}.member.{len(items) + 1}")) is not None:
            items.append(item)
        return items if items or key in form else None
    return form.get(key)


def _answer_document(message_id: str, request_id: str) -> str:
    return (
        f'<SendEmailResponse xmlns="{NAMESPACE}"><SendEmailResult><MessageId>{message_id}</MessageId></SendEmailResult>'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></SendEmailResponse>"
    )


def error_document(error: ServiceError, request_id: str, namespace: str) -> str:
    """The AWS Query protocol's error answer, in the service's XML `namespace`."""
    fault = "Sender" if error.status < 500 else "Receiver"
    return (
        f'<ErrorResponse xmlns="{namespace}"><Error><Type>{fault}</Type><Code>{escape(error.code)}</Code>'
        f"<Message>{escape(error.message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )


def xml_response(document: str, status: int, request_id: str) -> Response:
    return Response(document, status_code=status, media_type="text/xml", headers={"x-amzn-RequestId": request_id})
