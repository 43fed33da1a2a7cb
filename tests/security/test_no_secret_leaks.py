"""Nothing the service writes or prints holds a secret (the acceptance test for secrets): one run that uses every
kind of secret the service knows, the way an operator and a bot meet it (two chats both ways, a socket
dropped, a connection expired, a permission refused, a webhook down once, a restart mid-chat, then the
operator's commands, `doctor` among them), and a search of everything it wrote or printed for every
secret's value.

The secrets: the worker's cross-account role (its external id), assumed through moto's STS, and the
session keys STS gave for it; the service's own AWS keys; a connector's `secretdoc` of temporary access
keys; the short-link API's key, put through stdin; the vault's own key; a bot's API token and webhook
signing secret; the participant and connection tokens the local Amazon Connect gave, and the keys in
its WebSocket URLs.

What is searched: every log record of our loggers at DEBUG and every WARNING or worse of any logger
(botocore's DEBUG prints credentials by design, so it is not turned on), as the code logged it and as
the service's handler renders it (JSON and text lines, after its scrub, logs/); all the CLI printed; every API
answer, /metrics (scraped with an admin client's token), /healthz and /readyz among them; every webhook's body and headers but its signature (derived from the signing secret); what the
service sent Amazon Connect (the contact's items and attributes); every column of every table of the
store, and every file of the data folder byte by byte. A secret kept somewhere on purpose is allowed
there alone: the tokens in the events table's data (exports redact them: `replay`, `events export`, `replay --file`
and `events tail` are searched), the signing secret in the clients table (the deliverer signs with it), the external id in
`worker policy`'s trust policy, the vault's key in its key file, and a new client's token and signing
secret in what `client create` prints.
"""

from __future__ import annotations

import io
import json
import logging
import sqlite3
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

import run
from commands.runtime import Running, running_service
from connect_local import Config, LocalConnect
from events.conversation_events import ChatStarted, ConnectionOpened, ConnectionRenewed, ConnectionTokenKept
from logs import FORMATS
from logs.setup import formatter
from roles import RoleSessions
from service.serve_config import connector_runner, load_serve_config, open_vault, region_clients
from store import EventStore
from store.data_folder import prepare_data_folder
from tests.connect_local.configs import config_with
from tests.security.conftest import Shortener, Webhook
from tests.service.harness import Api, events_of, of_type, wait_for
from tests.support.aws_roles import MotoRoles, moto_roles
from tests.support.probes import get
from vault.local import KEY_FILE

REPO = Path(__file__).resolve().parents[2]
ROLE_REF = "srn:vault::acme:aws-cross-account-role:connect"
KEYS_REF = "srn:vault::acme:secretdoc:translate"
KEY_REF = "srn:vault::acme:secret:squeeze"
EXTERNAL_ID = "ext-7f3a91c2-only-in-the-trust-policy"
SHORT_LINK_KEY = "sqz-live-4b9e2c71d0a8f6e5"
OUR_LOGGERS = (
    "actors", "api", "commands", "connect_client", "connectors", "delivery", "events", "net", "retry", "roles",
    "service", "store", "vault",
)
SIGNATURE_HEADER = "webhook-signature"

# The names of the secrets, and where each may be found on purpose.
EXTERNAL = "the role's external id"
PARTICIPANT = "a participant token"
CONNECTION = "a connection token"
API_TOKEN = "the API token"
SIGNING = "the signing secret"
VAULT_KEY = "the vault's key"
SOCKET_KEY = "a socket key"
ALLOWED_IN_STORE = {("events", "data"): (PARTICIPANT, CONNECTION), ("api_clients", "signing_secret"): (SIGNING,)}


