"""The `connect` service calls the worker makes about a chat contact, typed.

Every method raises a `ConnectError` subclass (see errors.py) and nothing
else from botocore.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connect_client.errors import translated_errors
from connect_client.records import ChatStart, QueueMetrics, StartedChat

_QUEUE_METRICS = (
    ("AGENTS_ONLINE", "COUNT"),
    ("AGENTS_AVAILABLE", "COUNT"),
    ("CONTACTS_IN_QUEUE", "COUNT"),
    ("OLDEST_CONTACT_AGE", "SECONDS"),
)


@dataclass(frozen=True, slots=True)
class ContactFlow:
    """DescribeContactFlow's answer, the part a chat needs: the flow's name, and
    whether Connect runs it (`state` ACTIVE or ARCHIVED, `status` PUBLISHED or SAVED)."""

    id: str
    name: str
    state: str
    status: str


class Contacts:
    """StartChatContact, UpdateContactAttributes, GetCurrentMetricData,
    DescribeContactFlow and StopContact over one boto3 `connect` client."""

    def __init__(self, client: Any = None, *, make: Callable[[], Any] | None = None) -> None:
        """The `client`, or `make`, which makes it at the first call, once. Making a boto3 client
        (its service model read and parsed) took about 2.5 % of a restart's CPU, and a recovery's
        resumed chats call none of these: only the participant calls."""
        if (client is None) == (make is None):
            raise ValueError("Contacts takes a client or a way to make one, not both")
        self._made = client
        self._make = make
        self._making = threading.Lock()

    @property
    def _client(self) -> Any:
        client = self._made
        if client is None:
            assert self._make is not None
            with self._making:
                if self._made is None:
                    self._made = self._make()
                client = self._made
        return client

    def start_chat(self, start: ChatStart) -> StartedChat:
        request: dict[str, Any] = {
            "InstanceId": start.instance_id,
            "ContactFlowId": start.contact_flow_id,
            "ParticipantDetails": {"DisplayName": start.display_name},
            "Attributes": dict(start.attributes),
            "ClientToken": start.client_token,
            "SupportedMessagingContentTypes": list(start.supported_content_types),
        }
        if start.initial_message is not None:
            request["InitialMessage"] = {"ContentType": "text/plain", "Content": start.initial_message}
        if start.chat_duration_minutes is not None:
            request["ChatDurationInMinutes"] = start.chat_duration_minutes
        with translated_errors("StartChatContact"):
            answer = self._client.start_chat_contact(**request)
        return StartedChat(answer["ContactId"], answer["ParticipantId"], answer["ParticipantToken"])

    def update_attributes(self, instance_id: str, initial_contact_id: str, attributes: dict[str, str]) -> None:
        with translated_errors("UpdateContactAttributes"):
            self._client.update_contact_attributes(
                InstanceId=instance_id, InitialContactId=initial_contact_id, Attributes=dict(attributes)
            )

    def queue_metrics(self, instance_id: str, queue_id: str) -> QueueMetrics:
        """The queue's agents and waiting chats now. Grouped by queue, so
        OLDEST_CONTACT_AGE comes in seconds as its unit says."""
        with translated_errors("GetCurrentMetricData"):
            answer = self._client.get_current_metric_data(
                InstanceId=instance_id,
                Filters={"Queues": [queue_id], "Channels": ["CHAT"]},
                Groupings=["QUEUE"],
                CurrentMetrics=[{"Name": name, "Unit": unit} for name, unit in _QUEUE_METRICS],
            )
        values: dict[str, float] = {}
        for result in answer.get("MetricResults", []):
            if result.get("Dimensions", {}).get("Queue", {}).get("Id", queue_id) != queue_id:
                continue
            for metric in result.get("Collections", []):
                if metric.get("Value") is not None:
                    values[metric["Metric"]["Name"]] = float(metric["Value"])
        in_queue = int(values.get("CONTACTS_IN_QUEUE", 0))
        return QueueMetrics(
            agents_online=int(values.get("AGENTS_ONLINE", 0)),
            agents_available=int(values.get("AGENTS_AVAILABLE", 0)),
            contacts_in_queue=in_queue,
            oldest_contact_age_seconds=values.get("OLDEST_CONTACT_AGE") if in_queue else None,
        )

    def describe_contact_flow(self, instance_id: str, contact_flow_id: str) -> ContactFlow:
        """The flow, if the instance has it. An unknown instance or flow raises NotFound
        (code ResourceNotFoundException), and so does a flow only saved, never
        published (code ContactFlowNotPublishedException, also a 404)."""
        with translated_errors("DescribeContactFlow"):
            flow = self._client.describe_contact_flow(InstanceId=instance_id, ContactFlowId=contact_flow_id)["ContactFlow"]
        return ContactFlow(flow["Id"], flow.get("Name", ""), flow.get("State", "ACTIVE"), flow.get("Status", "PUBLISHED"))

    def stop(self, instance_id: str, contact_id: str) -> None:
        """StopContact; an already ended contact raises NotFound (ContactNotFoundException)."""
        with translated_errors("StopContact"):
            self._client.stop_contact(InstanceId=instance_id, ContactId=contact_id)
