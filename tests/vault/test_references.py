"""Vault references: `srn:vault::ORG:TYPE:ALIAS` with a type the vault knows, parsed or refused in words."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.worker_config import SecretSrn
from vault import InvalidReference, VaultRef, parse_reference, require_type


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("srn:vault::acme:aws-cross-account-role:connect", VaultRef("acme", "aws-cross-account-role", "connect")),
        ("srn:vault::YOURORG:cross-account-role:connect", VaultRef("YOURORG", "cross-account-role", "connect")),
        ("srn:vault::acme:secret:squeeze", VaultRef("acme", "secret", "squeeze")),
        ("srn:vault::YOURORG:secretdoc:translatesecret", VaultRef("YOURORG", "secretdoc", "translatesecret")),
        ("srn:vault::my.org-2:secret:key/with=odd@chars", VaultRef("my.org-2", "secret", "key/with=odd@chars")),
    ],
)
def test_the_seeds_references_are_parsed_and_written_back_as_they_were(text: str, expected: VaultRef) -> None:
    reference = parse_reference(text)
    assert reference == expected
    assert str(reference) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hunter2-the-api-key",
        "srn:vault::acme:secret",
        "srn:vault::acme:secret:squeeze:extra",
        "srn:vault:acme:secret:squeeze",
        "srn:vault::acme:secret:",
        "srn:vault:::secret:squeeze",
        "srn:vault::ac me:secret:squeeze",
        "srn:vault::acme:secret:squeeze\n",
        "arn:aws:iam::123456789012:role/connect",
    ],
)
def test_a_malformed_reference_is_refused_without_repeating_it(text: str) -> None:
    with pytest.raises(InvalidReference) as caught:
        parse_reference(text)
    assert str(caught.value) == "expected a vault reference srn:vault::ORG:TYPE:ALIAS, got something else"


def test_an_unknown_type_is_named_with_the_types_there_are() -> None:
    with pytest.raises(InvalidReference) as caught:
        parse_reference("srn:vault::acme:password:squeeze")
    assert str(caught.value) == (
        "unknown vault type 'password'; the types are aws-cross-account-role, cross-account-role, secret, secretdoc"
    )


def test_the_caller_says_where_the_reference_was_found() -> None:
    with pytest.raises(InvalidReference, match=r"^worker w-1: \$\.Data\.Secret: expected a vault reference"):
        parse_reference("not one", where="worker w-1: $.Data.Secret")


def test_a_reference_of_the_wrong_type_is_refused_for_a_use_that_needs_another() -> None:
    key = parse_reference("srn:vault::acme:secret:squeeze")
    assert require_type(key, "secret") is key
    with pytest.raises(InvalidReference) as caught:
        require_type(key, "aws-cross-account-role", "cross-account-role", where="$.Data.Secret")
    assert str(caught.value) == (
        "$.Data.Secret: srn:vault::acme:secret:squeeze is a secret reference;"
        " this needs one of type aws-cross-account-role or cross-account-role"
    )


def _worker_file_accepts(text: str) -> bool:
    try:
        msgspec.convert(text, SecretSrn)
    except msgspec.ValidationError:
        return False
    return True


_PARTS = st.sampled_from(["acme", "secret", "secretdoc", "cross-account-role", "aws-cross-account-role", "x"])


@given(
    st.one_of(
        st.text(max_size=40),
        st.builds(lambda *parts: "srn:vault::" + ":".join(parts), _PARTS, _PARTS, _PARTS),
        st.builds(
            lambda org, type_, alias: f"srn:vault::{org}:{type_}:{alias}", st.text(max_size=8), _PARTS, st.text(max_size=8)
        ),
    )
)
def test_the_vault_parses_exactly_what_a_worker_file_accepts_with_a_known_type(text: str) -> None:
    try:
        reference = parse_reference(text)
    except InvalidReference as error:
        assert not _worker_file_accepts(text) or "unknown vault type" in str(error)
    else:
        assert _worker_file_accepts(text) and str(reference) == text