class Seen:
    """Every text the run produced, by where it was seen, with the secrets allowed there."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str, tuple[str, ...]]] = []

    def add(self, where: str, text: str | bytes, *, allowed: tuple[str, ...] = ()) -> None:
        # Every secret is ASCII: latin-1 reads any bytes, each byte one character.
        self.texts.append((where, text.decode("latin-1") if isinstance(text, bytes) else text, allowed))

    def where(self, value: str) -> list[str]:
        return [where for where, text, _ in self.texts if value in text]

    def leaks(self, secrets: dict[str, list[str]]) -> list[str]:
        return [
            f"{name} in {where}"
            for where, text, allowed in self.texts
            for name, values in secrets.items()
            if name not in allowed and any(value in text for value in values)
        ]


class Bot:
    """A bot on the API, keeping every answer it got."""

    def __init__(self, url: str, token: str, seen: Seen) -> None:
        self.api = Api(url, token)
        self.seen = seen

    def call(self, method: str, path: str, body: Any = None, *, token: str | None = None) -> tuple[int, Any]:
        status, answer = self.api.call(method, path, body, token=token)
        self.seen.add(f"the API's answer to {method} {path} ({status})", json.dumps(answer))
        return status, answer


class Operator:
    """`run.py` in this process (moto's STS answers it too), keeping all it printed."""

    def __init__(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: str, seen: Seen
    ) -> None:
        self.capsys = capsys
        self.monkeypatch = monkeypatch
        self.db = db
        self.seen = seen

    def __call__(self, *arguments: str, stdin: str | None = None, allowed: tuple[str, ...] = ()) -> str:
        if stdin is not None:
            self.monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
        # `--config` names the store itself (doctor).
        code = run.main([*arguments] if "--config" in arguments else [*arguments, "--db", self.db])
        out, err = self.capsys.readouterr()
        self.seen.add(f"`run.py {' '.join(arguments)}`", out + err, allowed=allowed)
        assert code == 0, err
        return out


@pytest.fixture
def aws() -> Iterator[MotoRoles]:
    with moto_roles() as roles:
        yield roles


def serve_config(path: Path, connect: LocalConnect, data: Path) -> Path:
    """`serve`'s configuration: its region and Translate at the local Connect, every call signed as the
    vault says (no `static_credentials`): the worker's role assumed through STS, the connector's keys."""
    config = {
        "data_dir": str(data),
        "api_port": 0,
        "regions": {connect.ready_info()["region"]: {"endpoint_url": connect.endpoint_url}},
        "connectors": {"endpoints": {"Translate": connect.endpoint_url}},
    }
    path.write_text(json.dumps(config))
    return path


@contextmanager
def serving(store: EventStore, config_file: Path) -> Iterator[Running]:
    """The service as `run.py serve` wires it."""
    config = load_serve_config(config_file.read_bytes())
    vault = open_vault(config.vault, store.path)
    roles = RoleSessions(vault)
    with running_service(
        store,
        region_clients(config, vault, roles=roles),
        port=config.api_port,
        run_connector=connector_runner(config, store, vault, roles=roles),
        vault=vault,
    ) as running:
        yield running


def agent(connect: LocalConnect, contact_id: str, action: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    url = f"{connect.endpoint_url}/agent/api/chats/{contact_id}/{action}"
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def customer_lines(connect: LocalConnect, contact_id: str) -> list[str]:
    items = agent(connect, contact_id, "transcript")["Items"]
    return [i["Content"] for i in items if i.get("Type") == "MESSAGE" and i.get("ParticipantRole") == "CUSTOMER"]


def temporary_keys(aws: MotoRoles) -> dict[str, str]:
    """A `secretdoc` of temporary access keys: an IAM user's, through STS GetSessionToken."""
    user = aws.user_keys("translator", ("translate:TranslateText", "sts:GetSessionToken"))
    sts = boto3.client(
        "sts", region_name="us-east-1",
        aws_access_key_id=user["AccessKeyId"], aws_secret_access_key=user["SecretAccessKey"],
    )
    given = sts.get_session_token()["Credentials"]
    return {key: given[key] for key in ("AccessKeyId", "SecretAccessKey", "SessionToken")}


def worker_file(path: Path, connect: LocalConnect, shortener: Shortener) -> Path:
    info = connect.ready_info()
    worker = {
        "Data": {
            "ContactFlowId": info["contact_flow_id"],
            "InitialConnectionMessage": json.dumps({"topic": "aws/subscribe", "content": {"topics": ["aws/chat"]}}),
            "InstanceId": info["instance_id"],
            "QueueId": info["queue_id"],
            "Region": info["region"],
            "Secret": ROLE_REF,
            "ShortLinkConfig": {"Config": {"Api": shortener.url, "ApiKey": KEY_REF}, "Type": "Squeeze"},
            "IngressTranslationConfig": {
                "ConnectorAlias": "IngressTranslateBaas", "SourceLanguageCode": "es", "TargetLanguageCode": "en"
            },
        },
        "Description": "Every kind of secret",
        "Enabled": True,
        "Name": "Acme",
        "Type": "amazon-connect-worker",
    }
    path.write_text(json.dumps(worker))
    return path


def connector_file(path: Path) -> Path:
    connector = json.loads((REPO / "examples" / "connectors" / "ingress-translate.json").read_text())
    path.write_text(json.dumps({**connector, "Organization": "acme", "Credentials": KEYS_REF}))
    return path


def transferred(bot: Bot, store: EventStore, worker_id: str, conversation_id: str, webhook: Webhook) -> None:
    body = {
        "ConversationId": conversation_id, "WorkerId": worker_id, "BotName": "Botty", "User": {"Name": "Maya"},
        "Context": {"Order": "4711"}, "DeliverTo": webhook.url,
    }
    assert bot.call("POST", "/v1/conversations", body)[0] == 201
    wait_for(lambda: of_type(events_of(store, conversation_id), "ConnectionOpened"), f"{conversation_id}'s socket")


def shortened(webhook: Webhook, conversation_id: str, link: str) -> list[dict[str, Any]]:
    return [m for m in webhook.messages("AgentMessage", conversation_id) if link in m["Text"]]


def running_out_of_luck(connect: LocalConnect, store: EventStore, bot: Bot, webhook: Webhook, contact_id: str) -> None:
    """What goes wrong in a long chat, where the service handles its tokens and says why: the socket
    dropped, the connection expired, a permission the role lacks."""
    connections = len(of_type(events_of(store, "leak-1"), "ConnectionOpened"))
    connect.drop_sockets(contact_id)
    connect.expire_connections(contact_id)
    wait_for(
        lambda: len(of_type(events_of(store, "leak-1"), "ConnectionOpened")) > connections, "a new connection"
    )
    denied = (
        "User: arn:aws:sts::123456789012:assumed-role/acme-connect/x is not authorized to perform: "
        "connect:UpdateContactAttributes"
    )
    connect.refuse_next(1, "UpdateContactAttributes", "AccessDeniedException", denied, status=403)
    assert bot.call("PUT", "/v1/conversations/leak-1/context", {"Context": {"Order": "4713"}})[0] == 202
    wait_for(lambda: webhook.messages("ContextUpdateRefused", "leak-1"), "the refused context update")


def scraped(running: Running, seen: Seen) -> None:
    """What Prometheus and the load balancer's probes read, while a chat is live."""
    admin = running.clients.create("prometheus", admin=True).token
    for path, token in (("/metrics", admin), ("/healthz", None), ("/readyz", None)):
        status, _, body = get(running.api_url + path, token)
        assert status == 200, (path, status, body)
        seen.add(f"the answer to GET {path}", body.decode())


def exports(operator: Operator, *conversation_ids: str) -> None:
    """Every way a conversation leaves the store: replay (timeline and JSON), an exported file and its
    replay with no store, events tail."""
    folder = Path(operator.db).parent.parent / "exports"
    folder.mkdir(exist_ok=True)
    for conversation_id in conversation_ids:
        operator("replay", conversation_id)
        operator("replay", conversation_id, "--json")
        exported = folder / f"{conversation_id}.jsonl"
        exported.write_text(operator("events", "export", conversation_id))
        operator("replay", "--file", str(exported))
        operator("replay", "--file", str(exported), "--json")
    operator("events", "tail", "--last", "100")
    operator("events", "tail", "--after", "0")


def store_columns(path: Path, seen: Seen) -> None:
    """Every value of every column of every table, as SQLite gives it."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            cursor = db.execute(f'SELECT * FROM "{table}"')
            rows = cursor.fetchall()
            for index, (column, *_) in enumerate(cursor.description):
                values = [row[index] for row in rows]
                text = "\n".join(v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in values)
                seen.add(f"the store's {table}.{column}", text, allowed=ALLOWED_IN_STORE.get((table, column), ()))


@dataclass(frozen=True)
class Setup:
    """What the operator made before the service started, with the secrets it was given."""

    role_arn: str
    translator_keys: dict[str, str]
    token: str
    signing_secret: str
    connector_id: str
    worker_id: str


def operator_sets_up(
    operator: Operator, aws: MotoRoles, connect: LocalConnect, shortener: Shortener, folder: Path
) -> Setup:
    """The vault's three kinds of secret (a file, a file, stdin), a bot's client, the connector, the worker."""
    role = aws.role("acme-connect", EXTERNAL_ID)
    (folder / "role.json").write_text(json.dumps({"RoleArn": role.role_arn, "ExternalId": EXTERNAL_ID}))
    operator("secret", "put", ROLE_REF, "--file", str(folder / "role.json"))
    keys = temporary_keys(aws)
    (folder / "keys.json").write_text(json.dumps(keys))
    operator("secret", "put", KEYS_REF, "--file", str(folder / "keys.json"))
    operator("secret", "put", KEY_REF, stdin=SHORT_LINK_KEY + "\n")
    made = operator("client", "create", "acme-bot", allowed=(API_TOKEN, SIGNING)).splitlines()
    connector_id = operator("connector", "create", str(connector_file(folder / "translate.json"))).strip()
    worker_id = operator("worker", "create", str(worker_file(folder / "worker.json", connect, shortener))).strip()
    return Setup(role.role_arn, keys, made[1].split()[-1], made[2].split()[-1], connector_id, worker_id)


def conversations(
    store: EventStore, connect: LocalConnect, config: Path, setup: Setup, webhook: Webhook, operator: Operator, seen: Seen
) -> tuple[str, str]:
    """leak-1 both ways (a translated message, an agent's link, a context update, a dropped socket, an
    expired connection, a permission refused), a restart in its middle, then the agent's hand-back;
    leak-2 handed back by the bot. Their contact ids."""
    with serving(store, config) as running:
        bot = Bot(running.api_url, setup.token, seen)
        transferred(bot, store, setup.worker_id, "leak-1", webhook)
        contact_id = running.service.state("leak-1").chat.contact_id
        agent(connect, contact_id, "accept", {"AgentName": "Ana"})
        wait_for(lambda: webhook.messages("AgentJoined", "leak-1"), "Ana joining")

        assert bot.call("POST", "/v1/conversations/leak-1/messages", {"MessageId": "m-1", "Text": "hola"})[0] == 202
        wait_for(lambda: "hello" in customer_lines(connect, contact_id), "the translation at Connect")
        agent(connect, contact_id, "messages", {"Content": "Your order: https://shop.example/orders/42"})
        wait_for(lambda: shortened(webhook, "leak-1", "https://sqz.test/42"), "the agent's short link")
        assert bot.call("POST", "/v1/conversations/leak-1/typing")[0] == 202
        assert bot.call("PUT", "/v1/conversations/leak-1/context", {"Context": {"Order": "4712"}})[0] == 202
        wait_for(lambda: of_type(events_of(store, "leak-1"), "ContextUpdated"), "the context at Connect")
        running_out_of_luck(connect, store, bot, webhook, contact_id)
        for path in ("/v1/conversations/leak-1", "/v1/conversations/leak-1/events?after=0", "/v1/conversations"):
            assert bot.call("GET", path)[0] == 200
        assert bot.call("GET", f"/v1/workers/{setup.worker_id}/queue")[0] == 200
        assert bot.call("GET", "/v1/regions")[0] == 200
        assert bot.call("GET", "/v1/conversations/leak-1", token=setup.token + "x")[0] == 401

    # A restart: recovery reconnects from the stored participant token, with a new AssumeRole.
    connections = len(of_type(events_of(store, "leak-1"), "ConnectionOpened"))
    with serving(store, config) as running:
        bot = Bot(running.api_url, setup.token, seen)
        wait_for(lambda: len(of_type(events_of(store, "leak-1"), "ConnectionOpened")) > connections, "the recovery")
        exports(operator, "leak-1")  # while the chat is live
        operator("status")
        operator("status", "--json")
        scraped(running, seen)
        assert bot.call("POST", "/v1/conversations/leak-1/messages", {"MessageId": "m-2", "Text": "gracias"})[0] == 202
        wait_for(lambda: "thank you" in customer_lines(connect, contact_id), "the translation after the restart")
        agent(connect, contact_id, "messages", {"Content": "Track it at https://shop.example/track/43"})
        wait_for(lambda: shortened(webhook, "leak-1", "https://sqz.test/43"), "the short link after the restart")
        agent(connect, contact_id, "leave", {})
        [back] = wait_for(lambda: webhook.messages("ReturnedToBot", "leak-1"), "the hand-back")
        assert back["Context"]["SessionEndReason"] == "AgentLeft"

        transferred(bot, store, setup.worker_id, "leak-2", webhook)
        assert bot.call("POST", "/v1/conversations/leak-2/leave")[0] == 202
        [back] = wait_for(lambda: webhook.messages("ReturnedToBot", "leak-2"), "the user's hand-back")
        assert back["Context"]["SessionEndReason"] == "UserLeft"
        assert bot.call("GET", "/v1/conversations/leak-2")[0] == 200
        return contact_id, running.service.state("leak-2").chat.contact_id


def operator_looks(operator: Operator, setup: Setup, config: Path) -> str:
    """What an operator reads afterwards, without asking for a value; `worker policy`'s output."""
    operator("secret", "list")
    for reference in (ROLE_REF, KEYS_REF, KEY_REF):
        operator("secret", "get", reference)
    operator("client", "list")
    operator("worker", "get", setup.worker_id)
    operator("worker", "list")
    policy = operator("worker", "policy", setup.worker_id, allowed=(EXTERNAL,))
    operator("connector", "get", setup.connector_id)
    operator("connector", "list")
    operator("doctor", setup.worker_id, "--config", str(config))
    exports(operator, "leak-1", "leak-2")
    return policy


def the_rest(
    seen: Seen,
    caplog: pytest.LogCaptureFixture,
    log_lines: dict[str, io.StringIO],
    capsys: pytest.CaptureFixture[str],
    webhook: Webhook,
    connect: LocalConnect,
    contact_ids: tuple[str, ...],
    data: Path,
) -> None:
    """Logs, anything else printed, webhooks, what Connect was sent, the store and the data folder."""
    # What the code logged, before the last line of defence (logs/scrub.py) scrubs it: a leak here is a bug
    # even if the scrub would catch it.
    for record in caplog.records:
        if record.name.split(".")[0] in OUR_LOGGERS or record.levelno >= logging.WARNING:
            seen.add(f"the log record {record.name} {record.levelname}", logging.Formatter().format(record))
    # And the lines an operator's collector gets (`--log-level DEBUG`), JSON and text.
    for format, stream in log_lines.items():
        seen.add(f"the service's {format} log lines", stream.getvalue())
    seen.add("stdout and stderr", "".join(capsys.readouterr()))
    for delivery in webhook.deliveries:
        headers = {name: value for name, value in delivery.headers.items() if name.lower() != SIGNATURE_HEADER}
        seen.add("a webhook", json.dumps(headers) + delivery.body)
    for contact_id in contact_ids:
        seen.add(f"contact {contact_id} at Connect", json.dumps(connect.contact_record(contact_id)))
    store_columns(data / "events.db", seen)
    for file in sorted(data.iterdir()):
        allowed = (VAULT_KEY,) if file.name == KEY_FILE else (PARTICIPANT, CONNECTION, SIGNING)
        seen.add(f"the data folder's {file.name}", file.read_bytes(), allowed=allowed)


def secrets_in_play(
    aws: MotoRoles, setup: Setup, events: list[Any], connect: LocalConnect, data: Path
) -> dict[str, list[str]]:
    """Every secret value and credential the run used, by name."""
    sessions = aws.assumed()
    keys = setup.translator_keys
    return {
        EXTERNAL: [EXTERNAL_ID],
        "the role session's access key id": [session.access_key_id for session in sessions],
        "the role session's secret key": [session.secret_access_key for session in sessions],
        "the role session's token": [session.session_token for session in sessions],
        "the service's own access key id": [aws.service_keys["AWS_ACCESS_KEY_ID"]],
        "the service's own secret key": [aws.service_keys["AWS_SECRET_ACCESS_KEY"]],
        "the secretdoc's access key id": [keys["AccessKeyId"]],
        "the secretdoc's secret key": [keys["SecretAccessKey"]],
        "the secretdoc's session token": [keys["SessionToken"]],
        "the short-link key": [SHORT_LINK_KEY],
        VAULT_KEY: [(data / KEY_FILE).read_text().strip()],
        API_TOKEN: [setup.token],
        SIGNING: [setup.signing_secret, setup.signing_secret.removeprefix("whsec_")],
        PARTICIPANT: [event.participant_token for event in events if isinstance(event, ChatStarted)],
        CONNECTION: list(dict.fromkeys(  # each once: ConnectionOpened carries the token ConnectionTokenKept kept
            event.connection_token for event in events
            if isinstance(event, (ConnectionTokenKept, ConnectionOpened, ConnectionRenewed)) and event.connection_token
        )),
        # Handed out only inside the WebSocket URL, which the service never stores: Connect's model has them.
        SOCKET_KEY: [connection.socket_key for connection in connect.model._connections.values()],
    }


def test_no_secret_reaches_a_log_an_output_an_answer_a_webhook_or_a_plain_column(
    tmp_path: Path,
    aws: MotoRoles,
    start_server: Callable[[Config], LocalConnect],
    webhook: Webhook,
    shortener: Shortener,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    for name in OUR_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    log_lines = {format: io.StringIO() for format in FORMATS}
    for format, stream in log_lines.items():
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter(format))
        logging.getLogger().addHandler(handler)
        request.addfinalizer(lambda handler=handler: logging.getLogger().removeHandler(handler))  # type: ignore[misc]
    seen = Seen()
    data = tmp_path / "data"
    prepare_data_folder(data)
    operator = Operator(capsys, monkeypatch, str(data / "events.db"), seen)
    connect = start_server(config_with(agents=[]))

    setup = operator_sets_up(operator, aws, connect, shortener, tmp_path)
    config = serve_config(tmp_path / "serve.json", connect, data)
    with EventStore.open(data / "events.db") as store:
        contact_ids = conversations(store, connect, config, setup, webhook, operator, seen)
        events = events_of(store, "leak-1") + events_of(store, "leak-2")
    policy = operator_looks(operator, setup, config)
    the_rest(seen, caplog, log_lines, capsys, webhook, connect, contact_ids, data)
    secrets = secrets_in_play(aws, setup, events, connect, data)

    # Every secret was in play, and the search finds each where it is kept on purpose.
    # Each run of the service once; doctor twice: its check that the role can be assumed, and its clients.
    assert [(s.role_arn, s.external_id) for s in aws.assumed()] == [(setup.role_arn, EXTERNAL_ID)] * 4
    assert set(shortener.keys) == {SHORT_LINK_KEY}
    assert len(secrets[PARTICIPANT]) == 2
    assert len(secrets[CONNECTION]) == len(secrets[SOCKET_KEY]) >= 4  # leak-1's first, renewed, recovered; leak-2's
    assert all(len(value) >= 16 for values in secrets.values() for value in values)
    [trust] = json.loads(policy)["Roles"][0]["TrustPolicy"]["Statement"]
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}
    assert "the store's events.data" in seen.where(secrets[PARTICIPANT][0])
    assert "the store's events.data" in seen.where(secrets[CONNECTION][-1])
    assert "the store's api_clients.signing_secret" in seen.where(setup.signing_secret)

    # The JSON lines parse, and those logged while leak-1's actor handled it name it and its worker.
    json_lines = [json.loads(line) for line in log_lines["json"].getvalue().splitlines()]
    assert {line.get("worker_id") for line in json_lines if line.get("conversation_id") == "leak-1"} == {setup.worker_id}

    leaks = seen.leaks(secrets)
    assert not leaks, "secrets where none may be:\n" + "\n".join(leaks)
