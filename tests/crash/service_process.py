"""Everything the crash harness knows of the service's outside, in one place: how the service child is
started, how a bot gets its credentials and sends them, how a webhook POST is verified and read. The rest
of tests/crash/ only uses what this module exports.

- operator set-up: workers, connectors and content items are made with `run.py worker create`,
  `run.py connector create` and `run.py content put` before the service starts, as an operator does
  (`run.py`'s `main`, in this process);
- credentials: the bot is an API client made with `run.py client create NAME --db DB` before the service
  starts, as an operator makes one; it prints the client's bearer token and its webhook signing secret
  (`whsec_...`);
- webhook: signed in the Standard Webhooks scheme (`webhook-id`, `webhook-timestamp`, `webhook-signature`),
  verified with the `standardwebhooks` library, as delivery/README.md tells a bot to;
- message: the JSON body with `Id`, `ConversationId`, `Seq`, `Type` and the type's fields (`OriginalText`
  of a translation, `SlashCommand` of a content item an agent's command sent).
"""

from __future__ import annotations

import io
import json
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

import run
from tests.crash.children import Child
from tests.crash.connect_side import FAILOVER_REGION, ROLE_REGION

_RUN_PY = threading.Lock()
# The service's own AWS credentials (boto3's default chain reads them from the environment): what it
# signs STS AssumeRole with; the local Connect accepts any.
SERVICE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIDCRASHSERVICE", "AWS_SECRET_ACCESS_KEY": "crash-service-secret"}


def write_serve_config(folder: Path, data_dir: Path, connect: Mapping[str, Any], api_port: int) -> Path:
    """`run.py serve`'s configuration: the data folder, a fixed API port (so a bot's URL survives a
    restart, as it would in production), and the region and the connectors' services (Translate,
    SES) pointed at the local Amazon Connect; in ROLE_REGION, each worker's role is assumed through
    the local Connect's STS (with SERVICE_CREDENTIALS) at each start, as in production."""
    path = folder / "serve.json"
    path.write_text(json.dumps({
        "data_dir": str(data_dir),
        "api_host": "127.0.0.1",
        "api_port": api_port,
        "regions": {
            connect["region"]: {"endpoint_url": connect["endpoint_url"], "static_credentials": True},
            ROLE_REGION: {"endpoint_url": connect["endpoint_url"], "static_credentials": False,
                          "sts_endpoint_url": connect["endpoint_url"]},
            FAILOVER_REGION: {"endpoint_url": connect["endpoint_url"], "static_credentials": True},
        },
        "connectors": {"endpoints": {"Translate": connect["endpoint_url"], "SES": connect["endpoint_url"]},
                       "static_credentials": True},
    }))
    return path


def start_service(config: Path, ready_file: Path, log: Path) -> tuple[Child, dict[str, Any]]:
    """`run.py serve` as a child; returns it and its ready file (with `api_url`) once it listens."""
    child = launch_service(config, ready_file, log)
    return child, child.wait_ready(ready_file)


def launch_service(config: Path, ready_file: Path, log: Path) -> Child:
    """`run.py serve` as a child, not waited for: `child.wait_ready(ready_file)` once it must listen."""
    ready_file.unlink(missing_ok=True)
    return Child("service", ["serve", "--config", str(config), "--ready-file", str(ready_file)], log,
                 env=SERVICE_CREDENTIALS)


def log_option(data_dir: Path, config: Path | None = None) -> list[str]:
    """How an operator's command names the log: `--db DATA/events.db`, or `--config FILE` (serve's
    configuration: a DynamoDB table and the data folder beside it, as the three-node mode has)."""
    return ["--config", str(config)] if config is not None else ["--db", str(data_dir / "events.db")]


def create_worker(worker: Mapping[str, Any], folder: Path, data_dir: Path, config: Path | None = None) -> str:
    """`run.py worker create FILE --db DB` (or `--config FILE`), as an operator does it (the file in
    `folder`, beside the data folder, which the service keeps owner-only); the new worker's id."""
    path = folder / f"worker-{worker['Name']}.json"
    path.write_text(json.dumps(worker))
    out = _run_py("worker", "create", str(path), *log_option(data_dir, config))
    return out.strip().split()[-1]


def create_connector(connector: Mapping[str, Any], folder: Path, data_dir: Path, config: Path | None = None) -> None:
    """`run.py connector create FILE --db DB` (the file in `folder`, named after its alias)."""
    path = folder / f"connector-{connector['Alias']}.json"
    path.write_text(json.dumps(connector))
    _run_py("connector", "create", str(path), *log_option(data_dir, config))


