"""Amazon Translate's TranslateText, in both protocols botocore may speak:
Smithy RPC v2 CBOR (`POST /service/AWSShineFrontendService_20170701/operation/TranslateText`,
what boto3 1.4x sends) and AWS JSON 1.1 (`POST /` with `X-Amz-Target`)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import cbor2

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connect_local.errors import InvalidInput
from connect_local.rest import ErrorNames, Guard, ServiceError, signed_region
from connect_local.shapes import service_model, validate
from connect_local.translate import UnsupportedLanguagePair, translate

TARGET_PREFIX = "AWSShineFrontendService_20170701"
MAX_TEXT_BYTES = 10000
TRANSLATE_ERRORS = ErrorNames(
    by_kind={InvalidInput: ("InvalidRequestException", 400)},
    throttling=("TooManyRequestsException", 429),
    internal=("InternalServerException", 500),
)


class TranslateApi:
    def __init__(self, guard: Guard) -> None:
        self._guard = guard
        self._operation = service_model("translate").operation_model("TranslateText")

    def routes(self) -> list[Route]:
        return [
            Route(f"/service/{TARGET_PREFIX}/operation/TranslateText", self._cbor_endpoint, methods=["POST"]),
            Route("/", self._json_endpoint, methods=["POST"]),
        ]

    async def _cbor_endpoint(self, request: Request) -> Response:
        headers = {"smithy-protocol": "rpc-v2-cbor", "x-amzn-RequestId": str(uuid.uuid4())}
        try:
            try:
                params = cbor2.loads(await request.body())
            except (cbor2.CBORDecodeError, EOFError):
                raise ServiceError("InvalidRequestException", 400, "The request body is not valid CBOR") from None
            answer = await self._translate(request, params)
            return Response(cbor2.dumps(answer), media_type="application/cbor", headers=headers)
        except ServiceError as error:
            body = {"__type": f"com.amazonaws.translate#{error.code}", "message": error.message, **error.fields}
            return Response(cbor2.dumps(body), status_code=error.status, media_type="application/cbor", headers=headers)

    async def _json_endpoint(self, request: Request) -> Response:
        headers = {"x-amzn-RequestId": str(uuid.uuid4())}
        media_type = "application/x-amz-json-1.1"
        try:
            if request.headers.get("x-amz-target") != f"{TARGET_PREFIX}.TranslateText":
                raise ServiceError("UnknownOperationException", 400, "Only TranslateText is served here")
            try:
                params = json.loads(await request.body() or b"{}")
            except ValueError:
                raise ServiceError("SerializationException", 400, "The request body is not valid JSON") from None
            answer = await self._translate(request, params)
            return Response(json.dumps(answer), media_type=media_type, headers=headers)
        except ServiceError as error:
            body = {"__type": error.code, "message": error.message, **error.fields}
            return Response(json.dumps(body), status_code=error.status, media_type=media_type, headers=headers)

    async def _translate(self, request: Request, params: Any) -> dict[str, Any]:
        region = signed_region(request)
        if region is None:
            raise ServiceError("AccessDeniedException", 403, "Missing Authentication Token")
        if self._guard.faults.region_down(region):
            raise ServiceError("ServiceUnavailableException", 503, f"The service is unavailable in {region}")
        await self._guard.check("TranslateText", region, TRANSLATE_ERRORS)
        if isinstance(params, dict) and isinstance(params.get("Text"), str) and len(params["Text"].encode()) > MAX_TEXT_BYTES:
            raise ServiceError("TextSizeLimitExceededException", 400, f"Text is longer than {MAX_TEXT_BYTES} bytes")
        try:
            validate(self._operation.input_shape, params)
        except InvalidInput as error:
            raise TRANSLATE_ERRORS.for_chat_error(error) from None
        try:
            text, source = translate(params["Text"], params["SourceLanguageCode"], params["TargetLanguageCode"])
        except UnsupportedLanguagePair as error:
            raise ServiceError(
                "UnsupportedLanguagePairException", 400, str(error),
                SourceLanguageCode=error.source, TargetLanguageCode=error.target,
            ) from None
        return {"TranslatedText": text, "SourceLanguageCode": source, "TargetLanguageCode": params["TargetLanguageCode"]}
