from __future__ import annotations

import base64

import pytest

from net import ConnectTimedOut, HttpAnswer, post
from tests.delivery.receiver import Receiver

JSON = {"Content-Type": "application/json"}


def test_posts_to_one_host_reuse_one_kept_alive_connection(receiver: Receiver) -> None:
    answers = [post(receiver.url(f"c{n}"), b'{"Id": "c:1"}', JSON, timeout=5) for n in range(5)]

    assert answers == [HttpAnswer(200, b"")] * 5
    assert receiver.connections == 1


def test_an_error_status_is_an_answer_and_a_redirect_is_not_followed(receiver: Receiver) -> None:
    receiver.fail("moved", times=1, status=307)
    receiver.fail("broken", times=1, status=503)

    assert post(receiver.url("moved"), b'{"Id": "c:1"}', JSON, timeout=5).status == 307
    assert post(receiver.url("broken"), b'{"Id": "c:1"}', JSON, timeout=5).status == 503
    assert [r.conversation_id for r in receiver.requests] == ["moved", "broken"]


def test_no_proxy_is_taken_from_the_environment(receiver: Receiver, closed_port: int,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{closed_port}")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)

    assert post(receiver.url("direct"), b'{"Id": "c:1"}', JSON, timeout=5).status == 200


def test_network_failures_raise_the_sockets_own_errors(closed_port: int, silent_port: int) -> None:
    with pytest.raises(ConnectionRefusedError):
        post(f"http://127.0.0.1:{closed_port}/hook", b"{}", JSON, timeout=5)
    with pytest.raises(TimeoutError):
        post(f"http://127.0.0.1:{silent_port}/hook", b"{}", JSON, timeout=0.2)


def test_a_connection_that_is_not_made_in_time_is_told_from_an_answer_that_does_not_come(
    full_port: int, silent_port: int
) -> None:
    with pytest.raises(ConnectTimedOut):
        post(f"http://127.0.0.1:{full_port}/hook", b"{}", JSON, timeout=5, connect_timeout=0.2)
    with pytest.raises(TimeoutError) as read:
        post(f"http://127.0.0.1:{silent_port}/hook", b"{}", JSON, timeout=0.2, connect_timeout=5)
    assert not isinstance(read.value, ConnectTimedOut)


def test_requests_that_cannot_be_made_raise_before_anything_is_sent(receiver: Receiver) -> None:
    with pytest.raises(UnicodeError):
        post(f"http://{'a' * 64}.example/hook", b"{}", JSON, timeout=5)
    with pytest.raises(ValueError):
        post("http://[::1", b"{}", JSON, timeout=5)
    with pytest.raises(ValueError):
        post(receiver.url("bad-header"), b"{}", {**JSON, "webhook-id": "c:1\n"}, timeout=5)
    assert receiver.requests == []


def test_a_url_with_user_info_is_sent_with_it_as_basic_authentication(receiver: Receiver) -> None:
    with_user = receiver.url("basic").replace("http://", "http://bot%40shop:p%3Ass@")
    non_ascii = receiver.url("utf8").replace("http://", "http://b%C3%B6t:p%C3%A4ss%E2%82%AC@")
    given = receiver.url("own").replace("http://", "http://bot:ignored@")

    post(with_user, b"{}", JSON, timeout=5)
    post(non_ascii, b"{}", JSON, timeout=5)
    post(given, b"{}", {**JSON, "authorization": "Bearer the-callers"}, timeout=5)
    post(receiver.url("none"), b"{}", JSON, timeout=5)

    sent = {r.conversation_id: r.headers.get("authorization") for r in receiver.requests}
    assert sent == {
        "basic": "Basic " + base64.b64encode(b"bot@shop:p:ss").decode(),
        "utf8": "Basic " + base64.b64encode("böt:päss€".encode()).decode(),  # UTF-8, as curl sends it
        "own": "Bearer the-callers",
        "none": None,
    }


def test_an_answer_longer_than_the_limit_is_cut_there_and_its_connection_is_not_kept(receiver: Receiver) -> None:
    receiver.answer_with("long", b"x" * 100_000)
    receiver.answer_with("short", b"y" * 50)

    long_answer = post(receiver.url("long"), b"{}", JSON, timeout=5, answer_limit=100)
    short_answers = [post(receiver.url("short"), b"{}", JSON, timeout=5, answer_limit=100) for _ in range(3)]

    assert long_answer == HttpAnswer(200, b"x" * 100)
    assert short_answers == [HttpAnswer(200, b"y" * 50)] * 3
    assert receiver.connections == 2  # one for the cut answer, closed; one kept for the three short ones