def put_content(worker_id: str, key: str, text: str, data_dir: Path, config: Path | None = None) -> None:
    """`run.py content put WORKER_ID KEY --text TEXT --db DB`."""
    _run_py("content", "put", worker_id, key, "--text", text, *log_option(data_dir, config))


def failover(worker_id: str, data_dir: Path, *options: str) -> tuple[int, str]:
    """`run.py failover WORKER_ID OPTIONS --db DB`, as the operator gives the order: its exit code
    (1: a running service did not carry it out within --wait) and what it printed."""
    return _run_py_code("failover", worker_id, *options, "--db", str(data_dir / "events.db"))


def put_secret(reference: str, value: str, data_dir: Path, config: Path | None = None) -> None:
    """`run.py secret put REF --db DB` (or `--config FILE`: the vault serve's configuration names), the
    value from stdin, as an operator stores a role or a key."""
    _run_py("secret", "put", reference, *log_option(data_dir, config), stdin=value)


@dataclass(frozen=True)
class BotCredentials:
    """What a bot holds: the bearer token it sends, the secret its webhooks are signed with."""

    token: str
    signing_secret: str


def client_credentials(data_dir: Path, name: str = "crash-bot", config: Path | None = None) -> BotCredentials:
    """`run.py client create NAME --db DB` (run before the service starts): the new client's bearer
    token and webhook signing secret, read from the lines it prints once."""
    fields = {}
    for line in _run_py("client", "create", name, *log_option(data_dir, config)).splitlines():
        for key in ("token", "signing secret"):
            if line.startswith(key + " "):
                fields[key] = line[len(key):].strip()
    return BotCredentials(fields["token"], fields["signing secret"])


def auth_headers(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


def verify_webhook(secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
    """Whether a POST is signed with `secret` (a `whsec_...`) in the Standard Webhooks scheme, by the
    `standardwebhooks` library: headers present, signature matching, timestamp within 5 minutes of now.
    Malformed headers or a body that is not UTF-8 count as not signed (the library raises ValueError)."""
    try:
        Webhook(secret).verify(body, dict(headers), json_parse=False)
    except (WebhookVerificationError, ValueError):
        return False
    return True


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
    original_text: str | None = None  # what was written, on a translated AgentMessage and a MessageTranslated
    slash_command: str | None = None  # the agent's command, on an AgentMessage that is a content item
    arrived: float = field(default=0.0, compare=False)  # when the receiver took it (wall clock), not what was said

    def content(self) -> tuple[Any, ...]:
        """Everything but the envelope's timing: a repeat with the same Id must carry the same."""
        return (self.conversation_id, self.seq, self.type, self.text, self.role, self.connect_message_id,
                json.dumps(self.context, sort_keys=True), self.message_id, self.code, self.original_text,
                self.slash_command)


def parse_webhook(body: bytes, *, arrived: float = 0.0) -> BotMessage:
    raw = json.loads(body)
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
        original_text=raw.get("OriginalText"),
        slash_command=raw.get("SlashCommand"),
        arrived=arrived,
    )


def _run_py(*arguments: str, stdin: str = "") -> str:
    """`run.py ARGUMENTS`' output; a failure raises, with what it said."""
    code, out = _run_py_code(*arguments, stdin=stdin)
    if code != 0:
        raise RuntimeError(f"run.py {' '.join(arguments[:2])} failed ({code}): {out}")
    return out


def _run_py_code(*arguments: str, stdin: str = "") -> tuple[int, str]:
    """`run.py ARGUMENTS`' exit code and output (stdout, then stderr): its `main` in this process (the
    code an operator's command runs, without an interpreter's start of most of a second each); one at a
    time, as it takes stdin and stdout."""
    out, err = io.StringIO(), io.StringIO()
    given = io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8")
    with _RUN_PY, redirect_stdout(out), redirect_stderr(err), _stdin(given):
        try:
            code = run.main(list(arguments))
        except SystemExit as exit:  # argparse refusing the arguments
            code = exit.code
    return int(code or 0), out.getvalue() + err.getvalue()


@contextmanager
def _stdin(given: io.TextIOWrapper) -> Iterator[None]:
    taken, sys.stdin = sys.stdin, given
    try:
        yield
    finally:
        sys.stdin = taken
