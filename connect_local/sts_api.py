"""STS's AssumeRole over the AWS Query protocol, as connect_local serves SES's SendEmail (ses_api.py): a
form-encoded `POST /` signed for `sts` (`Action=AssumeRole&Version=2011-06-15&RoleArn=...
&RoleSessionName=...&ExternalId=...&DurationSeconds=...`) answered with XML, so a service pointed here
assumes its cross-account roles locally. Admin: `GET /admin/assume-role-calls` lists the calls (never an
external id), `POST /admin/assume-role/external-id {"RoleArn", "ExternalId"}` makes a role refuse
(AccessDenied) any other external id.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connect_local.errors import AccessDenied, InvalidInput
from connect_local.rest import ErrorNames, Guard, ServiceError, signed_region
from connect_local.ses_api import QueryRoute, error_document, xml_response
from connect_local.shapes import service_model, validate
from connect_local.sts import RoleTrust, TemporaryCredentials

NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
STS_ERRORS = ErrorNames(
    by_kind={InvalidInput: ("ValidationError", 400), AccessDenied: ("AccessDenied", 403)},
    throttling=("Throttling", 400),
    internal=("InternalFailure", 500),
)
_ACCOUNT = "123456789012"  # the assumed role's user is named in this account whatever the role's


class StsApi:
    def __init__(self, trust: RoleTrust, guard: Guard) -> None:
        self._trust = trust
        self._guard = guard
        self._operation = service_model("sts").operation_model("AssumeRole")

    def routes(self) -> list[Route]:
        """Put these before SES's (ses_api.SesApi.routes), which takes every other form."""
        return [QueryRoute("/", self._endpoint, methods=["POST"], signing_name="sts")]

    def admin_routes(self) -> list[Route]:
        return [
            Route("/admin/assume-role-calls", self._calls, methods=["GET"]),
            Route("/admin/assume-role/external-id", self._require_external_id, methods=["POST"]),
        ]

    async def _calls(self, request: Request) -> Response:
        return JSONResponse({"Calls": [call.to_wire() for call in self._trust.calls()]})

    async def _require_external_id(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body())
            role_arn, external_id = body["RoleArn"], body["ExternalId"]
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"message": 'expected {"RoleArn": "...", "ExternalId": "..."}'}, status_code=400)
        if not (isinstance(role_arn, str) and isinstance(external_id, str)):
            return JSONResponse({"message": "RoleArn and ExternalId must be strings"}, status_code=400)
        self._trust.require_external_id(role_arn, external_id)
        return JSONResponse({})

    async def _endpoint(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        try:
            form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
            role_arn, session_name, credentials = await self._assume_role(request, form)
        except ServiceError as error:
            return xml_response(error_document(error, request_id, NAMESPACE), error.status, request_id)
        return xml_response(_answer_document(role_arn, session_name, credentials, request_id), 200, request_id)

    async def _assume_role(self, request: Request, form: dict[str, str]) -> tuple[str, str, TemporaryCredentials]:
        region = signed_region(request) or ""
        if form.get("Action") != "AssumeRole":
            raise ServiceError(
                "InvalidAction", 400, f"Action {form.get('Action')!r} is not served here: this local STS serves only AssumeRole"
            )
        params = {name: form[name] for name in self._operation.input_shape.members if name in form}
        if "DurationSeconds" in params:
            try:
                params["DurationSeconds"] = int(params["DurationSeconds"])
            except ValueError:
                raise ServiceError("ValidationError", 400, "DurationSeconds must be a number") from None
        try:
            validate(self._operation.input_shape, params)
        except InvalidInput as error:
            raise ServiceError("ValidationError", 400, f"1 validation error detected: {error}") from None
        await self._guard.check("AssumeRole", region or None, STS_ERRORS)
        role_arn, session_name = params["RoleArn"], params["RoleSessionName"]
        try:
            credentials = self._trust.assume(
                role_arn, session_name, params.get("ExternalId"), params.get("DurationSeconds", 3600), region
            )
        except AccessDenied as error:
            raise STS_ERRORS.for_chat_error(error) from None
        return role_arn, session_name, credentials


def _answer_document(role_arn: str, session_name: str, credentials: TemporaryCredentials, request_id: str) -> str:
    role_name = role_arn.rpartition("/")[2]
    expiration = datetime.fromtimestamp(credentials.expiration, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f'<AssumeRoleResponse xmlns="{NAMESPACE}"><AssumeRoleResult>'
        f"<Credentials><AccessKeyId>{credentials.access_key_id}</AccessKeyId>"
        f"<SecretAccessKey>{escape(credentials.secret_access_key)}</SecretAccessKey>"
        f"<SessionToken>{escape(credentials.session_token)}</SessionToken>"
        f"<Expiration>{expiration}</Expiration></Credentials>"
        f"<AssumedRoleUser><AssumedRoleId>AROA{uuid.uuid5(uuid.NAMESPACE_URL, role_arn).hex[:17].upper()}:"
        f"{escape(session_name)}</AssumedRoleId>"
        f"<Arn>arn:aws:sts::{_ACCOUNT}:assumed-role/{escape(role_name)}/{escape(session_name)}</Arn></AssumedRoleUser>"
        f"</AssumeRoleResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></AssumeRoleResponse>"
    )
