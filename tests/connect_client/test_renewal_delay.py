"""When a chat socket starts its renewal (connect_client/chat_socket.py `renewal_delay`): pure, no I/O."""

from __future__ import annotations

import collections
import random

from connect_client.chat_socket import SocketSettings, renewal_delay
from retry import JITTER

HOUR = 3600.0


def test_sockets_opened_together_renew_spread_over_ten_minutes_before_the_last_one() -> None:
    settings = SocketSettings()
    rng = random.Random(7)

    delays = [renewal_delay(HOUR, settings, rng.random()) for _ in range(5000)]

    assert min(delays) >= HOUR - 60 - 600 and max(delays) <= HOUR - 60
    per_minute = collections.Counter(int(delay // 60) for delay in delays)
    assert len(per_minute) == 10  # every minute of the window has its share
    assert max(per_minute.values()) < 2 * 5000 / 10


def test_a_short_lived_socket_is_never_renewed_before_half_its_life() -> None:
    settings = SocketSettings()

    assert renewal_delay(100.0, settings, 0.99) == 50.0
    assert renewal_delay(100.0, settings, 0.0) == 50.0


def test_with_no_spread_a_socket_renews_its_margin_before_expiry() -> None:
    settings = SocketSettings(renew_spread=0.0)

    assert renewal_delay(HOUR, settings, 0.5) == HOUR - 60


def test_sockets_settings_by_default_share_the_process_jitter_and_backoffs() -> None:
    # Made for every socket: a Random of its own (and one in each of its two backoffs) was 8.7 KB a chat.
    one, other = SocketSettings(), SocketSettings()
    assert one.renew_rng is other.renew_rng is one.reconnect_backoff.rng is one.connection_backoff.rng is JITTER
