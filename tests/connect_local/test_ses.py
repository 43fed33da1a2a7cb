"""SES SendEmail through boto3: sent emails are kept and listed, SES's
refusals reach boto3 with SES's codes, other actions are refused, faults apply,
and the form-encoded POST / is not confused with Translate's JSON one."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from connect_local import LocalConnect
from tests.connect_local.clients import Clients, boto_client

# Requests botocore would refuse before sending, so that the server's checks are what is tested.
UNCHECKED = BotoConfig(retries={"total_max_attempts": 1}, parameter_validation=False)
MESSAGE = {"Subject": {"Data": "Your order"}, "Body": {"Text": {"Data": "It ships today."}}}


def ses_client(server: LocalConnect, region: str = "us-east-1", config: BotoConfig = UNCHECKED) -> Any:
    return boto_client("ses", server, region, config)


def refusal(call: Any, **params: Any) -> dict[str, Any]:
    """The error boto3 raised for the call, with its HTTP status."""
    with pytest.raises(ClientError) as caught:
        call(**params)
    return {**caught.value.response["Error"], "Status": caught.value.response["ResponseMetadata"]["HTTPStatusCode"]}


def test_sent_emails_are_listed_in_order_with_every_field(clients: Clients) -> None:
    before = time.time()
    first = ses_client(clients.server).send_email(
        Source="Shop <shop@example.com>",
        Destination={"ToAddresses": ["maya@example.com"], "CcAddresses": ["desk@example.com"], "BccAddresses": ["audit@example.com"]},
        Message={"Subject": {"Data": "Your order & more"}, "Body": {"Text": {"Data": "It ships today."}, "Html": {"Data": "<p>It ships today.</p>"}}},
    )
    second = ses_client(clients.server, "eu-west-2").send_email(
        Source="shop@example.com", Destination={"BccAddresses": ["ops@example.com"]},
        Message={"Subject": {"Data": "Report"}, "Body": {"Html": {"Data": "<b>done</b>"}}},
    )
    after = time.time()

    status, listed = clients.http("GET", "/admin/emails")

    assert status == 200
    emails = listed["Emails"]
    stamps = [datetime.fromisoformat(email.pop("At")).timestamp() for email in emails]
    assert emails == [
        {
            "MessageId": first["MessageId"], "Source": "Shop <shop@example.com>", "ToAddresses": ["maya@example.com"],
            "CcAddresses": ["desk@example.com"], "BccAddresses": ["audit@example.com"], "Subject": "Your order & more",
            "Text": "It ships today.", "Html": "<p>It ships today.</p>", "Region": "us-east-1",
        },
        {
            "MessageId": second["MessageId"], "Source": "shop@example.com", "ToAddresses": [], "CcAddresses": [],
            "BccAddresses": ["ops@example.com"], "Subject": "Report", "Text": None, "Html": "<b>done</b>", "Region": "eu-west-2",
        },
    ]
    assert int(before * 1000) / 1000 <= stamps[0] <= stamps[1] <= after
    assert first["MessageId"] != second["MessageId"]
    assert [email.message_id for email in clients.server.sent_emails()] == [first["MessageId"], second["MessageId"]]


@pytest.mark.parametrize(
    ("params", "code", "names"),
    [
        ({"Destination": {"ToAddresses": ["maya@example.com"]}, "Message": MESSAGE}, "ValidationError", "'Source'"),
        ({"Source": "shop", "Destination": {"ToAddresses": ["maya@example.com"]}, "Message": MESSAGE}, "InvalidParameterValue", "'@domain'"),
        ({"Source": "shop@example.com", "Destination": {}, "Message": MESSAGE}, "ValidationError", "'Destination'"),
        ({"Source": "shop@example.com", "Destination": {"ToAddresses": []}, "Message": MESSAGE}, "InvalidParameterValue", "recipient"),
        ({"Source": "shop@example.com", "Destination": {"ToAddresses": ["maya"]}, "Message": MESSAGE}, "InvalidParameterValue", "ToAddresses"),
        (
            {"Source": "shop@example.com", "Destination": {"ToAddresses": ["maya@example.com"]}, "Message": {"Body": MESSAGE["Body"]}},
            "ValidationError", "'Message.Subject'",
        ),
        (
            {"Source": "shop@example.com", "Destination": {"ToAddresses": ["maya@example.com"]}, "Message": {"Subject": MESSAGE["Subject"], "Body": {}}},
            "ValidationError", "'Message.Body'",
        ),
    ],
    ids=["no-source", "source-not-an-address", "no-destination", "no-recipient", "recipient-not-an-address", "no-subject", "no-body"],
)
def test_an_email_ses_would_refuse_is_refused_with_ses_code(server: LocalConnect, params: dict[str, Any], code: str, names: str) -> None:
    error = refusal(ses_client(server).send_email, **params)

    assert (error["Code"], error["Type"], error["Status"]) == (code, "Sender", 400)
    assert names in error["Message"]
    assert server.sent_emails() == []


def test_another_ses_action_is_refused_naming_send_email(server: LocalConnect) -> None:
    error = refusal(ses_client(server).verify_email_identity, EmailAddress="shop@example.com")

    assert (error["Code"], error["Status"]) == ("InvalidAction", 400)
    assert "VerifyEmailIdentity" in error["Message"] and "only SendEmail" in error["Message"]


def test_injected_faults_for_send_email_reach_boto3(clients: Clients) -> None:
    ses = ses_client(clients.server)
    send = {"Source": "shop@example.com", "Destination": {"ToAddresses": ["maya@example.com"]}, "Message": MESSAGE}

    clients.server.throttle_next(1, operation="SendEmail")
    assert refusal(ses.send_email, **send)["Code"] == "Throttling"

    status, _ = clients.http(
        "POST", "/admin/faults/refuse",
        {"Count": 1, "Operation": "SendEmail", "Code": "MessageRejected", "Message": "Email address not verified shop@example.com"},
    )
    assert status == 200
    with pytest.raises(ses.exceptions.MessageRejected):
        ses.send_email(**send)

    clients.server.fail_share(1.0)
    failed = refusal(ses.send_email, **send)
    assert (failed["Code"], failed["Type"], failed["Status"]) == ("InternalFailure", "Receiver", 500)
    clients.server.clear_faults()

    clients.server.set_outage("us-east-1")
    down = refusal(ses.send_email, **send)
    assert (down["Code"], down["Status"]) == ("ServiceUnavailable", 503)
    assert clients.server.sent_emails() == []

    clients.server.set_outage("us-east-1", down=False)
    ses.send_email(**send)
    assert len(clients.server.sent_emails()) == 1


def test_only_form_encoded_posts_reach_ses(server: LocalConnect) -> None:
    body = b"Action=SendEmail&Version=2010-12-01&Source=shop%40example.com"
    request = urllib.request.Request(server.endpoint_url + "/", data=body, method="POST")
    request.add_header("Content-Type", "application/x-amz-json-1.1")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)

    assert caught.value.code == 400
    assert json.loads(caught.value.read())["__type"] == "UnknownOperationException"
