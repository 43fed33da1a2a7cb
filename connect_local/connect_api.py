"""The `connect` operations a chat integration uses: StartChatContact,
StopContact, UpdateContactAttributes, DescribeContact, GetCurrentMetricData,
and DescribeContactFlow (which `run.py doctor` reads to check a worker's flow).

Calls are SigV4-signed by boto3; the signature is not checked, but its
credential scope names the region the call is for. StartChatContact with
`ConnectionTypes` also opens the customer's connection, as newer models allow
(a retry with the same ClientToken opens another one).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from connect_local.agents import AgentPool
from connect_local.errors import InvalidInput
from connect_local.model import ChatModel, Contact, StartChat
from connect_local.participant_api import connection_answer
from connect_local.rest import CONNECT_ERRORS, ApiCall, Guard, ServiceError, rest_json_routes, signed_region

ACCOUNT_ID = "123456789012"
MESSAGING_CONTENT_TYPES = frozenset({
    "text/plain",
    "text/markdown",
    "application/json",
    "application/vnd.amazonaws.connect.message.interactive",
    "application/vnd.amazonaws.connect.message.interactive.response",
})
METRIC_UNITS = {"AGENTS_ONLINE": "COUNT", "AGENTS_AVAILABLE": "COUNT", "CONTACTS_IN_QUEUE": "COUNT", "OLDEST_CONTACT_AGE": "SECONDS"}


def _region(request: Request, params: dict[str, Any]) -> str:
    region = signed_region(request)
    if region is None:
        raise ServiceError("AccessDeniedException", 403, "Missing Authentication Token")
    return region


class ConnectApi:
    def __init__(self, model: ChatModel, agents: AgentPool, socket_base_url: Callable[[], str]) -> None:
        self._model = model
        self._agents = agents
        self._socket_base_url = socket_base_url

    def routes(self, guard: Guard) -> list[Route]:
        handlers = {
            "StartChatContact": self.start_chat_contact,
            "StopContact": self.stop_contact,
            "UpdateContactAttributes": self.update_contact_attributes,
            "DescribeContact": self.describe_contact,
            "GetCurrentMetricData": self.get_current_metric_data,
            "DescribeContactFlow": self.describe_contact_flow,
        }
        return rest_json_routes("connect", handlers, CONNECT_ERRORS, guard, _region)

    def start_chat_contact(self, call: ApiCall) -> dict[str, Any]:
        params = call.params
        supported = params.get("SupportedMessagingContentTypes")
        if supported is not None:
            unknown = sorted(set(supported) - MESSAGING_CONTENT_TYPES)
            if unknown or "text/plain" not in supported:
                raise InvalidInput(
                    f"SupportedMessagingContentTypes must include text/plain and only known types; got {supported}"
                )
        initial = params.get("InitialMessage")
        request = StartChat(
            instance_id=params["InstanceId"],
            contact_flow_id=params["ContactFlowId"],
            display_name=params["ParticipantDetails"]["DisplayName"],
            attributes=params.get("Attributes") or {},
            initial_message=(initial["ContentType"], initial["Content"]) if initial else None,
            client_token=params.get("ClientToken"),
            chat_duration_minutes=params.get("ChatDurationInMinutes"),
        )
        assert call.region is not None
        answer = self._model.start_chat(call.region, request)
        types = params.get("ConnectionTypes") or []
        if "WEBSOCKET" in types or "CONNECTION_CREDENTIALS" in types:
            connection = self._model.create_connection(answer["ParticipantToken"], acknowledge=False)
            return {**answer, **connection_answer(connection, types, self._socket_base_url())}
        return answer

    def stop_contact(self, call: ApiCall) -> dict[str, Any]:
        assert call.region is not None
        self._model.stop_contact(call.region, call.params["InstanceId"], call.params["ContactId"])
        return {}

    def update_contact_attributes(self, call: ApiCall) -> dict[str, Any]:
        params = call.params
        assert call.region is not None
        self._model.update_attributes(call.region, params["InstanceId"], params["InitialContactId"], params["Attributes"])
        return {}

    def describe_contact(self, call: ApiCall) -> dict[str, Any]:
        assert call.region is not None
        contact = self._model.regional_contact(call.region, call.params["InstanceId"], call.params["ContactId"])
        return {"Contact": _describe(contact)}

    def describe_contact_flow(self, call: ApiCall) -> dict[str, Any]:
        """Every configured flow is published and active; an unknown instance or flow is
        ResourceNotFoundException, as Connect answers."""
        region, instance_id = call.region, call.params["InstanceId"]
        assert region is not None
        flow = self._model.contact_flow(region, instance_id, call.params["ContactFlowId"])
        return {
            "ContactFlow": {
                "Arn": _arn(region, instance_id, f"contact-flow/{flow.id}"),
                "Id": flow.id,
                "Name": flow.name,
                "Type": "CONTACT_FLOW",
                "State": "ACTIVE",
                "Status": "PUBLISHED",
                "Tags": {},
            }
        }

    def get_current_metric_data(self, call: ApiCall) -> dict[str, Any]:
        params = call.params
        region, instance_id = call.region, params["InstanceId"]
        assert region is not None
        self._model.instance(region, instance_id)
        filters = params["Filters"]
        queue_ids = filters.get("Queues")
        if not queue_ids:
            raise InvalidInput("Filters.Queues must name at least one queue")
        for queue_id in queue_ids:
            self._model.queue(region, instance_id, queue_id)
        channels = filters.get("Channels") or ["CHAT"]
        groupings = params.get("Groupings") or []
        for metric in params["CurrentMetrics"]:
            if metric.get("Name") not in METRIC_UNITS:
                raise InvalidInput(f"CurrentMetrics: {metric.get('Name')} is not modelled here; use one of {sorted(METRIC_UNITS)}")
        groups = [[q] for q in queue_ids] if "QUEUE" in groupings else [queue_ids]
        results = []
        for group in groups:
            dimensions: dict[str, Any] = {}
            if "QUEUE" in groupings:
                dimensions["Queue"] = {"Id": group[0], "Arn": _arn(region, instance_id, f"queue/{group[0]}")}
            if "CHANNEL" in groupings:
                dimensions["Channel"] = "CHAT"
            values = self._metrics(region, instance_id, group, chat="CHAT" in channels, grouped=bool(groupings))
            collections = [
                {"Metric": {"Name": m["Name"], "Unit": METRIC_UNITS[m["Name"]]}, "Value": values[m["Name"]]}
                for m in params["CurrentMetrics"]
            ]
            results.append({"Dimensions": dimensions, "Collections": collections})
        return {"MetricResults": results, "DataSnapshotTime": self._model.now(), "ApproximateTotalCount": len(results)}

    def _metrics(self, region: str, instance_id: str, queue_ids: list[str], *, chat: bool, grouped: bool) -> dict[str, float]:
        """The queues' figures. As in AWS, OLDEST_CONTACT_AGE is in seconds with
        groupings and in milliseconds without, though its Unit says SECONDS."""
        if not chat:
            return dict.fromkeys(METRIC_UNITS, 0.0)
        waiting = [c for q in queue_ids for c in self._model.waiting(q) if c.region == region and c.instance_id == instance_id]
        now = self._model.now()
        oldest = max((now - (c.enqueued_at or now) for c in waiting), default=0.0)
        return {
            "AGENTS_ONLINE": float(sum(self._agents.agents_online(region, instance_id, q) for q in queue_ids)),
            "AGENTS_AVAILABLE": float(sum(self._agents.agents_available(region, instance_id, q) for q in queue_ids)),
            "CONTACTS_IN_QUEUE": float(len(waiting)),
            "OLDEST_CONTACT_AGE": float(round(oldest)) if grouped else float(round(oldest * 1000)),
        }


def _arn(region: str, instance_id: str, resource: str) -> str:
    return f"arn:aws:connect:{region}:{ACCOUNT_ID}:instance/{instance_id}/{resource}"


def _describe(contact: Contact) -> dict[str, Any]:
    described: dict[str, Any] = {
        "Arn": _arn(contact.region, contact.instance_id, f"contact/{contact.id}"),
        "Id": contact.id,
        "InitialContactId": contact.id,
        "InitiationMethod": "API",
        "Channel": "CHAT",
        "InitiationTimestamp": contact.initiated_at,
        "LastUpdateTimestamp": contact.last_update,
    }
    if contact.enqueued_at is not None:
        described["QueueInfo"] = {"Id": contact.queue_id, "EnqueueTimestamp": contact.enqueued_at}
    if contact.agent is not None and contact.connected_at is not None:
        agent_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"agent:{contact.agent.display_name}"))
        described["AgentInfo"] = {"Id": agent_id, "ConnectedToAgentTimestamp": contact.connected_at}
    if contact.ended_at is not None:
        described["DisconnectTimestamp"] = contact.ended_at
    return described
