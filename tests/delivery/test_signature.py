"""Webhook signatures are Standard Webhooks: the spec's own vector, any verifier, one secret per API client."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from delivery import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookDeliverer
from delivery.signature import BadSecret, signature_headers
from retry import Backoff
from store import EventStore
from tests.delivery.conversations import append, whole
from tests.delivery.deliverers import SECRET, told
from tests.delivery.polling import eventually
from tests.delivery.receiver import Receiver

README = Path(__file__).resolve().parents[2] / "delivery" / "README.md"

# The Standard Webhooks specification's published test vector.
SPEC_SECRET = SECRET
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

SECRETS = {
    "bot-a": "whsec_" + base64.b64encode(b"the key of bot a, 32 bytes long!").decode(),
    None: "whsec_" + base64.b64encode(b"the key for transfers before clients").decode(),
}


@pytest.fixture
def deliverer(store: EventStore) -> Iterator[WebhookDeliverer]:
    started = WebhookDeliverer(store, signing_secret=SECRETS.get, backoff=Backoff(first=0.001, cap=0.01))
    started.start()
    yield started
    started.stop()


def test_the_signature_is_the_specifications_known_answer() -> None:
    headers = signature_headers(SPEC_SECRET, SPEC_ID, SPEC_BODY, timestamp=SPEC_TIMESTAMP)

    key = base64.b64decode(SPEC_SECRET.removeprefix("whsec_"))
    by_hand = hmac.new(key, f"{SPEC_ID}.{SPEC_TIMESTAMP}.".encode() + SPEC_BODY, hashlib.sha256).digest()
    assert headers == {
        ID_HEADER: SPEC_ID,
        TIMESTAMP_HEADER: str(SPEC_TIMESTAMP),
        SIGNATURE_HEADER: SPEC_SIGNATURE,
    }
    assert SPEC_SIGNATURE == "v1," + base64.b64encode(by_hand).decode()


def test_the_standard_webhooks_library_verifies_our_headers_and_rejects_a_changed_body_id_or_secret() -> None:
    headers = signature_headers(SPEC_SECRET, "conv-1:7", b'{"Id":"conv-1:7"}', timestamp=int(time.time()))

    assert Webhook(SPEC_SECRET).verify(b'{"Id":"conv-1:7"}', headers) == {"Id": "conv-1:7"}
    with pytest.raises(WebhookVerificationError):
        Webhook(SPEC_SECRET).verify(b'{"Id":"conv-1:8"}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(SPEC_SECRET).verify(b'{"Id":"conv-1:7"}', {**headers, ID_HEADER: "conv-1:8"})
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRETS["bot-a"]).verify(b'{"Id":"conv-1:7"}', headers)


@pytest.mark.parametrize("secret", ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_a"])
def test_a_secret_not_written_whsec_and_base64_is_refused(secret: str) -> None:
    with pytest.raises(BadSecret, match="whsec_"):
        signature_headers(secret, "c:1", b"{}", timestamp=SPEC_TIMESTAMP)


def test_each_conversation_is_signed_with_the_secret_of_its_client_and_the_id_is_stable_across_retries(
    store: EventStore, receiver: Receiver, deliverer: WebhookDeliverer
) -> None:
    receiver.fail("of-a", times=2, status=503)
    append(store, "of-a", whole("of-a", receiver.url("of-a"), client_id="bot-a"))
    append(store, "older", whole("older", receiver.url("older"), client_id=None))

    receiver.wait_until(lambda r: all(len(r.accepted(c)) == len(told(store, c)) for c in ("of-a", "older")))

    for conversation_id, client_id in (("of-a", "bot-a"), ("older", None)):
        for received in receiver.attempts(conversation_id):
            assert Webhook(SECRETS[client_id]).verify(received.body, received.headers) == received.message
            assert received.headers[ID_HEADER] == received.message["Id"]
    first = receiver.attempts("of-a")[:3]
    assert {r.headers[ID_HEADER] for r in first} == {told(store, "of-a")[0]}  # the first message, tried three times


def test_a_conversation_whose_client_has_no_secret_is_refused_and_logged_without_any_secret(
    store: EventStore, receiver: Receiver, deliverer: WebhookDeliverer, caplog: pytest.LogCaptureFixture
) -> None:
    append(store, "stranger", whole("stranger", receiver.url("stranger"), client_id="revoked-bot"))
    append(store, "after", whole("after", receiver.url("after"), client_id="bot-a"))

    receiver.wait_until(lambda r: len(r.accepted("after")) == len(told(store, "after")))
    eventually(lambda: deliverer.stats().refused == len(told(store, "stranger")))

    assert receiver.attempts("stranger") == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    for message_id in told(store, "stranger"):
        assert any(f"conversation stranger cannot take {message_id}: no signing secret for API client 'revoked-bot'"
                   in line for line in warnings)
    assert not any(secret in line for line in warnings for secret in SECRETS.values())


def test_the_readme_recipe_verifies_a_delivered_post_as_written(
    store: EventStore, receiver: Receiver, deliverer: WebhookDeliverer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recipe = next(block for block in re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
                  if "from standardwebhooks import" in block)
    secret_file = re.search(r'Path\("([^"]+)"\)', recipe)
    assert secret_file is not None, "the recipe reads the secret from a file"
    monkeypatch.chdir(tmp_path)
    Path(secret_file.group(1)).write_text(SECRETS["bot-a"] + "\n")  # as secret files are written: a last newline
    append(store, "bot", whole("bot", receiver.url("bot"), client_id="bot-a"))
    receiver.wait_until(lambda r: len(r.accepted("bot")) == len(told(store, "bot")))
    bot: dict = {}

    exec(compile(recipe, str(README), "exec"), bot)  # noqa: S102 -- the README's own code, run as a bot would

    for received in receiver.accepted("bot"):
        assert bot["message_from_the_worker"](received.body, received.headers) == received.message
    forged = receiver.accepted("bot")[0]
    assert bot["message_from_the_worker"](forged.body.replace(b"Ana", b"Eve"), forged.headers) is None
