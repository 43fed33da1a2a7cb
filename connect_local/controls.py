"""What a test or an operator can do to a running local Amazon Connect:
inspect a contact's full record and inject faults. The server handle offers
these as Python methods; the admin API offers them over HTTP."""

from __future__ import annotations

from typing import Any

from connect_local.faults import Faults, Refusal
from connect_local.model import ChatModel
from connect_local.websocket import SocketHub


class Controls:
    def __init__(self, model: ChatModel, hub: SocketHub, faults: Faults) -> None:
        self.model = model
        self.hub = hub
        self.faults = faults

    def contact_record(self, contact_id: str) -> dict[str, Any]:
        """The contact with every item it ever had, receipts and typing
        included, each with its ClientToken (None when sent without one) and
        ReceivedAt, the epoch seconds Connect took it at, unrounded (its
        AbsoluteTime is that rounded to the millisecond, or a millisecond after
        the chat's previous item when two come within one)."""
        contact = self.model.contact(contact_id)
        items = [
            {
                **item.to_wire(),
                "ClientToken": item.client_token,
                "InTranscript": item.in_transcript,
                "ReceivedAt": item.received_at,
            }
            for item in self.model.items(contact_id)
        ]
        return {
            "ContactId": contact.id,
            "Region": contact.region,
            "InstanceId": contact.instance_id,
            "QueueId": contact.queue_id,
            "State": contact.state,
            "Attributes": dict(contact.attributes),
            "AgentName": contact.agent.display_name if contact.agent else None,
            "Items": items,
        }

    def set_outage(self, region: str, down: bool = True) -> None:
        """Take a region down (its calls answer 503, its sockets are dropped
        and refused) or bring it back."""
        self.faults.set_outage(region, down)
        if down:
            self.hub.drop(region=region)

    def throttle_next(self, count: int, operation: str | None = None, region: str | None = None) -> None:
        self.faults.throttle_next(count, operation, region)

    def refuse_next(self, count: int, operation: str, code: str, message: str, status: int = 400) -> None:
        """The next `count` calls of `operation` answer `code` with `status` and `message`, and do nothing."""
        self.faults.refuse_next(count, operation, Refusal(code, status, message))

    def set_latency(self, seconds: float, region: str | None = None) -> None:
        self.faults.set_latency(seconds, region)

    def fail_share(self, share: float, seed: int = 0, region: str | None = None) -> None:
        self.faults.fail_share(share, seed, region)

    def clear_faults(self) -> None:
        self.faults.clear()

    def drop_sockets(self, contact_id: str | None = None) -> int:
        """Close one chat's sockets (or all) as a network failure would."""
        return self.hub.drop(contact_id)

    def expire_connections(self, contact_id: str) -> int:
        """Expire a chat's connections now: their tokens stop working and
        their sockets close; the participant token still gets new ones."""
        keys = self.model.expire_connections(contact_id)
        self.hub.drop(contact_id, keys=keys)
        return len(keys)

    def open_sockets(self, contact_id: str | None = None) -> int:
        return self.hub.open_count(contact_id)
