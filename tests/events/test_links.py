"""Finding the links of an agent's message and putting their short forms in."""

from __future__ import annotations

import pytest

from events.links import find_links, with_short_links


@pytest.mark.parametrize(
    ("text", "links"),
    [
        ("see https://shop.example/orders/42.", ["https://shop.example/orders/42"]),
        ("(https://en.wikipedia.org/wiki/Foo_(bar)) and http://a.example/x?y=1&z=2!", ["https://en.wikipedia.org/wiki/Foo_(bar)", "http://a.example/x?y=1&z=2"]),
        ("twice: https://a.example/ https://a.example/", ["https://a.example/"]),
        ("no link: ftp://a.example, www.example.com", []),
        ('"https://q.example/a"', ["https://q.example/a"]),
    ],
)
def test_links_are_found_without_the_punctuation_around_them(text: str, links: list[str]) -> None:
    assert find_links(text) == links


def test_short_forms_replace_the_links_they_map_and_leave_the_rest() -> None:
    text = "Track it at https://shop.example/orders/42. Terms: https://shop.example/terms"
    short = {"https://shop.example/orders/42": "https://sqz.example/a1"}
    assert with_short_links(text, short) == "Track it at https://sqz.example/a1. Terms: https://shop.example/terms"
