"""Each known finding of the API fuzz (`findings.py`), reproduced by hand as a strict xfail.

When the code owned elsewhere is fixed, its test here passes, which fails the run as XPASS: then
remove the test and its entry in `findings.py` together.
"""

from __future__ import annotations

import pytest
import requests

from tests.fuzz.conftest import FuzzTarget
from tests.fuzz.findings import KNOWN_FINDINGS, TOO_BIG_FOR_SQLITE

REASONS = {finding.name: finding.reason for finding in KNOWN_FINDINGS}
TIMEOUT = 5.0


def is_code_message(answer: requests.Response) -> bool:
    body = answer.json()
    return isinstance(body, dict) and set(body) == {"Code", "Message"}


@pytest.mark.xfail(strict=True, reason=REASONS["method-not-allowed-is-plain-text"])
def test_a_method_a_route_does_not_serve_is_answered_code_message(fuzz_target: FuzzTarget, api_token: str) -> None:
    answer = requests.request(
        "TRACE", f"{fuzz_target.api_url}/openapi.json", headers={"Authorization": f"Bearer {api_token}"}, timeout=TIMEOUT
    )
    assert answer.status_code == 405
    assert is_code_message(answer)


@pytest.mark.xfail(strict=True, reason=REASONS["pull-stream-errors-are-not-code-message"])
def test_the_pull_stream_answers_an_unknown_conversation_code_message(fuzz_target: FuzzTarget, api_token: str) -> None:
    answer = requests.get(
        f"{fuzz_target.api_url}/v1/conversations/nobody/events",
        headers={"Authorization": f"Bearer {api_token}"},
        timeout=TIMEOUT,
    )
    assert answer.status_code == 404
    assert is_code_message(answer)


@pytest.fixture(scope="module")
def live_conversation(fuzz_target: FuzzTarget, api_token: str) -> str:
    transfer = requests.post(
        f"{fuzz_target.api_url}/v1/conversations",
        json={"ConversationId": "known-findings", "WorkerId": fuzz_target.worker_id, "BotName": "Fuzzy", "DeliverTo": None},
        headers={"Authorization": f"Bearer {api_token}"},
        timeout=TIMEOUT,
    )
    assert transfer.status_code == 201, transfer.text
    return "known-findings"


@pytest.mark.parametrize(
    "after",
    [
        pytest.param(
            str(TOO_BIG_FOR_SQLITE),
            marks=pytest.mark.xfail(strict=True, reason=REASONS["pull-stream-after-beyond-sqlite-integer"]),
        ),
        pytest.param("²", marks=pytest.mark.xfail(strict=True, reason=REASONS["pull-stream-after-unicode-digit"])),
    ],
)
def test_the_pull_stream_answers_a_bad_after_below_500(
    fuzz_target: FuzzTarget, api_token: str, live_conversation: str, after: str
) -> None:
    answer = requests.get(
        f"{fuzz_target.api_url}/v1/conversations/{live_conversation}/events",
        params={"after": after},
        headers={"Authorization": f"Bearer {api_token}"},
        timeout=TIMEOUT,
    )
    assert answer.status_code < 500
