"""Everything the crash harness knows of the service's outside that is still changing, in one place:
how the service child is started, how a bot gets its credential and sends it, how a webhook POST is
verified and read. When the API's auth, the webhook signature scheme or the message envelope changes,
this is the module to adapt; the rest of tests/crash/ only uses what it exports.

As of December 2026 (both schemes are kept, so an older data folder or tree still runs):
- credentials: `run.py client create NAME --db DB` prints a per-client token and webhook signing
  secret (`whsec_...`); without that command, the service's single token in `DATA/api-token` and its
  webhook secret in `DATA/webhook-secret`;
- webhook: Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`
  over `id.timestamp.body`), or the earlier `X-Connect-Worker-Signature` (HMAC-SHA256 over
  `timestamp + "." + body`);
- message: the JSON body with `Id`, `ConversationId`, `Seq`, `Type` and the type's fields (read
  from under `data` too, should the body become a Standard Webhooks `{"type", "data"}` envelope).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.crash.children import REPO, Child

API_TOKEN_FILE = "api-token"
WEBHOOK_SECRET_FILE = "webhook-secret"
SIGNATURE_TOLERANCE_SECONDS = 300


def write_serve_config(folder: Path, data_dir: Path, connect: Mapping[str, Any], api_port: int) -> Path:
    """`run.py serve`'s configuration: the data folder, a fixed API port (so a bot's URL survives a
    restart, as it would in production), and the region pointed at the local Amazon Connect."""
    path = folder / "serve.json"
    path.write_text(json.dumps({
        "data_dir": str(data_dir),
        "api_host": "127.0.0.1",
        "api_port": api_port,
        "regions": {connect["region"]: {"endpoint_url": connect["endpoint_url"], "static_credentials": True}},
    }))
    return path


def start_service(config: Path, ready_file: Path, log: Path) -> tuple[Child, dict[str, Any]]:
    """`run.py serve` as a child; returns it and its ready file (with `api_url`) once it listens."""
    ready_file.unlink(missing_ok=True)
    child = Child("service", ["serve", "--config", str(config), "--ready-file", str(ready_file)], log)
    return child, child.wait_ready(ready_file)


def create_worker(worker: Mapping[str, Any], folder: Path, data_dir: Path) -> str:
    """`run.py worker create FILE --db DB`, as an operator does it (the file in `folder`, beside the
    data folder, which the service keeps owner-only); the new worker's id."""
    path = folder / f"worker-{worker['Name']}.json"
    path.write_text(json.dumps(worker))
    out = _run_py("worker", "create", str(path), "--db", str(data_dir / "events.db"))
    return out.strip().split()[-1]


@dataclass(frozen=True)
class BotCredentials:
    """What a bot holds: the bearer token it sends, the secret its webhooks are signed with."""

    token: str
    signing_secret: str


def client_credentials(data_dir: Path, name: str = "crash-bot") -> BotCredentials | None:
    """A per-client token and signing secret from `run.py client create NAME --db DB` (run before the
    service starts); None while run.py has no `client` command (the service's single token then)."""
    answer = subprocess.run([sys.executable, "run.py", "client", "create", name, "--db", str(data_dir / "events.db")],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    if answer.returncode != 0 and "invalid choice: 'client'" in answer.stderr:
        return None
    if answer.returncode != 0:
        raise RuntimeError(f"run.py client create failed ({answer.returncode}): {answer.stdout}{answer.stderr}")
    fields = {}
    for line in answer.stdout.splitlines():
        for key in ("token", "signing secret"):
            if line.startswith(key + " "):
                fields[key] = line[len(key):].strip()
    return BotCredentials(fields["token"], fields["signing secret"])


def service_credentials(data_dir: Path) -> BotCredentials:
    """The service's one token and webhook secret, which its first start writes into the data folder."""
    return BotCredentials((data_dir / API_TOKEN_FILE).read_text().strip(),
                          (data_dir / WEBHOOK_SECRET_FILE).read_text().strip())


def auth_headers(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


def verify_webhook(secret: str, body: bytes, headers: Mapping[str, str], *, now: float | None = None) -> bool:
    """Whether a POST is signed by the service: whichever of the two schemes its headers carry."""
    now = time.time() if now is None else now
    lower = {k.lower(): v for k, v in headers.items()}
    if "webhook-signature" in lower:
        return _verify_standard(secret, body, lower, now)
    timestamp, signed = lower.get("x-connect-worker-timestamp", ""), lower.get("x-connect-worker-signature", "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signed)


def _verify_standard(secret: str, body: bytes, lower: Mapping[str, str], now: float) -> bool:
    message_id, timestamp = lower.get("webhook-id", ""), lower.get("webhook-timestamp", "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_")) if secret.startswith("whsec_") else secret.encode()
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    offered = [part.split(",", 1)[1] for part in lower["webhook-signature"].split() if part.startswith("v1,")]
    return any(hmac.compare_digest(expected, signature) for signature in offered)


@dataclass(frozen=True)
class BotMessage:
    """What the harness reads from one webhook POST."""

    id: str
    conversation_id: str
    seq: int
    type: str
    text: str | None = None
    role: str | None = None
    connect_message_id: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    message_id: str | None = None  # the bot's MessageId, on a MessageRefused
    code: str | None = None  # why, on a MessageRefused (ChatEnded: never confirmed, may be at Connect)

    def content(self) -> tuple[Any, ...]:
        """Everything but the envelope's timing: a repeat with the same Id must carry the same."""
        return (self.conversation_id, self.seq, self.type, self.text, self.role, self.connect_message_id,
                json.dumps(self.context, sort_keys=True), self.message_id, self.code)


def parse_webhook(body: bytes, headers: Mapping[str, str]) -> BotMessage:
    raw = json.loads(body)
    if isinstance(raw.get("data"), dict) and "Id" not in raw:  # Standard Webhooks' envelope
        webhook_id = {k.lower(): v for k, v in headers.items()}.get("webhook-id")
        raw = {**raw["data"], "Id": raw["data"].get("Id") or webhook_id}
    return BotMessage(
        id=raw["Id"],
        conversation_id=raw["ConversationId"],
        seq=int(raw["Seq"]),
        type=raw["Type"],
        text=raw.get("Text"),
        role=raw.get("Role"),
        connect_message_id=raw.get("ConnectMessageId"),
        context=raw.get("Context") or {},
        message_id=raw.get("MessageId"),
        code=raw.get("Code"),
    )


def _run_py(*arguments: str) -> str:
    answer = subprocess.run([sys.executable, "run.py", *arguments], cwd=REPO, capture_output=True, text=True,
                            timeout=60)
    if answer.returncode != 0:
        command = " ".join(arguments[:2])
        raise RuntimeError(f"run.py {command} failed ({answer.returncode}): {answer.stdout}{answer.stderr}")
    return answer.stdout
