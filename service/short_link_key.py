"""The short-link API's key (a worker's `ShortLinkConfig.Config.ApiKey`, a `secret` reference), read
from the vault at each use, so a key put with `run.py secret put` works without a restart.

A reference the vault does not hold means no key: the links go as written and the short links say
so (actors/short_links.py). A vault that cannot answer, or a reference of another type, says why in
one warning; neither ever stops a message.
"""

from __future__ import annotations

import logging

from actors.short_links import Secret
from vault import SecretNotFound, Vault, VaultError, parse_reference, read_text

log = logging.getLogger(__name__)

WHERE = "ShortLinkConfig.Config.ApiKey"


def short_link_key(vault: Vault) -> Secret:
    def key(reference: str) -> str | None:
        try:
            return read_text(vault, parse_reference(reference, where=WHERE), where=WHERE)
        except SecretNotFound:
            return None
        except VaultError as error:
            log.warning("short links: no key: %s", error)
            return None

    return key
