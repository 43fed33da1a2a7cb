"""Amazon SES's SendEmail as the local server plays it: the checks SES makes
beyond its model's required members, and an outbox that keeps every email
it accepted, in order. Nothing is delivered.

    >>> outbox = Outbox(time.time)
    >>> sent = outbox.send(params, region="us-east-1")   # SendEmail's input, as botocore names it
    >>> outbox.sent()[-1].message_id == sent.message_id
    True
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import getaddresses
from typing import Any

from connect_local.model import iso_time


class InvalidParameterValue(ValueError):
    """A value SES refuses although the model allows it: an address, or no recipient at all."""


@dataclass(frozen=True)
class SentEmail:
    """One email SendEmail accepted."""

    message_id: str
    source: str
    to_addresses: tuple[str, ...]
    cc_addresses: tuple[str, ...]
    bcc_addresses: tuple[str, ...]
    subject: str
    text: str | None
    html: str | None
    region: str
    at: float

    def to_wire(self) -> dict[str, Any]:
        return {
            "MessageId": self.message_id,
            "Source": self.source,
            "ToAddresses": list(self.to_addresses),
            "CcAddresses": list(self.cc_addresses),
            "BccAddresses": list(self.bcc_addresses),
            "Subject": self.subject,
            "Text": self.text,
            "Html": self.html,
            "Region": self.region,
            "At": iso_time(self.at),
        }


class Outbox:
    """Every email sent through the server, oldest first, for the server's lifetime."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._sent: list[SentEmail] = []

    def send(self, params: Mapping[str, Any], region: str) -> SentEmail:
        """Check a SendEmail input that already satisfies the model, and keep it.
        Raises InvalidParameterValue with SES's wording where it is known. (A
        Body with neither Text nor Html cannot get here: botocore sends nothing
        for an empty structure, so the model finds Message.Body missing.)"""
        destination = params["Destination"]
        recipients = {kind: tuple(destination.get(kind, ())) for kind in ("ToAddresses", "CcAddresses", "BccAddresses")}
        check_address("Source", params["Source"])
        for kind, addresses in recipients.items():
            for address in addresses:
                check_address(kind, address)
        if not any(recipients.values()):
            raise InvalidParameterValue("The message must have at least one recipient in ToAddresses, CcAddresses or BccAddresses")
        body = params["Message"]["Body"]
        at = self._clock()
        email = SentEmail(
            message_id=_message_id(at),
            source=params["Source"],
            to_addresses=recipients["ToAddresses"],
            cc_addresses=recipients["CcAddresses"],
            bcc_addresses=recipients["BccAddresses"],
            subject=params["Message"]["Subject"]["Data"],
            text=body.get("Text", {}).get("Data"),
            html=body.get("Html", {}).get("Data"),
            region=region,
            at=at,
        )
        with self._lock:
            self._sent.append(email)
        return email

    def sent(self) -> list[SentEmail]:
        with self._lock:
            return list(self._sent)


def check_address(field: str, address: str) -> None:
    """An address is `local@domain`, optionally with a display name (`Shop <shop@example.com>`)."""
    parsed = getaddresses([address])
    if len(parsed) != 1 or any(character.isspace() for character in parsed[0][1]):
        raise InvalidParameterValue(f"Illegal address in {field}: {address!r}")
    local, at, domain = parsed[0][1].rpartition("@")
    if not at or not domain:
        raise InvalidParameterValue(f"Missing final '@domain' in {field}: {address!r}")
    if not local:
        raise InvalidParameterValue(f"Missing local name in {field}: {address!r}")


def _message_id(at: float) -> str:
    # The shape of SES's ids: 0100, the time in milliseconds, a UUID, 000000.
    return f"0100{int(at * 1000):012x}-{uuid.uuid4()}-000000"
