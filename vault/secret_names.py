"""The name in Secrets Manager of each reference, and the reference back from a name.

    srn:vault::acme:secret:squeeze     <->  connect-worker/acme/secret/squeeze
    srn:vault::acme:secret:a/b         <->  connect-worker/acme/secret/a=2Fb

A name holds only letters, digits and / _ + = . @ -, so a part of the reference that holds anything
else ("/" and "=" included, which the name uses itself) has it written as "=" and the two hex digits
of each of its UTF-8 bytes. Every reference a worker file accepts has a name, and names read back.
"""

from __future__ import annotations

import re

from vault.errors import InvalidReference
from vault.references import VaultRef, parse_reference

PREFIX = "connect-worker/"

_KEPT = re.compile(r"[A-Za-z0-9_+.@-]")
_ESCAPED = re.compile(r"(?:=[0-9A-F]{2})+")


def secret_name(reference: VaultRef) -> str:
    return PREFIX + "/".join(_escape(part) for part in (reference.org, reference.type, reference.alias))


def reference_of(name: str) -> VaultRef | None:
    """The reference a secret of this name holds, or None for a secret that is not the vault's."""
    parts = name.removeprefix(PREFIX).split("/")
    if not name.startswith(PREFIX) or len(parts) != 3:
        return None
    try:
        org, type_, alias = (_unescape(part) for part in parts)
        reference = parse_reference(f"srn:vault::{org}:{type_}:{alias}")
    except (InvalidReference, UnicodeDecodeError):
        return None
    # Only the name the vault itself gives a reference: another spelling would read as a reference
    # whose own name is elsewhere.
    return reference if secret_name(reference) == name else None


def _escape(part: str) -> str:
    return "".join(c if _KEPT.fullmatch(c) else "".join(f"={b:02X}" for b in c.encode()) for c in part)


def _unescape(part: str) -> str:
    return _ESCAPED.sub(lambda run: bytes.fromhex(run.group().replace("=", "")).decode(), part)
