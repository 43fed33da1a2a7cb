"""Each reference's name in Secrets Manager, and the reference back from the name."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vault import TYPES, VaultRef, parse_reference
from vault.secret_names import reference_of, secret_name


@pytest.mark.parametrize(
    ("reference", "name"),
    [
        ("srn:vault::acme:secret:squeeze", "connect-worker/acme/secret/squeeze"),
        ("srn:vault::YOURORG:aws-cross-account-role:connect", "connect-worker/YOURORG/aws-cross-account-role/connect"),
        ("srn:vault::my.org:secretdoc:a_b+c@d-e", "connect-worker/my.org/secretdoc/a_b+c@d-e"),
        ("srn:vault::acme/eu:secret:a=b", "connect-worker/acme=2Feu/secret/a=3Db"),
        ("srn:vault::acme:secret:clé", "connect-worker/acme/secret/cl=C3=A9"),
    ],
)
def test_a_reference_is_named_readably_and_read_back(reference: str, name: str) -> None:
    assert secret_name(parse_reference(reference)) == name
    assert reference_of(name) == parse_reference(reference)


@pytest.mark.parametrize(
    "name",
    [
        "prod/db-password",
        "connect-worker/acme/secret",
        "connect-worker/acme/secret/squeeze/more",
        "connect-worker/acme/password/squeeze",
        "connect-worker/acme/secret/a=b",
        "connect-worker/acme/secret/a=3db",
        "connect-worker/acme/secret/=FF",
        "other/connect-worker/acme/secret/squeeze",
    ],
)
def test_a_name_the_vault_would_not_give_is_not_the_vaults(name: str) -> None:
    assert reference_of(name) is None


_PART = st.text(st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc"), blacklist_characters=":"), min_size=1)


@given(_PART, st.sampled_from(TYPES), _PART)
def test_every_reference_has_a_name_secrets_manager_takes_that_reads_back(org: str, type_: str, alias: str) -> None:
    reference = parse_reference(f"srn:vault::{org}:{type_}:{alias}")
    name = secret_name(reference)
    assert re.fullmatch(r"[A-Za-z0-9/_+=.@-]+", name)
    assert reference_of(name) == reference == VaultRef(org, type_, alias)
