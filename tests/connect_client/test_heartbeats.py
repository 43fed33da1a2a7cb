"""The heartbeat rule, with time given by the test."""

from __future__ import annotations

from connect_client.heartbeats import Beat, Heartbeats


def test_a_heartbeat_is_sent_each_interval_while_they_are_answered() -> None:
    beats = Heartbeats.starting(now=100.0, interval=10.0)

    assert beats.check(109.9) is Beat.WAIT
    assert beats.check(110.0) is Beat.SEND
    assert beats.seconds_left(112.5) == 7.5
    beats.answered()
    assert beats.check(119.0) is Beat.WAIT
    assert beats.check(120.0) is Beat.SEND


def test_a_heartbeat_unanswered_by_the_next_tick_means_a_dead_socket() -> None:
    beats = Heartbeats.starting(now=0.0, interval=10.0)
    assert beats.check(10.0) is Beat.SEND

    assert beats.check(19.9) is Beat.WAIT
    assert beats.check(20.0) is Beat.DEAD


def test_a_late_check_sends_once_and_waits_a_full_interval_for_the_answer() -> None:
    beats = Heartbeats.starting(now=0.0, interval=10.0)

    assert beats.check(35.0) is Beat.SEND
    assert beats.check(44.0) is Beat.WAIT
    assert beats.seconds_left(50.0) == 0.0
    assert beats.check(45.0) is Beat.DEAD
