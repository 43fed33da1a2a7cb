"""Requests generated from api/openapi.json, valid and not, against the running service.

Every answer must be below 500; every 4xx must be JSON `{"Code", "Message"}`; every request must be
answered in time; and after the fuzz a conversation still goes through. Examples per operation are
fixed and derandomized, so a run is the same every time and stays within CI's budget (about 15 s);
pytest's summary prints how many requests went out and their statuses.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from api.app import OPENAPI_FILE
from tests.fuzz.conftest import FuzzTarget, Tally

EXAMPLES_PER_OPERATION = 100
# An answer that takes longer than this (plus the long poll's own `wait`) counts as a hang.
ANSWER_SECONDS = 5.0
# The live conversation's long polls are cut to this: how long a poll waits is the pull stream's
# tests' business, and a 30 s poll per example would not fit CI's budget.
LIVE_WAIT_SECONDS = 0.2
ROUND_TRIP_SECONDS = 15.0

schema = schemathesis.openapi.from_path(OPENAPI_FILE)
schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
fuzz_settings = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def session() -> requests.Session:
    return requests.Session()


@pytest.fixture(scope="module")
def live_conversation(fuzz_target: FuzzTarget, api_token: str, session: requests.Session) -> str:
    """A conversation handed over to the demo worker, for the fuzz to aim its path parameters at."""
    answer = session.post(
        f"{fuzz_target.api_url}/v1/conversations",
        json={"ConversationId": "fuzz-live", "WorkerId": fuzz_target.worker_id, "BotName": "Fuzzy", "DeliverTo": None},
        headers={"Authorization": f"Bearer {api_token}"},
        timeout=ANSWER_SECONDS,
    )
    assert answer.status_code == 201, answer.text
    return "fuzz-live"


def send(case: schemathesis.Case, target: FuzzTarget, token: str, session: requests.Session, tally: Tally) -> None:
    """Send `case` with the token and check the answer's status and shape."""
    timeout = ANSWER_SECONDS + _wait_of(case)
    try:
        answer = case.call(
            base_url=target.api_url, session=session, headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        )
    except requests.Timeout:
        pytest.fail(f"no answer within {timeout:.1f} s to {_described(case)}")
    tally.count(case.operation.label, answer.status_code)
    problem = _problem_with(answer)
    if problem is not None:
        pytest.fail(f"{problem}, to {_described(case)}")


@schema.parametrize()
@fuzz_settings
def test_any_request_gets_a_proper_answer(
    case: schemathesis.Case, fuzz_target: FuzzTarget, api_token: str, session: requests.Session, tally: Tally
) -> None:
    send(case, fuzz_target, api_token, session, tally)


@schema.include(path_regex=r"\{conversation_id\}").parametrize()
@fuzz_settings
def test_any_request_about_a_live_conversation_gets_a_proper_answer(
    case: schemathesis.Case,
    fuzz_target: FuzzTarget,
    api_token: str,
    session: requests.Session,
    tally: Tally,
    live_conversation: str,
) -> None:
    """The same, aimed at a conversation that exists, so that bodies and queries get past the lookup."""
    case.path_parameters = {**(case.path_parameters or {}), "conversation_id": live_conversation}
    if isinstance(case.query, dict) and _wait_of(case) > LIVE_WAIT_SECONDS:
        case.query = {**case.query, "wait": LIVE_WAIT_SECONDS}
    send(case, fuzz_target, api_token, session, tally)


def test_after_the_fuzz_a_conversation_still_goes_both_ways(
    fuzz_target: FuzzTarget, api_token: str, session: requests.Session
) -> None:
    """A transfer, the agent joining, a message and her echo, all through the API's pull stream."""
    api = _Bot(fuzz_target.api_url, api_token, session)
    status, body = api.call("POST", "/v1/conversations", {
        "ConversationId": "after-fuzz", "WorkerId": fuzz_target.worker_id, "BotName": "Botty", "DeliverTo": None,
    })
    assert status == 201, body
    api.wait_for_message(lambda m: m["Type"] == "AgentJoined", "the agent to join")
    status, body = api.call("POST", "/v1/conversations/after-fuzz/messages", {"MessageId": "m-1", "Text": "still there?"})
    assert status == 202, body
    echo = api.wait_for_message(lambda m: m.get("Text") == "You said: still there?", "the agent's echo")
    assert echo["Type"] == "AgentMessage"


class _Bot:
    """A bot on the API: calls, and reads the pull stream of `after-fuzz`."""

    def __init__(self, url: str, token: str, session: requests.Session) -> None:
        self.url, self.session = url, session
        self.headers = {"Authorization": f"Bearer {token}"}
        self.after = 0

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        answer = self.session.request(method, self.url + path, json=body, headers=self.headers, timeout=ANSWER_SECONDS)
        return answer.status_code, answer.json()

    def wait_for_message(self, wanted: Callable[[dict], bool], what: str) -> dict:
        deadline = time.monotonic() + ROUND_TRIP_SECONDS
        while time.monotonic() < deadline:
            status, body = self.call("GET", f"/v1/conversations/after-fuzz/events?after={self.after}&wait=1")
            assert status == 200, body
            self.after = body["Next"]
            for message in body["Events"]:
                if wanted(message):
                    return message
        raise AssertionError(f"timed out waiting for {what}")


def _wait_of(case: schemathesis.Case) -> float:
    """The long poll's `wait` the case asks for, if it is a number (0 otherwise)."""
    wait = (case.query or {}).get("wait") if isinstance(case.query, dict) else None
    try:
        seconds = float(wait)
    except (TypeError, ValueError):
        return 0.0
    return min(max(seconds, 0.0), 30.0) if seconds == seconds else 0.0


def _problem_with(answer: schemathesis.Response) -> str | None:
    """What is wrong with an answer: a 5xx, or a 4xx whose body is not JSON {"Code", "Message"}."""
    if answer.status_code >= 500:
        return f"{answer.status_code} {answer.text[:500]!r}"
    if answer.status_code < 400:
        return None
    try:
        body = json.loads(answer.content)
    except ValueError:
        body = None
    if isinstance(body, dict) and set(body) == {"Code", "Message"} and all(isinstance(v, str) for v in body.values()):
        return None
    return f'{answer.status_code} {answer.text[:500]!r} is not {{"Code", "Message"}}'


def _described(case: schemathesis.Case) -> str:
    return case.as_curl_command(headers={"Authorization": "Bearer TOKEN"})
