"""Whether a transfer's `DeliverTo` is a webhook URL the service may ever deliver to. Pure: no I/O.

The rule (api/README.md says the same):
- an absolute http or https URL with a host, that parses and whose host the
  idna codec accepts (labels of 1 to 63 characters);
- if the client has allowed hosts (`client create --allow-host`), the host is
  one of them, and then nothing else is asked: the operator chose it;
- otherwise its address, when the host is one, is not link-local or a cloud
  metadata endpoint (169.254.0.0/16, which holds 169.254.169.254, fe80::/10,
  and fd00:ec2::254), written in any form the resolver would take
  (`2852039166`, `0xa9.0xfe.0xa9.0xfe`, `::ffff:169.254.169.254`).
  Loopback stays allowed: the local sandbox's bots listen there.

Host names are not resolved here (that would be I/O, and the answer could
change before delivery): a name that resolves into those ranges is not
caught by this check.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import urllib.parse

REFUSED_NETWORKS = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::254/128"),
)
_SCHEMES = {"http", "https"}
# What the C resolver's inet_aton reads as an IPv4 address: 1 to 4 parts, decimal, octal or hex.
_INET_ATON_FORM = re.compile(r"[0-9a-fx.]+", re.IGNORECASE)
_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
_NAME_RULE = "labels of 1 to 63 letters, digits, - or _ between dots, as the idna codec takes them"


class BadHost(ValueError):
    pass


def deliver_to_problem(url: str, allowed_hosts: tuple[str, ...] = ()) -> str | None:
    """Why `url` can never be delivered to, in words; None when it may be."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port  # a port that is not a number from 0 to 65535 raises ValueError
    except ValueError as error:
        return f"not a URL ({error})"
    if port == 0:
        return "has port 0"
    if parts.scheme.lower() not in _SCHEMES:
        return "must be an http or https URL"
    if not parts.hostname:
        return "has no host"
    try:
        host = normalized_host(parts.hostname)
    except BadHost as error:
        return str(error)
    if allowed_hosts:
        if host not in allowed_hosts:
            return f"host {host!r} is not one this client may deliver to ({', '.join(allowed_hosts)})"
        return None
    address = _address(host)
    if address is not None and any(address in network for network in REFUSED_NETWORKS):
        return f"host {host!r} is a link-local or cloud metadata address, which is never a bot's webhook"
    return None


def normalized_host(text: str) -> str:
    """A URL's host as compared: lower case, an IPv6 address without brackets, a name as idna ASCII."""
    host = text.strip("[]").lower()
    if _address(host) is not None:
        return host
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_host = ""
    if not ascii_host or not all(_LABEL.fullmatch(label) for label in ascii_host.rstrip(".").split(".")):
        raise BadHost(f"host {text!r} is not a valid host name ({_NAME_RULE})")
    return ascii_host


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if not _INET_ATON_FORM.fullmatch(host):
            return None
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
