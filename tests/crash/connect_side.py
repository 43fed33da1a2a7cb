"""The local Amazon Connect's side, which the crashes never touch: its configuration for the harness,
its agent API (a human agent the harness plays) and its admin API (every item of every contact, with
client tokens, and every email its SES sent: the ground truth the checker compares the bot's view with)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

INSTANCE = "11111111-2222-4333-8444-555555555555"
FLOWS = {"simulated": "aaaaaaaa-bbbb-4ccc-8ddd-000000000001", "human": "aaaaaaaa-bbbb-4ccc-8ddd-000000000002"}
QUEUES = {"simulated": "99999999-8888-4777-8666-000000000001", "human": "99999999-8888-4777-8666-000000000002"}
SIMULATED_AGENT = "Ana"
REGION = "us-east-1"
ROLE_REGION = "us-west-2"
FAILOVER_REGION = "eu-west-1"  # a worker's failover region, served with dummy keys like REGION


def connect_config(chats: int) -> dict[str, Any]:
    """Two flows: `simulated`, whose queue's agent Ana joins at once, greets and answers every customer
    message with `You said: ...`; and `human`, whose queue has no simulated agent, so the harness
    accepts its chats through the agent API and speaks as the agent itself. Limits far above the load.
    The same instance is in `REGION`, in `ROLE_REGION`, where the service assumes a role through the
    local STS instead of signing with dummy keys (service_process.write_serve_config), and in
    `FAILOVER_REGION`, where failover tests move chats."""
    return {
        "regions": [
            {"name": name, "instances": [_instance(chats)]} for name in (REGION, ROLE_REGION, FAILOVER_REGION)
        ],
        "limits": {"max_active_chats_per_instance": 2 * chats + 10},
        "default_rate_limit": {"rate": 100_000, "burst": 100_000},
    }


def _instance(chats: int) -> dict[str, Any]:
    return {
        "id": INSTANCE,
        "contact_flows": [{"id": FLOWS[kind], "queue_id": QUEUES[kind]} for kind in FLOWS],
        "queues": [
            {"id": QUEUES["simulated"], "agents": [{
                "name": SIMULATED_AGENT, "join_delay_seconds": 0, "max_concurrent_chats": chats,
                "greeting": "Hi {customer}, I am {agent}.", "default_reply": "You said: {message}",
            }]},
            {"id": QUEUES["human"], "agents": []},
        ],
    }


class ConnectSide:
    def __init__(self, ready: dict[str, Any]) -> None:
        self.ready = ready
        self._agent = ready["agent_api_url"]
        self._admin = ready["admin_url"]

    def chats(self) -> list[dict[str, Any]]:
        """Every chat the agent API lists (waiting, connected and ended), newest first."""
        return _call("GET", f"{self._agent}/chats")["chats"]

    def contact_ids(self, customer_name: str) -> list[str]:
        """The contacts whose customer has this display name (the harness names each after its conversation)."""
        return [c["ContactId"] for c in self.chats() if c["CustomerName"] == customer_name]

    def contacts_in(self, region: str, customer_name: str) -> list[str]:
        """The contacts of this customer in `region`, oldest first."""
        chats = [c for c in self.chats() if c["CustomerName"] == customer_name and c["Region"] == region]
        return [c["ContactId"] for c in reversed(chats)]

    def outage(self, region: str, down: bool = True) -> None:
        """Every call in `region` answers 503 and its sockets are dropped and refused (or no longer)."""
        _call("POST", f"{self._admin}/faults/outage", {"Region": region, "Down": down})

    def latency(self, seconds: float, region: str) -> None:
        """Every call in `region` is answered `seconds` late (a region that hangs)."""
        _call("POST", f"{self._admin}/faults/latency", {"Seconds": seconds, "Region": region})

    def refuse_next(self, operation: str, code: str, message: str, status: int = 400) -> None:
        """The next call of `operation` (any region) is refused for good with `code`."""
        _call("POST", f"{self._admin}/faults/refuse",
              {"Count": 1, "Operation": operation, "Code": code, "Message": message, "Status": status})

    def clear_faults(self) -> None:
        _call("POST", f"{self._admin}/faults/clear", {})

    def record(self, contact_id: str) -> dict[str, Any]:
        """The admin API's full record: every item, each with `ClientToken` and `InTranscript`."""
        return _call("GET", f"{self._admin}/contacts/{contact_id}")

    def assume_role_calls(self) -> list[dict[str, Any]]:
        """Every STS AssumeRole call the local Connect answered (RoleArn, RoleSessionName,
        ExternalIdPresent, Region, At, Granted), oldest first."""
        return _call("GET", f"{self._admin}/assume-role-calls")["Calls"]

    def require_external_id(self, role_arn: str, external_id: str) -> None:
        """The local STS refuses (AccessDenied) to assume `role_arn` with any other external id."""
        _call("POST", f"{self._admin}/assume-role/external-id", {"RoleArn": role_arn, "ExternalId": external_id})

    def emails(self) -> list[dict[str, Any]]:
        """Every email its SES SendEmail accepted, oldest first (`ToAddresses`, `Subject`, `Text`, ...)."""
        return _call("GET", f"{self._admin}/emails")["Emails"]

    def wait_for_contact(self, customer_name: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            found = self.contact_ids(customer_name)
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no contact for {customer_name} at Connect after {timeout} s")
            time.sleep(0.05)

    def accept(self, contact_id: str, agent_name: str) -> None:
        _call("POST", f"{self._agent}/chats/{contact_id}/accept", {"AgentName": agent_name})

    def agent_says(self, contact_id: str, text: str) -> str:
        """Connect's id of the new AGENT message; ChatOver if the chat has ended."""
        body = {"Content": text, "ContentType": "text/plain"}
        return _call("POST", f"{self._agent}/chats/{contact_id}/messages", body)["Id"]

    def agent_leaves(self, contact_id: str) -> None:
        """The agent leaves (Connect ends the chat); ChatOver if it had already ended."""
        _call("POST", f"{self._agent}/chats/{contact_id}/leave", {})


class ChatOver(Exception):
    """The agent API answered 409: the chat has ended (the DISCONNECT rule came first)."""


def _call(method: str, url: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        if error.code == 409:
            raise ChatOver(f"{method} {url}: {error.read()[:300]!r}") from None
        raise AssertionError(f"{method} {url}: {error.code} {error.read()[:300]!r}") from None
