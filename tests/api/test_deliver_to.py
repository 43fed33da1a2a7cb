"""The rule for a transfer's DeliverTo (api/deliver_to.py): what can never be delivered to is refused."""

from __future__ import annotations

import pytest

from api.deliver_to import BadHost, deliver_to_problem, normalized_host


@pytest.mark.parametrize(
    "url",
    [
        "https://bot.example/hook",
        "http://127.0.0.1:8080/hook",  # loopback: the local sandbox's bots
        "http://[::1]:8080/hook",
        "http://localhost/hook",
        "https://bücher.example/hook",  # a name the idna codec takes
        "http://10.0.0.7/hook",
        "http://[fd00:ec2::253]/",  # next to the metadata address, not it
    ],
)
def test_urls_that_can_be_delivered_to_are_taken(url: str) -> None:
    assert deliver_to_problem(url) is None


@pytest.mark.parametrize(
    "url, why",
    [
        ("http://[::1", "not a URL"),
        ("http://bot.example:99999/", "not a URL"),
        ("http://bot.example:0/", "has port 0"),
        ("mailto:bot@example.com", "must be an http or https URL"),
        ("//bot.example/hook", "must be an http or https URL"),
        ("https://", "has no host"),
        ("http://" + "a" * 64 + ".example/", "is not a valid host name"),
        ("http://a..example/", "is not a valid host name"),
        ("http://exa mple/", "is not a valid host name"),
    ],
)
def test_urls_that_are_no_webhook_are_refused(url: str, why: str) -> None:
    problem = deliver_to_problem(url)
    assert problem is not None and why in problem


@pytest.mark.parametrize(
    "host",
    [
        "169.254.169.254",
        "169.254.0.1",
        "[fe80::1]",
        "[fd00:ec2::254]",
        "[::ffff:169.254.169.254]",  # IPv4-mapped
        "2852039166",  # 169.254.169.254 as one number, as the resolver reads it
        "0xa9.0xfe.0xa9.0xfe",  # in hex
        "0251.0376.0251.0376",  # in octal
    ],
)
def test_link_local_and_metadata_addresses_are_refused_in_every_form(host: str) -> None:
    problem = deliver_to_problem(f"http://{host}/latest/meta-data/")
    assert problem is not None and "link-local or cloud metadata" in problem


def test_with_allowed_hosts_only_they_are_taken_and_they_are_the_operators_choice() -> None:
    allowed = ("bot.example", "169.254.10.10")
    assert deliver_to_problem("https://BOT.example/hook", allowed) is None
    assert deliver_to_problem("http://169.254.10.10/", allowed) is None
    problem = deliver_to_problem("https://other.example/hook", allowed)
    assert problem is not None and "'other.example' is not one this client may deliver to" in problem


def test_hosts_are_compared_normalized() -> None:
    assert normalized_host("BOT.Example") == "bot.example"
    assert normalized_host("[FE80::1]") == "fe80::1"
    assert normalized_host("bücher.example") == "xn--bcher-kva.example"
    with pytest.raises(BadHost):
        normalized_host("a" * 64)
