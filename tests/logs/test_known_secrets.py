"""KNOWN_SECRETS finds held tokens by their first characters (logs/scrub.py): every held value is still
scrubbed, wherever it sits in a line, whoever else holds it and whatever it shares with another."""

from __future__ import annotations

import logs

TOKEN = "participant-token-0123456789"


def test_each_of_many_conversations_tokens_is_scrubbed_wherever_it_is_in_the_line() -> None:
    known = logs.KnownSecrets()
    for index in range(20_000):
        known.hold(f"c-{index}", [f"pt-{index:06d}-AAECAwQFBgcI", f"ct-{index:06d}-ZYXWVUTSRQPO"])

    assert known.scrub("pt-000000-AAECAwQFBgcI") == "<redacted>"
    assert known.scrub("with ct-019999-ZYXWVUTSRQPO") == "with <redacted>"
    assert known.scrub("pt-012345-AAECAwQFBgcI and ct-012345-ZYXWVUTSRQPO.") == "<redacted> and <redacted>."
    assert known.scrub("pt-020000-AAECAwQFBgcI is no one's") == "pt-020000-AAECAwQFBgcI is no one's"


def test_tokens_that_begin_alike_are_each_scrubbed() -> None:
    known = logs.KnownSecrets()
    known.hold("c-1", [TOKEN])
    known.hold("c-2", [TOKEN + "-longer"])

    assert known.scrub(f"{TOKEN} then {TOKEN}-longer") == "<redacted> then <redacted>"
    known.release("c-2")
    assert known.scrub(f"{TOKEN}-longer") == "<redacted>-longer"


def test_a_token_two_conversations_hold_stays_scrubbed_until_both_let_it_go() -> None:
    known = logs.KnownSecrets()
    known.hold("c-1", [TOKEN])
    known.hold("c-2", [TOKEN])

    known.release("c-1")
    assert known.scrub(TOKEN) == "<redacted>"
    known.hold("c-2", ["connection-token-9876543210"])  # its new tokens: the old one is let go
    assert known.scrub(TOKEN) == TOKEN
    assert known.scrub("connection-token-9876543210") == "<redacted>"
